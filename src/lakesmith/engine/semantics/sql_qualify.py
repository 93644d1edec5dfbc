"""`QUALIFY condition`: the engine's parser has no QUALIFY. Spark filters a block's rows by the
condition after its window functions are computed and before DISTINCT, ORDER BY and LIMIT; the
same is written as a subquery that computes the condition as one more column, filtered outside:

    SELECT <the block's columns> FROM (SELECT <items>, (condition) AS q FROM ...) WHERE q
        [ORDER BY ...] [LIMIT ...]

Lateral aliases in the condition (`QUALIFY rn = 1` where `rn` is a select alias) are resolved
first (`sql_lateral_alias`)."""

from __future__ import annotations

import re
from typing import Any

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.engine.semantics.sql_blocks import SelectBlock, tokens_of
from lakesmith.engine.semantics.sql_scope import output_columns
from lakesmith.engine.sql_dialect import DIALECT
from lakesmith.errors import LakesmithError, NotSupportedYet

QUALIFY_COLUMN = "__lakesmith_qualify"
# Clauses that apply after QUALIFY: they move to the outer query.
_AFTER = ("order", "sort", "cluster", "distribute", "limit", "offset")


def rewrite_qualify(spark: Any, text: str, block: SelectBlock) -> str:
    start, end = block.clauses["qualify"]
    written = text[start:end]
    condition = f"({text[start + len('QUALIFY'):end].strip()}) AS `{QUALIFY_COLUMN}`"
    distinct = bool(block.items) and text[block.start + len("SELECT"):block.items[0].start] \
        .strip().upper() == "DISTINCT"
    kept_clauses = []
    position = block.start
    after: dict[str, str] = {}
    for name, (s, e) in sorted(block.clauses.items(), key=lambda kv: kv[1][0]):
        if name == "qualify" or name in _AFTER:
            kept_clauses.append(text[position:s])
            position = e
            if name in _AFTER:
                after[name] = text[s:e]
    kept_clauses.append(text[position:block.end])
    body = "".join(kept_clauses).rstrip()
    last_item_end = block.items[-1].end - block.start
    if distinct:  # applies after the filter: moved to the outer query
        at = text.upper().index("DISTINCT", block.start) - block.start
        body = body[:at] + body[at + len("DISTINCT"):]
        last_item_end -= len("DISTINCT")

    def inner(extra: list[str]) -> str:
        return body[:last_item_end] + "".join(", " + e for e in extra) + body[last_item_end:]

    def outer(columns: list[str], tail: list[str]) -> str:
        names = ", ".join("`" + c.replace("`", "``") + "`" for c in columns)
        return (f"SELECT {'DISTINCT ' if distinct else ''}{names} FROM ({inner(extras)}) "
                f"WHERE `{QUALIFY_COLUMN}`" + "".join(" " + t for t in tail))

    extras = [condition]
    columns = _columns(spark, block.cte_prefix + inner(extras), written)
    rewritten = outer(columns[:-1], list(after.values()))
    sorting = [n for n in ("order", "sort") if n in after]
    if sorting and not distinct and \
            output_columns(spark, block.cte_prefix + rewritten) is None:
        # ORDER BY may name columns the block does not select: computed inside as well
        keys = _sort_keys(after[sorting[0]])
        extras = [condition, *(f"({k}) AS `{_ORDER_COLUMN}{i}`" for i, (k, _) in enumerate(keys))]
        columns = _columns(spark, block.cte_prefix + inner(extras), written)
        order = f"{after[sorting[0]].split()[0].upper()} BY " + ", ".join(
            f"`{_ORDER_COLUMN}{i}`{direction}" for i, (_, direction) in enumerate(keys))
        tail = [order if n == sorting[0] else clause for n, clause in after.items()]
        rewritten = outer(columns[:-len(extras)], tail)
    return text[:block.start] + rewritten + text[block.end:]


_ORDER_COLUMN = "__lakesmith_order_"
_DIRECTION = re.compile(r"(\s+(ASC|DESC))?(\s+NULLS\s+(FIRST|LAST))?\s*$", re.IGNORECASE)


def _sort_keys(clause: str) -> list[tuple[str, str]]:
    """`ORDER BY a DESC, f(b, c)` → [("a", " DESC"), ("f(b, c)", "")]."""
    tokens = tokens_of(clause) or []
    keys, depth, start = [], 0, tokens[1].start if len(tokens) > 1 else len(clause)
    for token in tokens[1:]:
        depth += (token.token_type == TokenType.L_PAREN) - (token.token_type == TokenType.R_PAREN)
        if token.token_type == TokenType.COMMA and depth == 0:
            keys.append(clause[start:token.start])
            start = token.end + 1
    keys.append(clause[start:])
    result = []
    for key in keys:
        match = _DIRECTION.search(key)
        assert match is not None  # the pattern matches the empty suffix
        result.append((key[:match.start()].strip(), match.group(0).rstrip()))
    return result


def _columns(spark: Any, query: str, written: str) -> list[str]:
    columns = output_columns(spark, query)
    if columns is None:
        raise NotSupportedYet(
            f"{written}: the engine has no QUALIFY, and lakesmith could not analyse the query "
            "block it filters on its own (it reads an outer query's columns) to rewrite it.",
            hint="filter on the window function in an outer query: SELECT * FROM (SELECT ..., "
            "row_number() OVER (...) AS rn ...) WHERE rn = 1.")
    kept = [c for c in columns if c != QUALIFY_COLUMN and not c.startswith(_ORDER_COLUMN)]
    if len({c.lower() for c in kept}) < len(kept):
        raise NotSupportedYet(
            f"{written}: the query block it filters has duplicate column names "
            f"({', '.join(kept)}); lakesmith rewrites QUALIFY as a subquery, which needs "
            "distinct names.", hint="give the columns distinct aliases.")
    return columns


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

