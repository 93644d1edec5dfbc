"""Finding and replacing the tables and files a SQL query reads, without executing it.

Pipeline SQL reads other datasets by name (`x`, `LIVE.x`, `schema.x`), as streams (`STREAM(x)`,
`STREAM x`), as paths (`delta.`/path``) and as landing files (`read_files(...)`,
`STREAM read_files(...)`, `cloud_files(...)`). lakesmith needs each reference's position to infer
graph edges and, at run time, to point the reference at the right engine table or at the slice of a
micro-batch. Positions are offsets into the original text, so replacing a reference keeps every
other character of the user's SQL as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlglot
from sqlglot import Token, TokenType, exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.engine.sql_dialect import DIALECT
from lakesmith.engine.sql_files import FileFunctionCall, file_function_call, is_file_function
from lakesmith.engine.sql_refs_tokens import table_names_from_tokens
from lakesmith.engine.sql_watermark import without_watermark_clauses
from lakesmith.errors import SqlRefError

__all__ = ["SqlFileRef", "SqlRef", "SqlRefError", "SqlTableRef", "find_table_refs",
           "parse_sql_query", "replace_spans", "strip_stream_keywords"]

# `format.`path`` reads a file-based source directly, as in Spark SQL.
PATH_FORMATS = frozenset({"delta", "parquet", "json", "csv", "orc", "avro", "text"})
_FROM_KEYWORDS = frozenset({TokenType.FROM, TokenType.JOIN, TokenType.COMMA})


@dataclass(frozen=True)
class SqlTableRef:
    """A table or path the query reads, with the span `[start, end)` of its name in the text."""

    parts: tuple[str, ...]
    streaming: bool
    start: int
    end: int
    aliased: bool = False  # `FROM orders o`: columns are qualified by the alias, not the name

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
class SqlFileRef:
    """A call of a file-reading function (`read_files`, `cloud_files`); `[start, end)` spans the
    whole call with its `STREAM(`...`)` or `STREAM ` wrapper, so replacing the span by a name
    leaves a plain `FROM name`."""

    call: FileFunctionCall
    streaming: bool
    start: int
    end: int


SqlRef = SqlTableRef | SqlFileRef


@dataclass(frozen=True)
class ParsedQuery:
    """A query's syntax trees (with `STREAM` keywords blanked out, so offsets match the text) and
    each table node in them with the reference it stands for; callers that reason about the tree
    (which SELECT reads a stream) need both. A file function's node is the `exp.Table` around
    the call, as sqlglot's scopes see it."""

    statements: tuple[exp.Expr, ...]
    tables: tuple[tuple[exp.Table, SqlRef], ...]


def parse_sql_query(text: str) -> ParsedQuery:
    """Parse `text`; a SqlRefError when it is not SQL sqlglot can read. WATERMARK clauses
    are left out of the trees (`engine/sql_watermark.py`)."""
    blanked, wrappers = _blank_stream_keywords(text)
    blanked = without_watermark_clauses(blanked)
    try:
        parsed = sqlglot.parse(blanked, dialect=DIALECT)
        tokens = _tokenize(blanked)
    except (ParseError, TokenError, IndexError) as e:  # sqlglot 30 indexes past `map('a')`
        raise syntax_error(e) from e
    statements = tuple(s for s in parsed if s is not None)
    query = _Query(text, tokens, wrappers)
    tables = tuple(pair for statement in statements for pair in _table_refs(statement, query))
    return ParsedQuery(statements, tables)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def syntax_error(error: Exception) -> SqlRefError:
    """sqlglot's error as a user reads it: what was expected and where (line and column of the
    query), without sqlglot's excerpt and its terminal underlining."""
    first = error.errors[0] if isinstance(error, ParseError) and error.errors else None
    if first is None:
        text = _ANSI.sub("", str(error)).strip().splitlines()
        return SqlRefError(f"the SQL is not valid: {text[0] if text else type(error).__name__}")
    found = _ANSI.sub("", first.get("highlight") or "").strip()
    near = f" near '{found}'" if found else ""
    return SqlRefError(f"the SQL is not valid: {first['description']}{near} (line "
                       f"{first['line']}, column {first['col']} of the query).",
                       line=first["line"], column=first["col"])


def find_table_refs(text: str) -> list[SqlRef]:
    """Every table and file function the query reads, in text order; CTE names are not
    tables. A batch query that sqlglot cannot parse is read from its tokens
    (`sql_refs_tokens`): the engine, not sqlglot, decides whether it is valid. A streaming one
    (`STREAM`) is not: which of its operators need state is found in the parsed query, and a
    stateful operator missed would give each micro-batch's answer instead of the stream's."""
    try:
        return sorted((ref for _, ref in parse_sql_query(text).tables), key=lambda r: r.start)
    except SqlRefError:
        blanked, wrappers = _blank_stream_keywords(text)
        if wrappers:
            raise
        found = table_names_from_tokens(_tokenize(blanked), blanked)
        if found is None:
            raise
        return [SqlTableRef(parts, start in wrappers, start, end) for parts, start, end in found]


@dataclass(frozen=True)
class _StreamWrapper:
    """Where `STREAM` starts, and where its parentheses end (None for `STREAM name`)."""

    start: int
    end: int | None


@dataclass(frozen=True)
class _Query:
    text: str  # as written
    tokens: list[Token]  # of the text with STREAM blanked out
    wrappers: dict[int, _StreamWrapper]  # by the start of the name after STREAM


def _table_refs(statement: exp.Expr, query: _Query) -> Iterator[tuple[exp.Table, SqlRef]]:
    cte_names = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for table in statement.find_all(exp.Table):
        if is_file_function(table.this):
            yield table, _file_ref(table.this, query)
            continue
        if not isinstance(table.this, exp.Identifier):
            continue  # another table-valued function, such as range(10)
        parts = [p for p in table.parts if isinstance(p, exp.Identifier)]
        if len(parts) == 1 and parts[0].name.lower() in cte_names:
            continue
        starts = [p.meta.get("start") for p in parts]
        ends = [p.meta.get("end") for p in parts]
        if any(v is None for v in starts + ends):
            raise SqlRefError(f"could not locate table {table.sql(DIALECT)} in the query text")
        start = min(int(s) for s in starts if s is not None)
        end = max(int(e) for e in ends if e is not None) + 1
        yield table, SqlTableRef(tuple(p.name for p in parts), start in query.wrappers, start, end,
                                 aliased=bool(table.alias))


def _file_ref(node: exp.Anonymous, query: _Query) -> SqlFileRef:
    name_start = node.meta.get("start")
    index = next((i for i, t in enumerate(query.tokens) if t.start == name_start), None)
    close = (_matching_paren(query.tokens, index + 1)
             if index is not None and index + 1 < len(query.tokens) else None)
    if name_start is None or close is None:
        raise SqlRefError(f"could not locate {node.sql(DIALECT)} in the query text")
    start, end = int(name_start), query.tokens[close].end + 1
    call = file_function_call(node, query.text[start:end])
    wrapper = query.wrappers.get(start)
    if wrapper is not None:
        start, end = wrapper.start, wrapper.end if wrapper.end is not None else end
    return SqlFileRef(call, call.always_streaming or wrapper is not None, start, end)


def _matching_paren(tokens: list[Token], open_index: int) -> int | None:
    """The index of the `)` that closes the `(` at `open_index`; None when there is none."""
    if tokens[open_index].token_type != TokenType.L_PAREN:
        return None
    depth = 0
    for index in range(open_index, len(tokens)):
        kind = tokens[index].token_type
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
            if depth == 0:
                return index
    return None


def _tokenize(text: str) -> list[Token]:
    return list(sqlglot.Dialect.get_or_raise(DIALECT).tokenize(text))


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


def _blank_stream_keywords(text: str) -> tuple[str, dict[int, _StreamWrapper]]:
    """Overwrite `STREAM(`…`)` and `STREAM ` with spaces so sqlglot sees plain table names and
    function calls (`STREAM read_files(...)`).

    Returns the blanked text (same length, so offsets still match the original) and, by the start
    offset of each name marked as streaming, where its `STREAM` wrapper is.
    """
    try:
        tokens = _tokenize(text)
    except TokenError as e:
        raise SqlRefError(f"could not read the SQL query: {e}") from e
    chars = list(text)
    wrappers: dict[int, _StreamWrapper] = {}
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
                # `STREAM read_files(...)`: the call's arguments belong to the name.
                arguments_close = (_matching_paren(tokens, name_end_index)
                                   if name_end_index < len(tokens) else None)
                if arguments_close is not None:
                    name_end_index = arguments_close + 1
                closing = name_end_index if parenthesized else None
                if closing is None or (
                    closing < len(tokens) and tokens[closing].token_type == TokenType.R_PAREN
                ):
                    _blank(chars, token.start, token.end)
                    if closing is not None:
                        _blank(chars, tokens[i + 1].start, tokens[i + 1].end)
                        _blank(chars, tokens[closing].start, tokens[closing].end)
                    wrappers[_token_start(text, tokens[name_start_index])] = _StreamWrapper(
                        token.start, tokens[closing].end + 1 if closing is not None else None)
                    i = name_end_index
                    continue
        i += 1
    return "".join(chars), wrappers


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
