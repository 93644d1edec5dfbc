"""GROUP BY expressions that lakesmith computes with a UDF (`strict_math`: `ln(x)`, `pow(x, 2)`,
...), referred to by ordinal where the select list repeats them.

The engine cannot plan a select-list expression that uses a grouping expression holding a
Python UDF ("No field named t."#0"": `SELECT ln(x), count(*) FROM t GROUP BY ln(x)` once `ln` is
Spark's UDF), but it can plan `GROUP BY 1`, which Spark defines to mean the same. So a grouping
expression equal to a select-list item becomes that item's ordinal before the rules rewrite the
text; one the select list uses inside a larger expression (`floor(ln(x)) + 1 ... GROUP BY
floor(ln(x))`) is refused with a way around it."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import TokenType, exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.engine.semantics.sql_blocks import SelectBlock, tokens_of
from lakesmith.engine.semantics.strict_math import calls_strict_function
from lakesmith.engine.sql_dialect import DIALECT
from lakesmith.errors import NotSupportedYet

_GROUPING_SETS = {TokenType.ROLLUP, TokenType.CUBE, TokenType.GROUPING_SETS, TokenType.ALL}
_SPACES = re.compile(r"\s+")


def needs_grouping_ordinals(text: str, block: SelectBlock) -> bool:
    clause = block.clause_text(text, "group")
    return clause is not None and calls_strict_function(clause) and any(
        not key.strip().isdigit() for key in _keys(clause))


def use_grouping_ordinals(text: str, block: SelectBlock) -> str:
    """`text` with the block's UDF grouping expressions that the select list repeats replaced
    by the items' ordinals."""
    start, end = block.clauses["group"]
    clause = text[start:end]
    keys = _keys(clause)
    if not keys:
        return text
    items = [_expression(text[i.start:i.end]) for i in block.items]
    written: list[str] = []
    changed = False
    for key_text in keys:
        if not calls_strict_function(key_text):
            written.append(key_text)
            continue
        normalized = _normalized(key_text)
        position = next((n for n, item in enumerate(items, start=1)
                         if item is not None and item == normalized), None)
        if position is not None:
            written.append(str(position))
            changed = True
            continue
        if any(item is not None and normalized in item for item in items):
            raise NotSupportedYet(
                f"GROUP BY {key_text.strip()} with a select-list expression built on it: the "
                "engine cannot plan an expression over a grouping key that lakesmith computes "
                "with Spark's math (a UDF).",
                hint=f"select {key_text.strip()} with an alias in a subquery and group by the "
                "alias, or select exactly the grouping expression.")
        written.append(key_text)
    if not changed:
        return text
    return text[:start] + "GROUP BY " + ", ".join(w.strip() for w in written) + " " + text[end:]


def _keys(clause: str) -> list[str]:
    """The texts of the clause's grouping expressions; [] for ROLLUP / CUBE / GROUPING SETS /
    ALL."""
    tokens = tokens_of(clause)
    if not tokens or any(t.token_type in _GROUPING_SETS for t in tokens[1:]):
        return []
    keys: list[str] = []
    depth, begin = 0, tokens[1].start if len(tokens) > 1 else len(clause)
    for token in tokens[1:]:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif token.token_type == TokenType.COMMA and depth == 0:
            keys.append(clause[begin:token.start])
            begin = token.end + 1
    keys_text = [*keys, clause[begin:]] if begin < len(clause) else keys
    return [k for k in keys_text if k.strip()]


def _expression(item_text: str) -> str | None:
    """A select item's expression (its alias dropped), normalized; None when not parsable."""
    try:
        tree = sqlglot.parse_one(item_text, read=DIALECT)
    except (ParseError, TokenError, ValueError):
        return None
    if isinstance(tree, exp.Alias):
        tree = tree.this
    return _normalized(tree.sql(dialect=DIALECT))


def _normalized(expression_text: str) -> str:
    try:
        return sqlglot.parse_one(expression_text, read=DIALECT).sql(dialect=DIALECT).lower()
    except (ParseError, TokenError, ValueError):
        return _SPACES.sub(" ", expression_text.strip().lower())
