"""Batch `spark.read.json/csv` (and `.format("json"|"csv").load`) with Spark's answers. The
engine's own readers differ from Spark's: CSV infers BIGINT where Spark infers INT, unescapes
doubled quotes (Spark's default escape is a backslash), truncates DECIMAL values (Spark rounds
HALF_UP); JSON keeps the file's field order and types an all-NULL field VOID (Spark sorts the
fields and types it STRING). lakesmith's file readers (`sources/files/formats`, which Auto
Loader reads with) follow Spark's parsing and inference, so such a read is replaced by theirs:
the files the paths name, listed as Spark's file index lists them, the schema given or inferred
as `spark.read` infers it (no rescued-data column), every record kept.

`key=value` folders give partition columns typed as Spark infers them (`partition_types`).
Reads lakesmith's readers cannot take as written keep the engine's reader: a schema that names
a partition column, `basePath`, timestamp-valued partitions, folders that disagree on their
partition columns, and reader options or modes those readers do not implement."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.types import DataType, StringType, StructField, StructType

from lakesmith.engine.ddl import quote_name
from lakesmith.engine.plans import dataframe_of, relation_of
from lakesmith.engine.semantics.partition_types import column_type
from lakesmith.errors import LakesmithError, NotSupportedYet

_FORMATS = frozenset({"json", "csv"})


def read_files_as_spark(spark: Any, rel: proto.Relation) -> bool:
    """Rewrite `rel`, a batch JSON or CSV read of paths, in place; whether it did."""
    read = rel.read
    source = read.data_source if read.WhichOneof("read_type") == "data_source" else None
    if source is None or read.is_streaming or (source.format or "").lower() not in _FORMATS:
        return False
    paths = list(source.paths) or ([source.options["path"]] if "path" in source.options else [])
    if not paths:
        return False
    from lakesmith.sources.files import formats
    from lakesmith.sources.files.formats.spec import normalize

    format = source.format.lower()
    where = f"spark.read.{format}({', '.join(paths)})"
    options = {k: v for k, v in source.options.items() if k.lower() != "path"}
    try:
        normalize(format, options, where)
    except NotSupportedYet:
        return False  # an option these readers lack: the engine's reader, as before
    files = _listed(paths, where)
    if files is None or "basepath" in {k.lower() for k in options}:
        return False
    partitions = _partition_types(files)
    if partitions is None:
        return False
    if source.schema:
        schema = dataframe_of(spark, rel).schema
        if any(f.name.lower() in {n.lower() for n in partitions} for f in schema.fields):
            return False  # Spark takes such a column's type from the schema: the engine's
    elif not files:
        raise LakesmithError(
            f"[UNABLE_TO_INFER_SCHEMA] {where}: unable to infer the schema for "
            f"{format.upper()}: no files found.", hint="check the path, or give the schema.")
    else:
        schema = formats.infer_schema(spark, files, format, options,
                                      infer_column_types=format == "json", where=where)
    spec = formats.ReadSpec(
        format=format, options=options, schema=schema, where=where,
        partition_schema=StructType([StructField(n, StringType()) for n in partitions]))
    df = formats.read_files(spark, tuple(files), spec)
    if partitions:
        df = df.select(*[F.col(quote_name(f.name)) for f in schema.fields],
                         *[F.col(quote_name(n)).cast(t).alias(n) for n, t in partitions.items()])
    plan_id = rel.common.plan_id if rel.HasField("common") else None
    rel.CopyFrom(relation_of(df))
    # Columns referenced as df["c"] point at the original read's plan id: keep it.
    if plan_id is not None:
        rel.common.plan_id = plan_id
    return True


def _partition_types(files: list[Any]) -> dict[str, DataType] | None:
    """Spark's partition columns of `files` (`key=value` folders) with their inferred types;
    None where lakesmith does not infer them as Spark does (folders that disagree on the
    columns, timestamp values)."""
    layouts = {tuple(k.lower() for k, _ in f.partition_values) for f in files}
    if len(layouts) > 1:
        return None
    names = [k for k, _ in files[0].partition_values] if files else []
    types: dict[str, DataType] = {}
    for i, name in enumerate(names):
        found = column_type(f.partition_values[i][1] for f in files)
        if found is None:
            return None
        types[name] = found
    return types


def _listed(paths: list[str], where: str) -> list[Any] | None:
    """The files the paths name, oldest first; None when a path is not one lakesmith lists."""
    from lakesmith.locations import Location
    from lakesmith.sources.files.inputs import InputFile
    from lakesmith.sources.files.listing import ListingRules, list_files
    from lakesmith.storage_options import storage_options

    files: dict[str, InputFile] = {}
    for path in paths:
        try:
            location = Location.parse(path, where=where)
        except LakesmithError:
            return None
        if not location.is_local:
            location = Location.parse(path, options=storage_options(location.scheme, {}),
                                      where=where)
        listing = list_files([location], ListingRules()).files
        if not listing:  # a path naming one file
            listing = tuple((s, ()) for s, _ in list_files([location.parent], ListingRules())
                            .files if s.location.uri == location.uri)
        for status, partitions in listing:
            files[status.location.uri] = InputFile(status.location, status.size,
                                                   status.modified_ms, partitions)
    return sorted(files.values(), key=lambda f: (f.modification_time_ms, f.location.uri))
