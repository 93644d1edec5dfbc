"""The type Spark gives a partition column of `spark.read` from its `key=value` folder names
(`PartitioningUtils.inferPartitionColumnValue`, type inference on by default): each value is
tried as INT, BIGINT, DECIMAL(p, 0) (integers beyond BIGINT), DOUBLE, then DATE
(`yyyy-MM-dd`), else STRING; a column's type is the widest of its values' types (numbers widen,
DECIMAL and DOUBLE give DOUBLE), STRING when they do not meet. A value that would be a
TIMESTAMP is not inferred here: None, and the caller keeps the engine's reader."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pyspark.sql.types import (
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
)

_INTEGER = re.compile(r"[+-]?[0-9]+")
# Java's Double.parseDouble (trimmed): decimal and exponent forms, NaN, Infinity, a d/f suffix.
_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP_LIKE = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[ T]")


def value_type(raw: str) -> DataType | None:
    text = raw.strip()
    if _INTEGER.fullmatch(raw):
        number = int(raw)
        if -2**31 <= number < 2**31:
            return IntegerType()
        if -2**63 <= number < 2**63:
            return LongType()
        digits = len(raw.lstrip("+-").lstrip("0")) or 1
        return DecimalType(digits, 0) if digits <= 38 else DoubleType()
    if _DOUBLE.fullmatch(text):
        return DoubleType()
    if _DATE.fullmatch(raw):
        return DateType()
    if _TIMESTAMP_LIKE.match(raw):
        return None
    return StringType()


def column_type(values: Iterable[str | None]) -> DataType | None:
    """The partition column's type from its values (None: the default partition)."""
    merged: DataType | None = None
    for raw in values:
        if raw is None:
            continue
        found = value_type(raw)
        if found is None:
            return None
        merged = found if merged is None else _wider(merged, found)
    return StringType() if merged is None else merged


def _wider(a: DataType, b: DataType) -> DataType:
    if a == b:
        return a
    numeric = (IntegerType, LongType, DecimalType, DoubleType)
    if isinstance(a, numeric) and isinstance(b, numeric):
        if isinstance(a, (DoubleType, DecimalType)) or isinstance(b, (DoubleType, DecimalType)):
            if isinstance(a, DecimalType) and isinstance(b, DecimalType):
                return DecimalType(max(a.precision, b.precision), 0)
            if isinstance(a, DecimalType) and isinstance(b, (IntegerType, LongType)):
                return a
            if isinstance(b, DecimalType) and isinstance(a, (IntegerType, LongType)):
                return b
            return DoubleType()
        return LongType()
    return StringType()
