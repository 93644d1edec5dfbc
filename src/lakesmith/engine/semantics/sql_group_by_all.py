"""`GROUP BY ALL` and `ORDER BY ALL` (Spark 3.4+, Databricks): the engine reads ALL as a column
name and fails ("attribute ObjectName([Identifier("ALL")]) is missing from the schema").

Spark's rules (`ResolveGroupByAll`, `ResolveOrderByAll`): GROUP BY ALL groups by every select-list
item that contains no aggregate function (aggregates inside a scalar subquery do not count; one
over a window does); when no item is left and an item reads a column outside its aggregates
(`i + sum(j)`), the query fails with UNRESOLVED_ALL_IN_GROUP_BY; with no item left otherwise it is
a global aggregate. ORDER BY ALL [ASC|DESC] [NULLS FIRST|LAST] orders by every select-list
column in turn. Where the input or the select list has a column named `all`, ALL is that column.

The clause is rewritten into ordinals of those items (`GROUP BY 1, 3`, `ORDER BY 1 DESC, 2
DESC`): an ordinal means the item itself, so aliases and literals need no repetition of the
items' text; a `*` (one item to the engine's ordinals) becomes the columns it stands for."""

from __future__ import annotations

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.engine.semantics.sql_blocks import SelectBlock, SelectItem, tokens_of
from lakesmith.engine.semantics.sql_scope import Scope
from lakesmith.engine.sql_dialect import DIALECT
from lakesmith.errors import LakesmithError, NotSupportedYet

# Spark 4.3's aggregate functions (FunctionRegistry, group `agg_funcs`) sqlglot does not know as
# aggregates, by name; `grouping` and `grouping_id` are not aggregates in GROUP BY ALL's sense.
_MORE_AGGREGATES = frozenset({
    "any", "approx_top_k", "approx_top_k_accumulate", "approx_top_k_combine", "bit_and",
    "bit_or", "bit_xor", "bitmap_and_agg", "bitmap_construct_agg", "bitmap_or_agg", "bool_and",
    "bool_or", "collect_set", "collect_union", "corr", "count_min_sketch", "covar_pop",
    "covar_samp", "every", "histogram_numeric", "hll_sketch_agg", "hll_union_agg",
    "kll_merge_agg_bigint", "kll_merge_agg_double", "kll_merge_agg_float",
    "kll_sketch_agg_bigint", "kll_sketch_agg_double", "kll_sketch_agg_float", "kurtosis",
    "measure", "percentile_cont", "percentile_disc", "regr_avgx", "regr_avgy", "regr_count",
    "regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "skewness",
    "some", "std", "stddev", "stddev_pop", "stddev_samp", "string_agg", "theta_intersection_agg",
    "theta_sketch_agg", "theta_union_agg", "try_avg", "try_sum", "tuple_intersection_agg_double",
    "tuple_intersection_agg_integer", "tuple_sketch_agg_double", "tuple_sketch_agg_integer",
    "tuple_union_agg_double", "tuple_union_agg_integer", "var_pop", "var_samp", "variance",
})
_DIRECTIONS = {"ASC", "DESC"}


def is_group_by_all(text: str, block: SelectBlock) -> bool:
    return _all_clause(text, block, "group") is not None


def is_order_by_all(text: str, block: SelectBlock) -> bool:
    return _all_clause(text, block, "order") is not None


def _all_clause(text: str, block: SelectBlock, name: str) -> str | None:
    """The words after `GROUP BY ALL` / `ORDER BY ALL` ("" or e.g. "DESC NULLS LAST"), or None
    when the clause is something else."""
    clause = block.clause_text(text, name)
    tokens = tokens_of(clause) if clause is not None else None
    if not tokens or len(tokens) < 2 or tokens[1].token_type != TokenType.ALL:
        return None
    rest = [t.text.upper() for t in tokens[2:]]
    if name == "group":
        return "" if not rest else None
    words = rest[1:] if rest and rest[0] in _DIRECTIONS else rest
    if words not in ([], ["NULLS", "FIRST"], ["NULLS", "LAST"]):
        return None
    return " ".join(rest)


def rewrite_group_by_all(scope: Scope, text: str, block: SelectBlock) -> str:
    """`text` with the block's GROUP BY ALL made Spark's grouping (see the module)."""
    if _names_all(scope, text, block):
        return text
    keys: list[str] = []
    grouped_any, reads_column = False, False
    for position, item in enumerate(block.items, start=1):
        tree = None if item.star else _parse(text[item.start:item.end])
        if not item.star and tree is None:
            raise NotSupportedYet(
                f"GROUP BY ALL over the select-list item {text[item.start:item.end]!r}, "
                "which lakesmith cannot parse to tell whether it aggregates.",
                hint="name the grouping columns: GROUP BY a, b.")
        if tree is None or not _aggregates(tree):
            keys += _keys(scope, text, item, position)
            grouped_any = True
        elif _reads_column_outside_aggregates(tree):
            reads_column = True
    start, end = block.clauses["group"]
    if not grouped_any:
        if reads_column:
            raise LakesmithError(
                f"[UNRESOLVED_ALL_IN_GROUP_BY] {text[start:end].strip()}: cannot infer grouping "
                "columns for GROUP BY ALL based on the select clause (an item reads a column "
                "outside its aggregate functions). Please explicitly specify the grouping "
                "columns.",
                hint="name the grouping columns: GROUP BY a, b.")
        return text[:start] + " " + text[end:]  # a global aggregate
    text = text[:start] + f"GROUP BY {', '.join(keys)} " + text[end:]
    for item in reversed([i for i in block.items if i.star]):
        # the engine cannot plan `*` in an aggregate's select list: its columns, by name
        columns = ", ".join(_keys(scope, text, item, 0))
        text = text[:item.start] + columns + text[item.end:]
    return text


def rewrite_order_by_all(scope: Scope, text: str, block: SelectBlock) -> str:
    """`text` with the block's ORDER BY ALL made an ordering by each select-list column."""
    rest = _all_clause(text, block, "order")
    if rest is None or _names_all(scope, text, block):
        return text
    keys = [key for position, item in enumerate(block.items, start=1)
            for key in _keys(scope, text, item, position)]
    start, end = block.clauses["order"]
    suffix = f" {rest}" if rest else ""
    return text[:start] + f"ORDER BY {', '.join(k + suffix for k in keys)} " + text[end:]


def _names_all(scope: Scope, text: str, block: SelectBlock) -> bool:
    """Whether ALL names a column: a select-list item or an input column called `all`."""
    for item in block.items:
        tree = _parse(text[item.start:item.end])
        if tree is not None and tree.alias_or_name.lower() == "all":
            return True
    columns = scope.columns()
    return columns is not None and any(c.lower() == "all" for c in columns)


def _keys(scope: Scope, text: str, item: SelectItem, position: int) -> list[str]:
    """The item as grouping or ordering keys: its ordinal (the engine counts a `*` as one
    item), or for a `*` the columns it stands for, by name."""
    if not item.star:
        return [str(position)]
    kinds = [t.token_type for t in item.tokens]
    qualifier = None if kinds[0] == TokenType.STAR else text[item.start:item.end].rsplit(
        ".", 1)[0].strip()
    columns = scope.columns(qualifier)
    if columns is None or TokenType.EXCEPT in kinds:
        raise NotSupportedYet(
            f"GROUP BY ALL or ORDER BY ALL with {text[item.start:item.end]!r} in the select "
            "list: lakesmith could not find the columns it stands for.",
            hint="list the columns instead of the star.")
    prefix = f"{qualifier}." if qualifier else ""
    return [prefix + "`" + c.replace("`", "``") + "`" for c in columns]


def _parse(text: str) -> exp.Expr | None:
    try:
        return sqlglot.parse_one(text, read=DIALECT)
    except (ParseError, TokenError, ValueError):
        return None


def _is_aggregate(node: exp.Expr) -> bool:
    if isinstance(node, (exp.Grouping, exp.GroupingId)):
        return False
    if isinstance(node, exp.AggFunc):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in _MORE_AGGREGATES


def _own(tree: exp.Expr, node: exp.Expr) -> bool:
    """Whether `node` belongs to the item itself, not to a subquery inside it."""
    return node.find_ancestor(exp.Subquery, exp.Select) is None or tree is node


def _aggregates(tree: exp.Expr) -> bool:
    return any(_is_aggregate(f) and _own(tree, f) for f in tree.find_all(exp.Func))


def _reads_column_outside_aggregates(tree: exp.Expr) -> bool:
    for column in tree.find_all(exp.Column):
        if not _own(tree, column):
            continue
        parent = column.parent
        inside = False
        while parent is not None:
            if _is_aggregate(parent):
                inside = True
                break
            parent = parent.parent
        if not inside:
            return True
    return False
