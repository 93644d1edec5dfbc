"""The parenthesised list after a dataset's name: column definitions, column names, expectations.

    ( id BIGINT NOT NULL COMMENT 'key',
      payload STRUCT<a: INT, b: ARRAY<STRING>>,
      CONSTRAINT valid_id EXPECT (id IS NOT NULL) ON VIOLATION DROP ROW )

Typed columns become the dataset's schema, as a DDL string. Untyped names (`(a, b)`) rename the
query's columns (views and materialized views only); a view's may carry a comment
(`(a COMMENT 'why', b)`). `CONSTRAINT name EXPECT (condition)` entries
are the dataset's expectations. `GENERATED ALWAYS AS (expression)` makes a generated column: the
query does not produce it, its value is the expression over the row (as in Delta).

The same parser reads a Python `schema=` DDL string that has generated columns.
"""

from __future__ import annotations

from dataclasses import dataclass

from lakesmith.authoring.sql.grammar import parse_identifier, parse_parenthesized_text, parse_string
from lakesmith.authoring.sql.lexer import Token, TokenType
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.errors import SqlDefinitionError
from lakesmith.graph.expectations import Expectation, ExpectationAction
from lakesmith.graph.identifiers import quote_part
from lakesmith.sql_literal import sql_string

# Column options Databricks accepts that lakesmith cannot honour yet.
_UNSUPPORTED_COLUMN_OPTIONS = {
    "DEFAULT": "column defaults (DEFAULT)",
    "MASK": "column masks (MASK)",
    "PRIMARY": "primary keys (PRIMARY KEY)",
    "REFERENCES": "foreign keys (REFERENCES)",
    "CONSTRAINT": "column constraints (CONSTRAINT ... PRIMARY KEY / FOREIGN KEY)",
}
# Table constraints other than expectations, by the words that start them.
_UNSUPPORTED_TABLE_CONSTRAINTS = {
    ("PRIMARY", "KEY"): "primary keys (PRIMARY KEY)",
    ("FOREIGN", "KEY"): "foreign keys (FOREIGN KEY)",
    ("UNIQUE",): "unique constraints (UNIQUE)",
    ("CHECK",): "CHECK constraints",
}
# Words that end a column's type (outside its brackets).
_TYPE_ENDS = frozenset({"NOT", "COMMENT", "GENERATED", *_UNSUPPORTED_COLUMN_OPTIONS})

_ACTIONS = {
    ("DROP", "ROW"): ExpectationAction.DROP,
    ("FAIL", "UPDATE"): ExpectationAction.FAIL,
}


@dataclass(frozen=True)
class ColumnList:
    columns: tuple[str, ...] = ()  # DDL of each typed column: "id BIGINT NOT NULL COMMENT 'key'"
    renames: tuple[str, ...] = ()  # names of untyped columns, unquoted
    expectations: tuple[Expectation, ...] = ()
    generated: tuple[tuple[str, str], ...] = ()  # (column name, SQL expression), in order
    token: Token | None = None  # the opening parenthesis
    # comments of untyped columns (`(a COMMENT 'why')`), by name, with the first one's token
    rename_comments: tuple[tuple[str, str], ...] = ()
    rename_comment_token: Token | None = None

    @property
    def schema(self) -> str | None:
        return ", ".join(self.columns) if self.columns else None


def parse_column_list(stream: TokenStream) -> ColumnList:
    """`( entry, ... )`; the caller has checked that `(` comes next."""
    opening = stream.expect_punct(TokenType.L_PAREN, "'('")
    columns: list[str] = []
    renames: list[str] = []
    expectations: list[Expectation] = []
    generated: list[tuple[str, str]] = []
    comments: list[tuple[str, str]] = []
    comment_token: Token | None = None
    while True:
        if stream.at("CONSTRAINT"):
            expectations.append(_parse_constraint(stream))
        elif (unsupported := _table_constraint_at(stream)) is not None:
            raise _not_supported(stream, unsupported)
        else:
            kind, text, generation = _parse_column(stream)
            (columns if kind == "typed" else renames).append(text)
            if generation is not None:
                generated.append(generation)
            if kind == "untyped" and stream.at("COMMENT"):
                comment_token = comment_token or stream.peek()
                stream.expect("COMMENT")
                comments.append((text, parse_string(stream, "a comment", "COMMENT")))
        if not stream.accept_punct(TokenType.COMMA):
            break
    stream.expect_punct(TokenType.R_PAREN, "',' or ')'", "a column definition")
    if columns and renames:
        raise stream.error(
            "the column list mixes columns with types and columns without: give every column "
            f"a type (a schema) or none (new names for the query's columns); untyped: "
            f"{', '.join(quote_part(r) for r in renames)}",
            opening,
        )
    return ColumnList(tuple(columns), tuple(renames), tuple(expectations),
                      generated=tuple(generated), token=opening,
                      rename_comments=tuple(comments), rename_comment_token=comment_token)


def _parse_constraint(stream: TokenStream) -> Expectation:
    start = stream.expect("CONSTRAINT")
    name = parse_identifier(stream, "a constraint name", "CONSTRAINT")
    if (unsupported := _table_constraint_at(stream)) is not None:
        raise _not_supported(stream, unsupported)
    stream.expect("EXPECT", after=f"CONSTRAINT {name.text}")
    condition, _ = parse_parenthesized_text(stream, "a condition", "EXPECT")
    action = ExpectationAction.WARN
    if stream.accept("ON", "VIOLATION"):
        for words, candidate in _ACTIONS.items():
            if stream.accept(*words):
                action = candidate
                break
        else:
            raise stream.unexpected("DROP ROW or FAIL UPDATE", "ON VIOLATION")
    return Expectation(name.parts[0], condition, action, stream.location(start))


def _parse_column(stream: TokenStream) -> tuple[str, str, tuple[str, str] | None]:
    """A column definition (`("typed", ddl, (name, generation expression) or None)`) or a bare
    column name (`("untyped", name, None)`)."""
    name = parse_identifier(stream, "a column definition or CONSTRAINT", "'(' or ','")
    column = quote_part(name.parts[0])
    if stream.at_punct(TokenType.COMMA) or stream.at_punct(TokenType.R_PAREN) or \
            stream.at("COMMENT"):
        return "untyped", name.parts[0], None
    ddl = [column, _parse_type(stream, column)]
    seen: set[str] = set()
    expression = None
    while (word := stream.word()) in _TYPE_ENDS:
        if word in _UNSUPPORTED_COLUMN_OPTIONS:
            raise _not_supported(stream, _UNSUPPORTED_COLUMN_OPTIONS[word])
        if word in seen:
            raise stream.error(f"{word} is given twice for column {column}", stream.peek())
        seen.add(word)
        if stream.accept("NOT"):
            stream.expect("NULL", after="NOT")
            ddl.append("NOT NULL")
        elif stream.at("GENERATED"):
            expression = _parse_generation(stream, column)
        else:
            stream.expect("COMMENT")
            ddl.append("COMMENT " + sql_string(parse_string(stream, "a comment", "COMMENT")))
    return "typed", " ".join(ddl), (name.parts[0], expression) if expression else None


def _parse_generation(stream: TokenStream, column: str) -> str:
    """`GENERATED ALWAYS AS (expression)`: the expression's text. Identity columns
    (`GENERATED … AS IDENTITY`) are refused."""
    start = stream.expect("GENERATED")
    if stream.at("BY", "DEFAULT") or stream.at("ALWAYS", "AS", "IDENTITY"):
        raise _not_supported(stream, "identity columns (GENERATED ... AS IDENTITY)", start)
    stream.expect("ALWAYS", after=f"GENERATED (column {column})")
    stream.expect("AS", after="GENERATED ALWAYS")
    expression, _ = parse_parenthesized_text(stream, "the generation expression",
                                             "GENERATED ALWAYS AS")
    return expression


def _parse_type(stream: TokenStream, column: str) -> str:
    """The column's type, as written (`DECIMAL(10,2)`, `ARRAY<STRUCT<a: INT>>`), with runs of
    whitespace and comments between its tokens reduced to one space."""
    pieces: list[str] = []
    previous: Token | None = None
    depth = 0
    while (token := stream.peek()) is not None:
        if depth == 0 and (
            token.token_type in (TokenType.COMMA, TokenType.R_PAREN)
            or stream.word() in _TYPE_ENDS
        ):
            break
        if token.token_type in (TokenType.L_PAREN, TokenType.LT):
            depth += 1
        elif token.token_type in (TokenType.R_PAREN, TokenType.GT):
            depth -= 1
        if previous is not None and token.start > previous.end + 1:
            pieces.append(" ")
        pieces.append(stream.raw(token))
        previous = stream.next()
    if not pieces:
        raise stream.unexpected("a type", f"column {column}")
    return "".join(pieces)


def _table_constraint_at(stream: TokenStream) -> str | None:
    """What unsupported table constraint starts here, if one does."""
    for words, what in _UNSUPPORTED_TABLE_CONSTRAINTS.items():
        if stream.at(*words) and (len(words) > 1 or stream.at_punct(TokenType.L_PAREN, 1)):
            return what
    return None


def _not_supported(stream: TokenStream, what: str, token: Token | None = None
                   ) -> SqlDefinitionError:
    return stream.error(
        f"{what} in a column list are not supported yet; supported: column definitions "
        "`name TYPE [NOT NULL] [COMMENT '...'] [GENERATED ALWAYS AS (expression)]` and "
        "`CONSTRAINT name EXPECT (condition) [ON VIOLATION DROP ROW | FAIL UPDATE]`",
        token or stream.peek(),
    )
