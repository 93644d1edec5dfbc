"""A Python dataset's `schema=` argument as the graph keeps it: the declared columns, and which of
them are generated.

Databricks accepts `GENERATED ALWAYS AS (expression)` in a DDL schema string (and Delta keeps a
StructType field's generation expression in its `delta.generationExpression` metadata). The engine's
DDL parser knows no generated columns, so the clause is taken out here, with the same column-list
parser SQL files use, and kept as the table's `generated_columns`.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql.types import StructField, StructType

from lakesmith.source_location import SourceLocation

GENERATION_EXPRESSION = "delta.generationExpression"


def schema_fields(schema: Any, location: SourceLocation) -> dict[str, Any]:
    """`schema` and `generated_columns` for a table definition."""
    if isinstance(schema, str) and "GENERATED" in schema.upper():
        return _from_ddl(schema, location)
    if isinstance(schema, StructType):
        generated = {f.name: f.metadata[GENERATION_EXPRESSION] for f in schema.fields
                     if isinstance(f.metadata, dict) and GENERATION_EXPRESSION in f.metadata}
        if generated:
            return dict(schema=StructType([_without_generation(f) for f in schema.fields]),
                        generated_columns=generated)
    return dict(schema=schema, generated_columns={})


def _from_ddl(ddl: str, location: SourceLocation) -> dict[str, Any]:
    from lakesmith.authoring.sql.columns import parse_column_list
    from lakesmith.authoring.sql.lexer import LexError, tokenize
    from lakesmith.authoring.sql.stream import TokenStream
    from lakesmith.errors import SqlDefinitionError

    text = f"({ddl})"
    try:
        stream = TokenStream(text, tokenize(text), location.path, location.line or 1)
    except LexError as e:
        raise SqlDefinitionError(f"the schema string cannot be read: {e.message}", location) from e
    columns = parse_column_list(stream)
    if not stream.at_end:
        raise stream.unexpected("the end of the schema")
    if columns.renames or columns.expectations:
        raise SqlDefinitionError("a schema string gives every column a type, and no CONSTRAINT",
                                 location)
    return dict(schema=columns.schema, generated_columns=dict(columns.generated))


def _without_generation(field: StructField) -> StructField:
    metadata = {k: v for k, v in (field.metadata or {}).items() if k != GENERATION_EXPRESSION}
    return StructField(field.name, field.dataType, field.nullable, metadata)
