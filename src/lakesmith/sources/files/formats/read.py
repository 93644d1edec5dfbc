"""`read_files`: a list of files as one engine DataFrame, with Spark's and Auto Loader's columns.

Columns come out in the order Spark and Databricks give them: the schema's data columns, the
partition columns, the rescued data column, then `_metadata`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pyspark.sql import DataFrame
from pyspark.sql.connect.session import SparkSession
from pyspark.sql.types import StringType, StructField, StructType

from lakesmith.errors import LakesmithError
from lakesmith.sources.files.formats import lines
from lakesmith.sources.files.formats.columns import (
    METADATA,
    METADATA_TYPE,
    metadata_column,
    partition_columns,
)
from lakesmith.sources.files.formats.csv_format import csv_data
from lakesmith.sources.files.formats.file_table import file_contents
from lakesmith.sources.files.formats.json_format import json_data_columns, json_read_records
from lakesmith.sources.files.formats.parquet_format import parquet_frame
from lakesmith.sources.files.formats.plain_json import plain_json_columns, reads_plainly
from lakesmith.sources.files.formats.spec import ReadSpec, normalize
from lakesmith.sources.files.formats.text_format import text_data
from lakesmith.sources.files.inputs import InputFile


def read_files(spark: SparkSession, files: Sequence[InputFile], spec: ReadSpec) -> DataFrame:
    """Exactly `files`, read as `spec` says (one row per record; no record is dropped)."""
    format, options = normalize(spec.format, spec.options, spec.where)
    spec = replace(spec, format=format, options=options)
    _check_names(spec)
    if not files:
        return spark.createDataFrame([], output_schema(spec))
    partition_names = [f.name for f in spec.partition_schema.fields]
    if format == "parquet":
        frame = parquet_frame(spark, files, spec, partition_names)
        data = [frame[f.name].alias(f.name) for f in spec.schema.fields]
    elif format == "csv":
        frame, data = csv_data(file_contents(spark, files, partition_names, where=spec.where),
                               spec)
    else:
        records = lines.records_of(spark, files, partition_names, whole=_whole_files(spec),
                                   line_sep=spec.option("linesep"), where=spec.where,
                                   unchecked_utf8=spec.unchecked_utf8)
        if format == "json" and reads_plainly(spec):
            frame, data = plain_json_columns(records, spec)
        elif format == "json":
            frame, data = json_data_columns(json_read_records(records, spec.where), spec)
        else:
            frame, data = text_data(records, spec)
    columns = [*data, *partition_columns(spec.partition_schema)]
    if spec.with_metadata:
        columns.append(metadata_column())
    return frame.select(*columns)


def found_not_utf8(spark: SparkSession, files: Sequence[InputFile], spec: ReadSpec,
                   error: BaseException) -> list[InputFile]:
    """After a read of `files` with `spec.unchecked_utf8` failed with `error`: the files the
    engine's line reader read unchecked that are not UTF-8 (read whole, as Spark reads them,
    from now on). Empty when the failure was not theirs."""
    format, options = normalize(spec.format, spec.options, spec.where)
    spec = replace(spec, format=format, options=options)
    if format not in ("json", "text") or not spec.unchecked_utf8:
        return []
    return lines.found_not_utf8(spark, files, error, whole=_whole_files(spec),
                                line_sep=spec.option("linesep"))


def _whole_files(spec: ReadSpec) -> bool:
    """Whether each file is one record (multiLine JSON, wholetext), for a normalized spec."""
    return spec.flag("multiline") if spec.format == "json" else spec.flag("wholetext")


def output_schema(spec: ReadSpec) -> StructType:
    """The columns a read gives, without reading: what a batch with no files, analysis and
    `dry-run` see."""
    fields = list(spec.schema.fields) + list(spec.partition_schema.fields)
    if spec.rescued_data_column:
        fields.append(StructField(spec.rescued_data_column, StringType(), True))
    if spec.with_metadata:
        fields.append(StructField(METADATA, METADATA_TYPE, False))
    return StructType(fields)


def _check_names(spec: ReadSpec) -> None:
    seen: dict[str, str] = {}
    extra = [f.name for f in spec.partition_schema.fields]
    if spec.rescued_data_column:
        extra.append(spec.rescued_data_column)
    if spec.with_metadata:
        extra.append(METADATA)
    for name in [f.name for f in spec.schema.fields] + extra:
        if name.lower() in seen:
            raise LakesmithError(
                f"{spec.where}: the column '{name}' appears twice among the data, partition, "
                f"rescued and metadata columns (as '{seen[name.lower()]}' and '{name}').",
                hint="rename one of them; Spark compares column names without case.")
        seen[name.lower()] = name
