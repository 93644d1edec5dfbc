"""Explicit table schemas: a dataset declared with `schema=` (or a SQL column list) is written with
exactly those columns and types; the query must produce the same columns."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import StructType

from lakesmith.errors import LakesmithError
from lakesmith.graph.model import Table
from lakesmith.runtime.generated_columns import with_generated_columns
from lakesmith.tables.catalog import quote_always


def declared_schema(spark: Any, dataset: Table) -> StructType | None:
    schema = dataset.schema
    if schema is None:
        return None
    if isinstance(schema, StructType):
        return schema
    if isinstance(schema, str):
        try:
            parsed = spark._parse_ddl(schema)
        except Exception as e:  # the engine's parser reports the problem
            raise LakesmithError(
                f"the schema of '{dataset.name}' is not a valid DDL string "
                f"({schema!r}): {str(e).splitlines()[0]}") from e
        return parsed if isinstance(parsed, StructType) else StructType().add("value", parsed)
    raise LakesmithError(
        f"the schema of '{dataset.name}' must be a StructType or a DDL string "
        f"such as 'a INT, b STRING', not {type(schema).__name__}.")


def conform(df: Any, dataset: Table, schema: StructType) -> Any:
    """The query's result with the declared columns, in the declared order and types."""
    df = with_generated_columns(df, dataset)
    columns = df.columns
    present = {c.lower(): c for c in columns}
    declared = {f.name.lower() for f in schema.fields}
    missing = [f.name for f in schema.fields if f.name.lower() not in present]
    extra = [c for c in columns if c.lower() not in declared]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"declared but not produced by the query: {', '.join(missing)}")
        if extra:
            parts.append(f"produced by the query but not declared: {', '.join(extra)}")
        raise LakesmithError(
            f"the query of '{dataset.name}' does not match its declared "
            f"schema ({'; '.join(parts)}).",
            hint="make the query's columns match the schema, or change the schema.")
    return df.select([
        F.col(quote_always(present[f.name.lower()])).cast(f.dataType).alias(f.name)
        for f in schema.fields
    ])
