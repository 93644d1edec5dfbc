"""Parsing a pipeline SQL file into graph definitions.

For each statement, in file order: substitute `${key}` variables, tokenize, find the statement's
kind by its first words, and let that kind parse it. `SET` statements change the variables of the
statements after them.
"""

from __future__ import annotations

from collections.abc import Mapping

from lakesmith.authoring import notebook
from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.kinds import Definition, kind_of
from lakesmith.authoring.sql.lexer import LexError, tokenize
from lakesmith.authoring.sql.splitter import Statement, line_at, split_statements
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.authoring.sql.substitution import CircularReference, UndefinedVariable, substitute
from lakesmith.errors import InvalidDefinition, NotSupportedYet, SqlDefinitionError
from lakesmith.source_location import SourceLocation


def parse_sql_definitions(text: str, path: str, configuration: Mapping[str, str]
                          ) -> list[Definition]:
    """The datasets and flows a pipeline `.sql` file defines, in file order.

    `configuration` (the pipeline's) gives the values of `${key}`; `SET key = value` statements
    add to it for the statements after them. Raises SqlDefinitionError, naming the file and line,
    for a statement that is malformed or not supported.
    """
    context = FileContext.for_file(path, configuration)
    # In a Databricks notebook export a statement also ends where its cell ends.
    regions = notebook.cells(text, "sql") if notebook.is_notebook(text, "sql") else None
    try:
        statements = split_statements(text, regions)
    except LexError as e:
        raise SqlDefinitionError(e.message, SourceLocation(path, line_at(text, e.offset))) from e
    definitions: list[Definition] = []
    for statement in statements:
        definitions.extend(parse_statement(statement, context))
    return definitions


def parse_statement(statement: Statement, context: FileContext) -> list[Definition]:
    stream = _stream_of(statement, context)
    try:
        definitions = kind_of(stream).parse(stream, context)
    except InvalidDefinition as e:
        # A definition that breaks a rule of its kind, reported like the file's syntax errors.
        raise SqlDefinitionError(e.problem, e.location, hint=e.hint) from e
    if not stream.at_end:
        raise stream.unexpected("the end of the statement")
    return definitions


def _stream_of(statement: Statement, context: FileContext) -> TokenStream:
    try:
        text = substitute(statement.text, context.variables)
    except CircularReference as e:
        line = statement.line + statement.text.count("\n", 0, e.offset)
        raise SqlDefinitionError(e.message, SourceLocation(context.path, line),
                                 hint=e.hint) from e
    except NotSupportedYet as e:  # `${system:...}`: no JVM
        raise SqlDefinitionError(e.message, SourceLocation(context.path, statement.line),
                                 hint=e.hint) from e
    except UndefinedVariable as e:
        line = statement.line + statement.text.count("\n", 0, e.offset)
        raise SqlDefinitionError(
            f"${{{e.reference}}} is not defined: '{e.reference.split(':')[-1]}' is neither in the "
            "pipeline configuration nor SET earlier in this file",
            SourceLocation(context.path, line),
            hint="add it under `configuration:` in the pipeline spec, or SET it before use.") from e
    try:
        tokens = tokenize(text)
    except LexError as e:
        # A substituted value opened a quote or comment it did not close.
        line = statement.line + text.count("\n", 0, e.offset)
        raise SqlDefinitionError(f"{e.message} (after ${{…}} substitution)",
                                 SourceLocation(context.path, line)) from e
    return TokenStream(text, tokens, context.path, statement.line)
