"""`CAST(x AS DECIMAL(p, s))` of a DOUBLE or FLOAT with Spark's answer: Spark rounds the
number's decimal text HALF_UP (`CAST(1.005D AS DECIMAL(10,2))` is 1.01), the engine its binary
value (1.00). The text is cast instead; where the engine prints it in exponent form (which it
cannot cast back), or the value does not fit, the engine's own cast decides (and fails on
overflow, as Spark does)."""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql.types import DataType, DecimalType, DoubleType, FloatType

from lakesmith.engine.semantics.rules import Rule

_DECIMAL = re.compile(r"^\s*(?:DECIMAL|DEC|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*$",
                      re.IGNORECASE)


def decimal_of(type_text: str) -> DecimalType | None:
    match = _DECIMAL.match(type_text)
    if match is None:
        return None
    return DecimalType(int(match.group(1)), int(match.group(2) or 0))


def _cast_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    target = decimal_of(args[1]) if len(args) == 2 else None
    if target is None or not isinstance(types[0], (DoubleType, FloatType)):
        return None
    x, written = args[0], target.simpleString().upper()
    return (f"coalesce(try_cast(CAST(CAST({x} AS DOUBLE) AS STRING) AS {written}), "
            f"CAST({x} AS {written}))")


def decimal_cast_column(value: Any, value_type: DataType | None, target: DataType) -> Any | None:
    if not isinstance(target, DecimalType) or not isinstance(value_type, (DoubleType, FloatType)):
        return None
    from pyspark.sql.connect import functions as F

    return F.coalesce(value.cast("double").cast("string").try_cast(target), value.cast(target))


CAST_RULE = Rule(frozenset({"cast"}), "CAST(DOUBLE AS DECIMAL) rounds the binary value; Spark "
                 "rounds the decimal text HALF_UP", _cast_sql,
                 lambda args, types: None, typed=1, refuse_untyped=False,
                 candidate=lambda args: len(args) == 2 and decimal_of(args[1]) is not None)
