"""A few rows lakesmith holds (a batch's list of files) as an engine DataFrame, built without a
round trip.

`createDataFrame` parses a DDL schema on the engine and reads thirteen session settings before it
builds its plan: two round trips for every batch of files. The rows here are small, typed by a
`StructType` lakesmith writes itself, and hold no timestamps, so none of those settings matter:
the Arrow table is made the way `createDataFrame` makes it, and sent inside the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyspark.sql.connect.dataframe import DataFrame
from pyspark.sql.connect.plan import LocalRelation
from pyspark.sql.conversion import LocalDataToArrowConversion
from pyspark.sql.types import StructType


def local_rows(spark: Any, rows: Sequence[tuple[Any, ...]], schema: StructType) -> DataFrame:
    """`rows` (tuples in `schema`'s order, no timestamps) as a DataFrame; its plan carries them."""
    if not rows:
        return DataFrame(LocalRelation(None, schema=schema.json()), spark)
    table = LocalDataToArrowConversion.convert(list(rows), schema, False)
    return DataFrame(LocalRelation(table, schema=schema.json()), spark)
