"""A batch read of files with Auto Loader's options (SQL `read_files` in a materialized view):
every file the paths name now, with the schema given or inferred from a sample of them."""

from __future__ import annotations

from typing import Any

from lakesmith.engine.plans import PlanRead
from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.sources.files import schema_evolution
from lakesmith.sources.files.file_schema import (
    inference_sample,
    inferred_columns,
    with_partitions,
)
from lakesmith.sources.files.inputs import InputFile
from lakesmith.sources.files.listing import ListingRules, list_files
from lakesmith.sources.files.options import FIXED_SCHEMAS, AutoLoaderOptions


def batch_files_dataframe(spark: Any, read: PlanRead, project: Location, *,
                          with_metadata: bool) -> Any:
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
        data = inferred_columns(spark, inference_sample(files, options), options, where)
    schema = with_partitions(data, files, options)
    spec = formats.ReadSpec(
        format=options.format, options=options.reader, schema=schema.data,
        partition_schema=schema.partitions,
        rescued_data_column=schema_evolution.rescued_column(options, inferred=inferred),
        with_metadata=with_metadata, where=where)
    return formats.read_files(spark, tuple(files), spec)
