"""The columns every format adds after the data columns: partition values, `_metadata`.

`_metadata` has Apache Spark 4.3's fields and order for file sources (file_path, file_name,
file_size, file_block_start, file_block_length, file_modification_time); lakesmith never splits a
file, so a file's one block starts at 0 and spans the whole file. Values come from the
`InputFile`s discovery recorded, so a re-run batch shows the same values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from lakesmith.engine.ddl import type_ddl
from lakesmith.sources.files.formats.file_table import (
    FILE_MTIME_MS,
    FILE_NAME,
    FILE_SIZE,
    FILE_URI,
    PARTITION_PREFIX,
)

METADATA = "_metadata"
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
# The expression `input_file_name()` becomes once `_metadata` is read: Spark 4.3 returns
# `file:///tmp/x.json` where `_metadata.file_path` is `file:/tmp/x.json`.
INPUT_FILE_NAME_SQL = "regexp_replace(_metadata.file_path, '^file:/+', 'file:///')"


# The type of `_metadata` for file sources in Spark 4.3.
METADATA_TYPE = StructType([
    StructField("file_path", StringType(), False),
    StructField("file_name", StringType(), False),
    StructField("file_size", LongType(), False),
    StructField("file_block_start", LongType(), False),
    StructField("file_block_length", LongType(), False),
    StructField("file_modification_time", TimestampType(), False),
])


def metadata_column() -> Column:
    return F.struct(
        F.col(FILE_URI).alias("file_path"),
        F.col(FILE_NAME).alias("file_name"),
        F.col(FILE_SIZE).alias("file_size"),
        F.lit(0).cast("bigint").alias("file_block_start"),
        F.col(FILE_SIZE).alias("file_block_length"),
        F.timestamp_millis(F.col(FILE_MTIME_MS)).alias("file_modification_time"),
    ).alias(METADATA)


def partition_columns(partition_schema: StructType) -> list[Column]:
    """Each partition column from its raw folder value, cast to its type (Spark casts the same
    way; `__HIVE_DEFAULT_PARTITION__` is NULL)."""
    columns = []
    for i, field in enumerate(partition_schema.fields):
        raw = F.col(f"{PARTITION_PREFIX}{i}")
        value = F.when(raw == HIVE_NULL, F.lit(None)).otherwise(raw)
        columns.append(value.cast(type_ddl(field.dataType)).alias(field.name))
    return columns


def infer_partition_schema(values_per_file: Iterable[Sequence[tuple[str, str | None]]]
                           ) -> StructType:
    """Partition column types as Spark infers them from folder values: INT, then BIGINT, then
    DOUBLE, then DATE (yyyy-MM-dd), else STRING; `__HIVE_DEFAULT_PARTITION__` and NULL fit any
    type (tests/golden/file_formats.json, `partitions_infer*`)."""
    seen: dict[str, list[str]] = {}
    for values in values_per_file:
        for name, value in values:
            column = seen.setdefault(name, [])
            if value is not None and value != HIVE_NULL:
                column.append(value)
    return StructType([StructField(name, _widest(values)) for name, values in seen.items()])


def _widest(values: list[str]) -> DataType:
    if not values:
        return StringType()
    kinds = {_kind(v) for v in values}
    if kinds <= {"int"}:
        return IntegerType()
    if kinds <= {"int", "long"}:
        return LongType()
    if kinds <= {"int", "long", "double"}:
        return DoubleType()
    if kinds == {"date"}:
        return DateType()
    return StringType()


def _kind(value: str) -> str:
    import datetime
    import re

    if re.fullmatch(r"[+-]?\d+", value):
        return "int" if -(2**31) <= int(value) < 2**31 else "long" if -(2**63) <= int(value) < 2**63 \
            else "double"
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value):
        return "double"
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return "string"
    return "date" if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else "string"
