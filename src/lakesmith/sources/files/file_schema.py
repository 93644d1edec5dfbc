"""The pieces of a file read's schema that a stream and a batch `read_files` work out alike:
which files inference samples, the inferred columns with their hints, the partition columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pyspark.sql.types import StringType, StructField, StructType

from lakesmith.sources.files import schema_evolution
from lakesmith.sources.files.inputs import InputFile
from lakesmith.sources.files.options import AutoLoaderOptions
from lakesmith.sources.files.schema_location import StoredSchema


def inference_sample(files: Iterable[InputFile], options: AutoLoaderOptions) -> list[InputFile]:
    """The first files, up to Databricks' sample limits (1000 files / 50 GB by default)."""
    sample: list[InputFile] = []
    size = 0
    for f in files:
        if len(sample) >= options.sample_files or size >= options.sample_bytes:
            break
        sample.append(f)
        size += f.size
    return sample


def inferred_columns(spark: Any, sample: Sequence[InputFile], options: AutoLoaderOptions,
                     where: str) -> StructType:
    """The data columns inferred by the engine from `sample`, with `schemaHints` applied."""
    from lakesmith.sources.files import formats

    data = formats.infer_schema(spark, sample, options.format, options.reader,
                                infer_column_types=options.infer_column_types, where=where)
    return schema_evolution.with_hints(spark, data, options.schema_hints, where)


def with_partitions(data: StructType, files: Iterable[InputFile],
                    options: AutoLoaderOptions) -> StoredSchema:
    """`data` and the partition columns (STRING) of `key=value` folders, or those named by
    `cloudFiles.partitionColumns`; a partition column the data has already is not added."""
    names = options.partition_columns
    if names is None:
        names = tuple(dict.fromkeys(k for f in files for k, _ in f.partition_values))
    known = {f.name.lower() for f in data.fields}
    return StoredSchema(data, StructType([StructField(n, StringType(), True) for n in names
                                          if n.lower() not in known]))
