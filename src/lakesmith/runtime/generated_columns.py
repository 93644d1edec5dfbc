"""Generated columns (`GENERATED ALWAYS AS (expression)`): a declared column whose value Delta
computes from the other columns of the row. The query does not produce it; before a write the
expression is evaluated by the engine over the query's row and cast to the declared type.

A query that produces a generated column itself is refused (Delta would accept a value only if it
equals the expression; lakesmith does not check that, so it does not take the value).
"""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import StructType

from lakesmith.errors import LakesmithError
from lakesmith.graph.model import Table


def with_generated_columns(df: Any, dataset: Table, schema: StructType) -> Any:
    """`df` with each of the dataset's generated columns added, cast to its declared type in
    `schema` (Delta accepts an expression whose type up-casts to the column's)."""
    if not dataset.generated_columns:
        return df
    produced = {c.lower() for c in df.columns}
    clash = [name for name in dataset.generated_columns if name.lower() in produced]
    if clash:
        raise LakesmithError(
            f"the query of '{dataset.name}' produces {', '.join(clash)}, declared as generated "
            f"(GENERATED ALWAYS AS) in its schema.",
            hint="leave generated columns out of the query: their value is computed from the "
                 "expression.")
    types = {f.name.lower(): f.dataType for f in schema.fields}
    return df.select("*", *[
        F.expr(expression).cast(types[name.lower()]).alias(name) if name.lower() in types
        else F.expr(expression).alias(name)
        for name, expression in dataset.generated_columns.items()])
