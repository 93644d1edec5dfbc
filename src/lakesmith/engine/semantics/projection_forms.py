"""`* EXCEPT (...)` and lateral column aliases in a DataFrame projection
(`df.selectExpr("qty * 2 AS dbl", "dbl + 1 AS v")`, `df.selectExpr("* EXCEPT (a)")`), which
Spark resolves as in SQL and the engine does not. The projection's SQL expression strings are
written as one select list, rewritten by the SQL rewrites (`sql_star_except`,
`sql_lateral_alias`) against the input DataFrame's columns, and cut back into expressions;
expressions that are not SQL text stay as they are."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import proto

_OPAQUE = "__lakesmith_expression_{}"  # stands for an expression that is not SQL text
_SELECT = "SELECT "


def rewrite_projection_forms(project: Any, input_df: Any) -> None:
    """Rewrite `project` (a Project relation's body) in place."""
    if input_df is None or not any(e.WhichOneof("expr_type") == "expression_string"
                                   for e in project.expressions):
        return
    # sqlglot (under these) is imported only for a projection with SQL text
    from lakesmith.engine.semantics.sql_lateral_alias import resolve_lateral_aliases
    from lakesmith.engine.semantics.sql_scope import DataFrameScope
    from lakesmith.engine.semantics.sql_star_except import expand_star_except, is_star_except

    opaque: dict[str, proto.Expression] = {}
    items = []
    for i, expression in enumerate(project.expressions):
        if expression.WhichOneof("expr_type") == "expression_string":
            items.append(expression.expression_string.expression)
        else:
            name = _OPAQUE.format(i)
            opaque[name] = expression
            items.append(f"`{name}`")
    text = _SELECT + ", ".join(items)
    block = _block(text)
    if block is None or len(block.items) != len(items):
        return  # not one select list: an expression string that is not a single item
    scope = DataFrameScope(input_df)
    rewritten = text
    while (star := next((i for i in block.items if is_star_except(i)), None)) is not None:
        rewritten = expand_star_except(scope, rewritten, star)
        block = _block(rewritten)
        if block is None:
            return
    rewritten = resolve_lateral_aliases(scope, rewritten, block)
    if rewritten == text:
        return
    block = _block(rewritten)
    if block is None:
        return
    expressions = []
    for item in block.items:
        written = rewritten[item.start:item.end]
        if written.strip("`") in opaque:
            expressions.append(opaque[written.strip("`")])
            continue
        expression = proto.Expression()
        expression.expression_string.expression = written
        expressions.append(expression)
    del project.expressions[:]
    project.expressions.extend(expressions)


def _block(text: str) -> Any:
    from lakesmith.engine.semantics.sql_blocks import select_blocks

    blocks = [b for b in select_blocks(text) if b.depth == 0]
    return blocks[0] if len(blocks) == 1 and not blocks[0].clauses else None
