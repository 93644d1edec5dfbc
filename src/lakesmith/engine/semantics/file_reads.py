"""`spark.read.json/csv` with a schema that has DATE columns, with Spark's answer: the engine's
readers turn an ISO-8601 timestamp with a zone offset into the date in UTC
(`2026-11-02T23:30:00-05:00` becomes 2026-11-03), Spark's into the date written (2026-11-02).
Such columns are read as STRING and converted as Spark's `stringToDate` reads them
(`string_dates`); an impossible date is NULL, as in Spark's PERMISSIVE mode."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.types import DateType, StringType, StructField, StructType

from lakesmith.engine.ddl import ddl_of, quote_name
from lakesmith.engine.plans import dataframe_of, relation_of
from lakesmith.engine.semantics.string_dates import string_to_date_column

_FORMATS = frozenset({"json", "csv"})


def read_dates_as_spark(spark: Any, rel: proto.Relation) -> None:
    """Rewrite `rel`, a file read, in place where its schema has DATE columns."""
    source = rel.read.data_source if rel.read.WhichOneof("read_type") == "data_source" else None
    if source is None or (source.format or "").lower() not in _FORMATS or not source.schema \
            or rel.read.is_streaming:
        return
    schema = dataframe_of(spark, rel).schema
    dates = [f.name for f in schema.fields if isinstance(f.dataType, DateType)]
    options = {k.lower(): v for k, v in source.options.items()}
    corrupt = options.get("columnnameofcorruptrecord", "_corrupt_record")
    if not dates or corrupt in schema.fieldNames():
        return  # a bad date must still mark its row corrupt: left to the engine
    as_strings = StructType([StructField(f.name, StringType(), f.nullable)
                             if f.name in dates else f for f in schema.fields])
    read = proto.Relation()
    read.CopyFrom(rel)
    read.read.data_source.schema = ddl_of(as_strings)
    read.ClearField("common")
    raw = dataframe_of(spark, read)
    failfast = options.get("mode", "").upper() == "FAILFAST"
    columns = [string_to_date_column(F.col(quote_name(f.name)), try_=not failfast).alias(f.name)
               if f.name in dates else F.col(quote_name(f.name)) for f in schema.fields]
    plan_id = rel.common.plan_id if rel.HasField("common") else None
    rel.CopyFrom(relation_of(raw.select(*columns)))
    # Columns referenced as df["c"] point at the original read's plan id: keep it.
    if plan_id is not None:
        rel.common.plan_id = plan_id
