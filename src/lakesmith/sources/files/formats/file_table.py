"""The files of a read as a small engine table, and their bytes with the file each row came from.

Sail 0.7.2 has neither `input_file_name()` nor `_metadata`, and a union of one read per file
overflows the client's recursion near a thousand files. Its `binaryFile` source, given the whole
list, returns one row per file with the file's path in one scan; joining that path to a small
table of the batch's files (built from `InputFile`s, metadata only) gives every row its file:
its index, the values `_metadata` shows and its partition values, as discovery recorded them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.connect.session import SparkSession
from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

from lakesmith.engine.paths import engine_path
from lakesmith.sources.files.inputs import InputFile

# Column names of the file table; prefixed so they cannot meet a data column.
INDEX = "__ls_file"
PATH_KEY = "__ls_path_key"
FILE_URI = "__ls_file_path"
FILE_NAME = "__ls_file_name"
FILE_SIZE = "__ls_file_size"
FILE_MTIME_MS = "__ls_file_mtime_ms"
CONTENT = "__ls_content"
PARTITION_PREFIX = "__ls_part_"


def path_key(path: str) -> str:
    """A path as Sail's binaryFile `path` column spells it, without its scheme and leading
    slashes (`/tmp/x.json` and `file:///tmp/x.json` both come back as `tmp/x.json`,
    `s3://bucket/key` as `bucket/key`)."""
    if "://" in path:
        path = path.split("://", 1)[1]
    return path.lstrip("/")


def engine_key(file: InputFile) -> str:
    """The file's path as binaryFile's `path` column gives it: the local path the engine was
    given (an alias, for unusual folders), or, in a bucket, the object's key (Sail 0.7.2 leaves
    out `s3://bucket/`)."""
    if file.location.is_local:
        return path_key(engine_path(file.location))
    return file.location.path.lstrip("/")


def spark_file_path(file: InputFile) -> str:
    """`_metadata.file_path` as Apache Spark 4.3 spells it: `file:/tmp/x.json` for local files
    (a URI with an empty authority, percent-encoded), `s3://bucket/key` otherwise
    (tests/golden/file_formats.json)."""
    uri = file.location.uri
    if file.location.is_local and uri.startswith("file://"):
        return "file:" + uri[len("file://"):]
    return uri


def input_file_name(file: InputFile) -> str:
    """What `input_file_name()` returns in Spark 4.3: `file:///tmp/x.json` for local files."""
    return file.location.uri


def file_columns(partition_names: Sequence[str]) -> list[tuple[str, str]]:
    """The file table's columns and their types."""
    columns = [(INDEX, "INT"), (PATH_KEY, "STRING"), (FILE_URI, "STRING"), (FILE_NAME, "STRING"),
               (FILE_SIZE, "BIGINT"), (FILE_MTIME_MS, "BIGINT")]
    return columns + [(f"{PARTITION_PREFIX}{i}", "STRING") for i in range(len(partition_names))]


def file_row(index: int, file: InputFile, partition_names: Sequence[str]) -> tuple[Any, ...]:
    """One file's values for `file_columns`."""
    values = dict(file.partition_values)
    return (index, engine_key(file), spark_file_path(file), file.location.name, file.size,
            file.modification_time_ms, *(values.get(name) for name in partition_names))


def file_table(spark: SparkSession, files: Sequence[InputFile], partition_names: Sequence[str]) -> DataFrame:
    """One row per file: index, engine path key, `_metadata` values, raw partition values
    (built with no round trip to the engine)."""
    from lakesmith.engine.local_rows import local_rows

    rows = [file_row(index, file, partition_names) for index, file in enumerate(files)]
    types = {"INT": IntegerType(), "STRING": StringType(), "BIGINT": LongType()}
    schema = StructType([StructField(name, types[kind])
                         for name, kind in file_columns(partition_names)])
    frame: DataFrame = local_rows(spark, rows, schema)
    return frame


def file_contents(spark: SparkSession, files: Sequence[InputFile], partition_names: Sequence[str],
                  *, where: str) -> DataFrame:
    """One row per file: the file table's columns and `CONTENT`, the file's text.

    Bytes that are not valid UTF-8 become U+FFFD, as Spark's readers show them (a JSON line with
    such bytes is a corrupt record there, not an error). A file the engine lists under a spelling
    the file table does not know fails the query loudly rather than losing its rows.
    """
    paths = [engine_path(f.location) for f in files]
    # Sail 0.7.2 splits a large file (about 10 MB and up) into byte ranges and returns the
    # whole file once per range: without this, such a file's records would be read twice.
    files_once = spark.read.format("binaryFile").load(paths).dropDuplicates(["path"])
    raw = files_once.select(
        F.regexp_replace(F.col("path"), "^([A-Za-z][A-Za-z0-9+.-]*:)?/+", "")
        .alias("__ls_engine_path"),
        F.expr("make_valid_utf8(content)").alias(CONTENT))
    table = file_table(spark, files, partition_names)
    joined = raw.join(F.broadcast(table), raw["__ls_engine_path"] == table[PATH_KEY], "left")
    unknown = F.raise_error(F.concat(
        F.lit(f"{where}: the engine read a file that is not in the batch: "),
        F.col("__ls_engine_path")))
    # The check guards the content, which every read uses: on a column a query does not
    # read, the engine would prune it away.
    checked: Column = F.when(F.col(INDEX).isNull(), unknown.cast("string")) \
        .otherwise(F.col(CONTENT))
    result: DataFrame = joined.select(*[F.col(name) for name, _ in file_columns(partition_names)],
                                      checked.alias(CONTENT))
    return result
