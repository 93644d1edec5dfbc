"""`date_trunc(unit, x)` is a TIMESTAMP in Spark whatever `x` is (a DATE, a STRING, a
TIMESTAMP_NTZ are read as timestamps in the session time zone first). The engine gives a
TIMESTAMP_NTZ for anything but a TIMESTAMP, with the same wall-clock value: a gold table grouped
by `date_trunc('MONTH', order_date)` would get another column type, silently. The result is cast
to TIMESTAMP, which reads that wall clock in the session time zone, as Spark does (a no-op where
the engine already gives a TIMESTAMP)."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType

from lakesmith.engine.semantics.rules import Rule


def _date_trunc_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) != 2:
        return None  # the engine's error about the arguments, as written
    return f"CAST(date_trunc({args[0]}, {args[1]}) AS TIMESTAMP)"


def _date_trunc_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    if len(args) != 2:
        return None
    return F.call_function("date_trunc", *args).cast("timestamp")


DATE_TRUNC_RULE = Rule(frozenset({"date_trunc"}), "date_trunc of a DATE, STRING or "
                       "TIMESTAMP_NTZ is a TIMESTAMP_NTZ (Spark: a TIMESTAMP)",
                       _date_trunc_sql, _date_trunc_column)
