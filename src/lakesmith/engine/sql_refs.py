"""Finding and replacing the tables a SQL query reads, without executing it.

Pipeline SQL reads other datasets by name (`x`, `LIVE.x`, `schema.x`), as streams (`STREAM(x)`,
`STREAM x`) and as paths (`delta.`/path``). lakesmith needs each reference's position to infer graph
edges and, at run time, to point the reference at the right engine table or at the slice of a
micro-batch. Positions are offsets into the original text, so replacing a reference keeps every
other character of the user's SQL as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import Token, TokenType, exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.errors import LakesmithError

DIALECT = "spark"
# `format.`path`` reads a file-based source directly, as in Spark SQL.
PATH_FORMATS = frozenset({"delta", "parquet", "json", "csv", "orc", "avro", "text"})
_FROM_KEYWORDS = frozenset({TokenType.FROM, TokenType.JOIN, TokenType.COMMA})


class SqlRefError(LakesmithError):
    """The SQL could not be parsed to find the tables it reads."""


@dataclass(frozen=True)
class SqlTableRef:
    """A table or path the query reads, with the span `[start, end)` of its name in the text."""

    parts: tuple[str, ...]
    streaming: bool
    start: int
    end: int

    @property
    def name(self) -> str:
        return ".".join(self.parts)

    @property
    def path_format(self) -> str | None:
        """`delta` for `delta.`/some/path``; None for a table name."""
        if len(self.parts) == 2 and self.parts[0].lower() in PATH_FORMATS and "/" in self.parts[1]:
            return self.parts[0].lower()
        return None


@dataclass(frozen=True)
class ParsedQuery:
    """A query's syntax trees (with `STREAM` keywords blanked out, so offsets match the text) and
    each table node in them with the reference it stands for; callers that reason about the tree
    (which SELECT reads a stream) need both."""

    statements: tuple[exp.Expr, ...]
    tables: tuple[tuple[exp.Table, SqlTableRef], ...]


def parse_sql_query(text: str) -> ParsedQuery:
    """Parse `text`; a SqlRefError when it is not SQL sqlglot can read."""
    blanked, streaming_starts = _blank_stream_keywords(text)
    try:
        parsed = sqlglot.parse(blanked, dialect=DIALECT)
    except (ParseError, TokenError) as e:
        raise SqlRefError(f"could not parse the SQL query to find the tables it reads: {e}") from e
    statements = tuple(s for s in parsed if s is not None)
    tables = tuple(pair for statement in statements
                   for pair in _table_refs(statement, streaming_starts))
    return ParsedQuery(statements, tables)


def find_table_refs(text: str) -> list[SqlTableRef]:
    """Every table the query reads, in text order; CTE names are not tables."""
    return sorted((ref for _, ref in parse_sql_query(text).tables), key=lambda r: r.start)


def _table_refs(statement: exp.Expr,
                streaming_starts: set[int]) -> Iterator[tuple[exp.Table, SqlTableRef]]:
    cte_names = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table-valued function such as read_files(...)
        parts = [p for p in table.parts if isinstance(p, exp.Identifier)]
        if len(parts) == 1 and parts[0].name.lower() in cte_names:
            continue
        starts = [p.meta.get("start") for p in parts]
        ends = [p.meta.get("end") for p in parts]
        if any(v is None for v in starts + ends):
            raise SqlRefError(f"could not locate table {table.sql(DIALECT)} in the query text")
        start = min(int(s) for s in starts if s is not None)
        end = max(int(e) for e in ends if e is not None) + 1
        yield table, SqlTableRef(tuple(p.name for p in parts), start in streaming_starts, start, end)


def replace_spans(text: str, replacements: Iterable[tuple[int, int, str]]) -> str:
    """Replace each `[start, end)` span with new text; spans must not overlap."""
    out: list[str] = []
    position = 0
    for start, end, new in sorted(replacements):
        if start < position:
            raise ValueError("overlapping replacements")
        out.append(text[position:start])
        out.append(new)
        position = end
    out.append(text[position:])
    return "".join(out)


def strip_stream_keywords(text: str) -> str:
    """The query with `STREAM(x)` / `STREAM x` written as `x` (same offsets, spaces instead)."""
    return _blank_stream_keywords(text)[0]


def _blank_stream_keywords(text: str) -> tuple[str, set[int]]:
    """Overwrite `STREAM(`…`)` and `STREAM ` with spaces so sqlglot sees plain table names.

    Returns the blanked text (same length, so offsets still match the original) and the start
    offsets of the table names that were marked as streaming.
    """
    try:
        tokens = sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text)
    except TokenError as e:
        raise SqlRefError(f"could not read the SQL query: {e}") from e
    chars = list(text)
    streaming_starts: set[int] = set()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        previous = tokens[i - 1] if i else None
        if _is_stream_keyword(token) and previous is not None and previous.token_type in _FROM_KEYWORDS:
            name_start_index = i + 1
            parenthesized = (
                name_start_index < len(tokens) and tokens[name_start_index].token_type == TokenType.L_PAREN
            )
            if parenthesized:
                name_start_index += 1
            name_end_index = _identifier_chain_end(tokens, name_start_index)
            if name_end_index > name_start_index:
                closing = name_end_index if parenthesized else None
                if closing is None or (
                    closing < len(tokens) and tokens[closing].token_type == TokenType.R_PAREN
                ):
                    _blank(chars, token.start, token.end)
                    if closing is not None:
                        _blank(chars, tokens[i + 1].start, tokens[i + 1].end)
                        _blank(chars, tokens[closing].start, tokens[closing].end)
                    streaming_starts.add(_token_start(text, tokens[name_start_index]))
                    i = name_end_index
                    continue
        i += 1
    return "".join(chars), streaming_starts


def _is_stream_keyword(token: Token) -> bool:
    return token.token_type != TokenType.IDENTIFIER and token.text.upper() == "STREAM"


def _identifier_chain_end(tokens: list[Token], index: int) -> int:
    """Index just after `a.b.c` starting at `index` (== index when there is no identifier)."""
    end = index
    expect_name = True
    while end < len(tokens):
        token = tokens[end]
        if expect_name and (token.token_type == TokenType.IDENTIFIER or token.text.isidentifier()):
            expect_name = False
        elif not expect_name and token.token_type == TokenType.DOT:
            expect_name = True
        else:
            break
        end += 1
    if expect_name and end > index:  # ended on a dot
        end -= 1
    return end


def _token_start(text: str, token: Token) -> int:
    # Quoted identifiers' tokens start after the quote; sqlglot's Identifier meta includes it.
    start = token.start
    if start > 0 and text[start - 1] == "`" and token.token_type == TokenType.IDENTIFIER:
        return start - 1
    return start


def _blank(chars: list[str], start: int, end: int) -> None:
    for k in range(start, end + 1):
        chars[k] = " "
