"""What every Delta utility statement shares: reading its tokens, the table it names, and the
context it runs in.

The engine's parser rejects these statements, so they are recognised here first, token by token
with sqlglot's Databricks tokenizer (its parser reads them as opaque commands); expressions inside
them (OPTIMIZE's WHERE) are parsed by sqlglot proper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from sqlglot import Token, TokenType
from sqlglot.dialects.databricks import Databricks
from sqlglot.errors import TokenError

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location


class DeltaStatementError(LakesmithError):
    """A Delta utility statement is malformed."""


class _Tokenizer(Databricks.Tokenizer):
    # Without this, OPTIMIZE and VACUUM swallow the rest of the statement as one string.
    COMMANDS: ClassVar[set[TokenType]] = set()


@dataclass(frozen=True)
class TableRef:
    """A table as a statement names it: `schema.table`, or `delta.`/path``."""

    parts: tuple[str, ...] = ()
    path: str | None = None

    @property
    def display(self) -> str:
        return f"delta.`{self.path}`" if self.path is not None else ".".join(self.parts)

    def engine_name(self) -> str:
        if self.path is not None:
            return "delta.`" + self.path.replace("`", "``") + "`"
        return ".".join("`" + p.replace("`", "``") + "`" for p in self.parts)


@dataclass
class DeltaContext:
    """Where a statement runs: the session, how a table name becomes a location, the session's
    configuration that statements read (the VACUUM retention check)."""

    spark: Any
    resolve: Callable[[TableRef], Location]
    engine_sql: Callable[[str], Any]
    conf: Mapping[str, str] = field(default_factory=dict)
    default_location: Callable[[TableRef], Location | None] = lambda ref: None
    # The oldest version of a table the project's stream checkpoints still read (VACUUM keeps
    # every version from it on).
    needed_from: Callable[[Location], int | None] = lambda location: None
    # The properties of a view the session published (None: `ref` names no such view).
    view_properties: Callable[[TableRef], Mapping[str, str] | None] = lambda ref: None

    def keep_versions(self, location: Location) -> list[int]:
        from lakesmith.tables.delta import latest_version

        oldest = self.needed_from(location)
        latest = latest_version(location)
        if oldest is None or latest is None:
            return []
        return list(range(oldest, latest + 1))

    def observe(self, query: str) -> None:
        """Record the columns `query` filters CLUSTER BY AUTO tables by (see
        `tables/query_filters.py`)."""
        from lakesmith.tables import query_filters

        self.observe_filters(query_filters.filtered_columns(query))

    def observe_filters(self, found: Mapping[tuple[str, ...], set[str]]) -> None:
        """Record filter columns per table name, for the tables that are CLUSTER BY AUTO."""
        from lakesmith.tables import clustering, query_filters
        from lakesmith.tables.delta import open_table

        for parts, columns in found.items():
            try:
                location = self.resolve(TableRef(parts=parts))
            except LakesmithError:
                continue  # a view or a table of another format: nothing to cluster
            table = open_table(location)
            if table is not None and clustering.is_auto(table.metadata().configuration):
                query_filters.record(location, columns)

    def dataframe(self, rows: list[dict[str, Any]], schema: str) -> Any:
        """A small metadata result as an engine DataFrame (never table data)."""
        return self.spark.createDataFrame([tuple(r.values()) for r in rows], schema=schema)


class DeltaStatement(Protocol):
    def run(self, context: DeltaContext) -> Any:
        """Execute; returns the result DataFrame."""


class Tokens:
    """A cursor over a statement's tokens; keyword matching ignores case."""

    def __init__(self, text: str) -> None:
        self.text = text
        try:
            tokens = _Tokenizer().tokenize(text)
        except TokenError as e:
            raise DeltaStatementError(f"Cannot read the statement: {e}") from e
        while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
            tokens.pop()
        self.tokens: list[Token] = tokens
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def at_end(self) -> bool:
        return self.i >= len(self.tokens)

    def is_word(self, *words: str, offset: int = 0) -> bool:
        """The next tokens are these keywords (not quoted identifiers)."""
        return self._match(words, offset) > 0

    def _match(self, words: tuple[str, ...], offset: int = 0) -> int:
        """How many tokens spell `words` next (the tokenizer joins some, e.g. `CLUSTER BY`),
        0 when they do not."""
        wanted = list(words)
        j = self.i + offset
        while wanted:
            token = self.tokens[j] if j < len(self.tokens) else None
            if token is None or token.token_type in (TokenType.IDENTIFIER, TokenType.STRING):
                return 0
            spelled = token.text.upper().split()
            if spelled != wanted[:len(spelled)]:
                return 0
            wanted = wanted[len(spelled):]
            j += 1
        return j - self.i - offset

    def take_words(self, *words: str) -> bool:
        count = self._match(words)
        self.i += count
        return count > 0

    def expect_words(self, *words: str, statement: str) -> None:
        if not self.take_words(*words):
            raise self.error(f"expected {' '.join(words)}", statement)

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise DeltaStatementError(f"The statement ends too early: {self.text.strip()}")
        self.i += 1
        return token

    def identifier(self) -> str:
        token = self.next()
        if token.token_type == TokenType.STRING or not _is_name(token):
            raise DeltaStatementError(f"Expected a name, found {token.text!r} in: "
                                      f"{self.text.strip()}")
        return token.text

    def table(self) -> TableRef:
        """`a.b.c` or `delta.`/path`` (the path is a quoted identifier)."""
        parts = [self.identifier()]
        first_quoted = self.tokens[self.i - 1].token_type == TokenType.IDENTIFIER
        while self.peek() is not None and self.peek().token_type == TokenType.DOT:  # type: ignore[union-attr]
            self.i += 1
            parts.append(self.identifier())
        if (len(parts) == 2 and parts[0].lower() == "delta" and not first_quoted
                and self.tokens[self.i - 1].token_type == TokenType.IDENTIFIER):
            return TableRef(path=parts[1])
        return TableRef(parts=tuple(parts))

    def column_list(self) -> list[str]:
        """`(a, b)` or `a, b`."""
        parenthesized = self.peek() is not None and self.peek().token_type == TokenType.L_PAREN  # type: ignore[union-attr]
        if parenthesized:
            self.i += 1
        columns = [self.identifier()]
        while self.peek() is not None and self.peek().token_type == TokenType.COMMA:  # type: ignore[union-attr]
            self.i += 1
            columns.append(self.identifier())
        if parenthesized:
            token = self.next()
            if token.token_type != TokenType.R_PAREN:
                raise DeltaStatementError(f"Expected ')' after the column list in: "
                                          f"{self.text.strip()}")
        return columns

    def number(self) -> float:
        token = self.next()
        if token.token_type != TokenType.NUMBER:
            raise DeltaStatementError(f"Expected a number, found {token.text!r} in: "
                                      f"{self.text.strip()}")
        return float(token.text)

    def string(self) -> str:
        token = self.next()
        if token.token_type != TokenType.STRING:
            raise DeltaStatementError(f"Expected a quoted string, found {token.text!r} in: "
                                      f"{self.text.strip()}")
        return token.text

    def rest(self) -> str:
        """The statement's text from the current token on."""
        token = self.peek()
        return "" if token is None else self.text[token.start:].strip().rstrip(";").strip()

    def expect_end(self, statement: str) -> None:
        if not self.at_end():
            raise self.error("unexpected text", statement)

    def error(self, what: str, statement: str) -> DeltaStatementError:
        token = self.peek()
        where = f" at {token.text!r} (line {token.line}, column {token.col})" if token else \
            " at the end"
        return DeltaStatementError(f"{statement}: {what}{where} in: {self.text.strip()}")


def _is_name(token: Token) -> bool:
    return token.token_type in (TokenType.VAR, TokenType.IDENTIFIER) or token.text.isidentifier()
