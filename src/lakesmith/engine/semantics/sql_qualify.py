"""`QUALIFY condition`: the engine's parser has no QUALIFY. Spark filters a block's rows by the
condition after its window functions are computed and before DISTINCT, ORDER BY and LIMIT; the
same is written as a subquery that computes the condition as one more column, filtered outside:

    SELECT <the block's columns> FROM (SELECT <items>, (condition) AS q FROM ...) WHERE q
        [ORDER BY ...] [LIMIT ...]

Lateral aliases in the condition (`QUALIFY rn = 1` where `rn` is a select alias) are resolved
first (`sql_lateral_alias`)."""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.engine.semantics.sql_blocks import SelectBlock
from lakesmith.engine.semantics.sql_scope import output_columns
from lakesmith.engine.sql_dialect import DIALECT
from lakesmith.errors import LakesmithError, NotSupportedYet

QUALIFY_COLUMN = "__lakesmith_qualify"
# Clauses that apply after QUALIFY: they move to the outer query.
_AFTER = ("order", "sort", "cluster", "distribute", "limit", "offset")


def rewrite_qualify(spark: Any, text: str, block: SelectBlock) -> str:
    start, end = block.clauses["qualify"]
    condition = text[start + len("QUALIFY"):end].strip()
    written = text[start:end]
    distinct = bool(block.items) and text[block.start + len("SELECT"):block.items[0].start] \
        .strip().upper() == "DISTINCT"
    inner_parts = []
    position = block.start
    after: list[str] = []
    for name, (s, e) in sorted(block.clauses.items(), key=lambda kv: kv[1][0]):
        if name == "qualify" or name in _AFTER:
            inner_parts.append(text[position:s])
            position = e
            if name in _AFTER:
                after.append(text[s:e])
    inner_parts.append(text[position:block.end])
    inner = "".join(inner_parts).rstrip()
    last_item_end = block.items[-1].end - block.start
    inner = (inner[:last_item_end] + f", ({condition}) AS `{QUALIFY_COLUMN}`"
             + inner[last_item_end:])
    if distinct:
        inner = "SELECT " + inner[len("SELECT"):].lstrip()[len("DISTINCT"):]
    columns = output_columns(spark, block.cte_prefix + inner)
    if columns is None:
        raise NotSupportedYet(
            f"{written}: the engine has no QUALIFY, and lakesmith could not analyse the query "
            "block it filters on its own (it reads an outer query's columns) to rewrite it.",
            hint="filter on the window function in an outer query: SELECT * FROM (SELECT ..., "
            "row_number() OVER (...) AS rn ...) WHERE rn = 1.")
    kept = columns[:-1]
    if len({c.lower() for c in kept}) < len(kept):
        raise NotSupportedYet(
            f"{written}: the query block it filters has duplicate column names "
            f"({', '.join(kept)}); lakesmith rewrites QUALIFY as a subquery, which needs "
            "distinct names.", hint="give the columns distinct aliases.")
    outer = ", ".join("`" + c.replace("`", "``") + "`" for c in kept)
    rewritten = (f"SELECT {'DISTINCT ' if distinct else ''}{outer} FROM ({inner}) "
                 f"WHERE `{QUALIFY_COLUMN}`" + "".join(" " + a for a in after))
    return text[:block.start] + rewritten + text[block.end:]


def check_grouped_qualify(text: str, block: SelectBlock) -> None:
    """In a block that aggregates, Spark resolves QUALIFY against the select list's columns only
    (`QUALIFY rank() OVER (ORDER BY sum(qty))` fails: `qty` is not one of them); refused the
    same way rather than answered."""
    start, end = block.clauses["qualify"]
    trees = [_parse(text[i.start:i.end]) for i in block.items]
    grouped = "group" in block.clauses or any(
        agg.find_ancestor(exp.Window) is None
        for tree in trees if tree is not None for agg in tree.find_all(exp.AggFunc))
    condition = _parse(text[start + len("QUALIFY"):end])
    if not grouped or condition is None or any(t is None for t in trees):
        return
    outputs = {(t.alias_or_name or "").lower() for t in trees if t is not None}
    for column in condition.find_all(exp.Column):
        if column.find_ancestor(exp.Subquery, exp.Select) is None and \
                column.name.lower() not in outputs:
            raise LakesmithError(
                f"[UNRESOLVED_COLUMN.WITH_SUGGESTION] {text[start:end]}: the column "
                f"`{column.sql(dialect=DIALECT)}` cannot be resolved. In a query that "
                "aggregates, Apache Spark resolves QUALIFY against the select list's columns "
                f"only: {', '.join(sorted(n for n in outputs if n))}.",
                hint="select the expression with an alias and name the alias in QUALIFY.")


def _parse(text: str) -> exp.Expr | None:
    try:
        return sqlglot.parse_one(text, read=DIALECT)
    except (ParseError, TokenError, ValueError):
        return None

