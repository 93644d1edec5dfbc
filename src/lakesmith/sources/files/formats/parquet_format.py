"""Parquet files read with the given schema.

The engine's Parquet reader gives NULL for a schema column a file lacks. Its reads carry no file
path, so when partition or `_metadata` columns are asked for, each file is read on its own with
its file-table values as literals and the reads are unioned as a balanced tree (a chain of a
thousand unions overflows the client's recursion; a tree is log2(n) deep). A file whose column
has another type fails the engine's read; `diagnose` then names the file.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.connect.session import SparkSession

from lakesmith.engine.ddl import ddl_of
from lakesmith.engine.paths import engine_path
from lakesmith.errors import NotSupportedYet
from lakesmith.sources.files.formats.file_table import (
    FILE_MTIME_MS,
    FILE_NAME,
    FILE_SIZE,
    FILE_URI,
    INDEX,
    PARTITION_PREFIX,
    spark_file_path,
)
from lakesmith.sources.files.formats.spec import ReadSpec
from lakesmith.sources.files.inputs import InputFile


def parquet_frame(spark: SparkSession, files: Sequence[InputFile], spec: ReadSpec,
                  partition_names: Sequence[str]) -> DataFrame:
    """The data columns plus the file-table columns (`INDEX`, `_metadata` values, raw partition
    values) under the names `file_table` uses."""
    if spec.rescued_data_column is not None:
        raise NotSupportedYet(
            f"{spec.where}: a rescued data column for Parquet files is not supported yet.",
            hint="remove the rescued data column option, or read JSON or CSV files.")
    ddl = ddl_of(spec.schema)
    reads: list[DataFrame] = []
    for index, file in enumerate(files):
        values = dict(file.partition_values)
        read: DataFrame = spark.read.schema(ddl).parquet(engine_path(file.location))
        df = read.select("*", F.lit(index).alias(INDEX), F.lit(spark_file_path(file)).alias(FILE_URI),
                       F.lit(file.location.name).alias(FILE_NAME),
                       F.lit(file.size).cast("bigint").alias(FILE_SIZE),
                       F.lit(file.modification_time_ms).cast("bigint").alias(FILE_MTIME_MS),
                       *[F.lit(values.get(n)).cast("string").alias(f"{PARTITION_PREFIX}{i}")
                         for i, n in enumerate(partition_names)])
        reads.append(df)
    return _balanced_union(reads)


def _balanced_union(frames: list[DataFrame]) -> DataFrame:
    while len(frames) > 1:
        frames = [frames[i].unionByName(frames[i + 1]) if i + 1 < len(frames) else frames[i]
                  for i in range(0, len(frames), 2)]
    return frames[0]
