"""A batch read of files with Auto Loader's options (SQL `read_files` in a materialized view):
every file the paths name now, with the schema given or inferred from a sample of them."""

from __future__ import annotations

from typing import Any

from lakesmith.engine.plans import PlanRead
from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.sources.files import schema_evolution
from lakesmith.sources.files.inputs import InputFile
from lakesmith.sources.files.listing import ListingRules, list_files
from lakesmith.sources.files.options import FIXED_SCHEMAS, AutoLoaderOptions


def batch_files_dataframe(spark: Any, read: PlanRead, project: Location, *,
                          with_metadata: bool) -> Any:
    from pyspark.sql.types import StringType, StructField, StructType

    from lakesmith.sources.files import formats

    where = read.describe()
    options = AutoLoaderOptions.parse(read.options, where)
    paths = tuple(Location.parse(p, base=project, options=project.options) for p in read.paths)
    if not paths:
        raise LakesmithError(f"{where}: a read of files needs a path.")
    listing = list_files(paths, ListingRules.parse(options.reader, options.path_glob_filter,
                                                   where))
    files = sorted((InputFile(s.location, s.size, s.modified_ms, p) for s, p in listing.files),
                   key=lambda f: (f.modification_time_ms, f.location.uri))
    partition_names = options.partition_columns or tuple(
        dict.fromkeys(k for f in files for k, _ in f.partition_values))
    inferred = read.schema is None and options.format not in FIXED_SCHEMAS
    if read.schema is not None:
        data = spark._parse_ddl(read.schema)
    elif not inferred:
        data = FIXED_SCHEMAS[options.format]
    else:
        if not files:
            raise LakesmithError(
                f"{where}: cannot infer the schema of {options.format} files: no files found at "
                f"{', '.join(str(p) for p in paths)}.",
                hint="check the path, or give the schema (schemaHints or .schema(...)).")
        sample = files[:options.sample_files]
        data = formats.infer_schema(spark, sample, options.format, options.reader,
                                    infer_column_types=options.infer_column_types, where=where)
        data = schema_evolution.with_hints(spark, data, options.schema_hints, where)
    known = {f.name.lower() for f in data.fields}
    partitions = StructType([StructField(n, StringType(), True) for n in partition_names
                             if n.lower() not in known])
    spec = formats.ReadSpec(
        format=options.format, options=options.reader, schema=data, partition_schema=partitions,
        rescued_data_column=schema_evolution.rescued_column(options, inferred=inferred),
        with_metadata=with_metadata, where=where)
    return formats.read_files(spark, tuple(files), spec)
