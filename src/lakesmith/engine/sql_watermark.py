"""Databricks SQL's WATERMARK clause, found in a query's text:

    FROM STREAM(orders) WATERMARK order_ts DELAY OF INTERVAL 10 MINUTES AS o
    FROM STREAM(raw) WATERMARK to_timestamp(ts_str) AS ts DELAY OF INTERVAL 10 SECONDS

(`table_name [watermark_clause] [table_alias]`, Databricks' syntax; Spark 4.3 reads it too). It is
what `withWatermark(column, delay)` is to a DataFrame. sqlglot does not know it, so the clause
is found from tokens and blanked out (same offsets) before the query is parsed; the SQL layer
then applies it to the FROM item it follows (`engine/sql_streaming_plan.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import Token, TokenType

from lakesmith.engine.sql_dialect import DIALECT
from lakesmith.errors import SqlRefError

# Words an interval literal is made of after INTERVAL (besides numbers and strings).
_INTERVAL_UNITS = frozenset(
    unit + plural for unit in ("YEAR", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND",
                               "MILLISECOND", "MICROSECOND") for plural in ("", "S")) | {"TO"}


@dataclass(frozen=True)
class WatermarkClause:
    start: int  # `WATERMARK`'s offset in the text
    end: int  # just after the interval
    expression: str  # the event-time expression as written
    name: str  # the column the watermark follows
    computed: bool  # whether the expression adds the column (`expr AS name`)
    delay: str  # the interval without `INTERVAL` and quotes: `10 MINUTES`


def watermark_clauses(text: str) -> list[WatermarkClause]:
    """Every WATERMARK clause of the query, in text order."""
    tokens = list(sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text))
    found = []
    for index, token in enumerate(tokens):
        if token.token_type != TokenType.IDENTIFIER and token.text.upper() == "WATERMARK" \
                and index > 0 and _ends_from_item(tokens[index - 1]) \
                and _delay_of(tokens, index) is not None:
            found.append(_clause(text, tokens, index))
    return found


def without_watermark_clauses(text: str) -> str:
    """The text with its WATERMARK clauses written as spaces (offsets unchanged)."""
    chars = list(text)
    for clause in watermark_clauses(text):
        chars[clause.start:clause.end] = " " * (clause.end - clause.start)
    return "".join(chars)


def _ends_from_item(token: Token) -> bool:
    """Whether a FROM item (a name, `STREAM(x)`, a call, a subquery) can end with `token`."""
    return token.token_type in (TokenType.VAR, TokenType.IDENTIFIER, TokenType.R_PAREN) \
        or token.text.isidentifier()


def _clause(text: str, tokens: list[Token], index: int) -> WatermarkClause:
    where = f"the WATERMARK clause at line {tokens[index].line}"
    delay_at = _delay_of(tokens, index)
    if delay_at is None or delay_at == index + 1:
        raise SqlRefError(f"{where} must read `WATERMARK column DELAY OF INTERVAL ...`, e.g. "
                          "`WATERMARK ts DELAY OF INTERVAL 10 MINUTES`.")
    named = tokens[index + 1:delay_at]
    if len(named) >= 3 and named[-2].token_type == TokenType.ALIAS:
        expression = text[named[0].start:named[-3].end + 1]
        name, computed = _unquoted(text, named[-1]), True
    elif all(t.token_type in (TokenType.VAR, TokenType.IDENTIFIER, TokenType.DOT)
             or t.text.isidentifier() for t in named):
        expression = text[named[0].start:named[-1].end + 1]
        name, computed = _unquoted(text, named[-1]), False
    else:
        raise SqlRefError(
            f"[REQUIRES_EXPLICIT_NAME_IN_WATERMARK_CLAUSE] {where}: an expression needs a name "
            f"(`{text[named[0].start:named[-1].end + 1]} AS ts`).")
    position = delay_at + 2
    if position >= len(tokens) or tokens[position].text.upper() != "INTERVAL":
        raise SqlRefError(f"{where}: DELAY OF takes an interval literal such as "
                          "`INTERVAL 10 MINUTES`.")
    last = position
    while last + 1 < len(tokens) and (
            tokens[last + 1].token_type in (TokenType.NUMBER, TokenType.STRING)
            or tokens[last + 1].text.upper() in _INTERVAL_UNITS):
        last += 1
    if last == position:
        raise SqlRefError(f"{where}: DELAY OF INTERVAL needs a value, e.g. INTERVAL 10 MINUTES.")
    delay = " ".join(t.text for t in tokens[position + 1:last + 1])
    return WatermarkClause(tokens[index].start, tokens[last].end + 1, expression, name, computed,
                           delay)


def _delay_of(tokens: list[Token], index: int) -> int | None:
    """Where `DELAY OF` of the clause starting at `index` is (outside parentheses)."""
    return next((i for i in range(index + 1, len(tokens) - 1)
                 if tokens[i].text.upper() == "DELAY" and tokens[i + 1].text.upper() == "OF"
                 and _depth(tokens, index + 1, i) == 0), None)


def _depth(tokens: list[Token], start: int, end: int) -> int:
    depth = 0
    for token in tokens[start:end]:
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
    return depth


def _unquoted(text: str, token: Token) -> str:
    return token.text if token.token_type == TokenType.IDENTIFIER else \
        text[token.start:token.end + 1]
