"""Values the engine parsed, turned into the column types Spark's readers give.

Sail's `from_json` differs from Spark's JSON parser for some types: it fails on TIMESTAMP and
DATE fields, and it wraps an INT that overflows (3000000000 becomes -1294967296) where Spark
rejects the value. Such leaves are parsed as a wider or textual type (`parse_type`) and converted
here (`convert`), so every type reaches the user with Spark's answer or NULL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    MapType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from lakesmith.engine.ddl import type_ddl
from lakesmith.engine.semantics.string_dates import string_to_date_column

RANGES: dict[type[DataType], tuple[int, int]] = {
    IntegerType: (-(2**31), 2**31 - 1), ShortType: (-(2**15), 2**15 - 1),
    ByteType: (-(2**7), 2**7 - 1)}
TEXTUAL = (TimestampType, TimestampNTZType, DateType, DecimalType)


def parse_type(data_type: DataType) -> DataType:
    """The type to ask `from_json` for so that `convert` can give `data_type` exactly."""
    if isinstance(data_type, StructType):
        return StructType([StructField(f.name, parse_type(f.dataType)) for f in data_type.fields])
    if isinstance(data_type, ArrayType):
        return ArrayType(parse_type(data_type.elementType))
    if isinstance(data_type, MapType):
        return MapType(StringType(), parse_type(data_type.valueType))
    if type(data_type) in RANGES:
        return LongType()
    if isinstance(data_type, TEXTUAL):
        return StringType()
    return data_type


def needs_conversion(data_type: DataType) -> bool:
    return parse_type(data_type) != data_type


def convert(value: Column, data_type: DataType, options: Mapping[str, str]) -> Column:
    """`value` (parsed as `parse_type(data_type)`) as `data_type`; NULL where Spark rejects it."""
    if not needs_conversion(data_type):
        return value
    if isinstance(data_type, StructType):
        fields = [convert(value[f.name], f.dataType, options).alias(f.name)
                  for f in data_type.fields]
        return F.when(value.isNull(), F.lit(None).cast(type_ddl(data_type))).otherwise(
            F.struct(*fields))
    if isinstance(data_type, ArrayType):
        element = data_type.elementType
        return F.transform(value, lambda x: convert(x, element, options))
    if isinstance(data_type, MapType):
        value_type = data_type.valueType
        return F.transform_values(value, lambda _k, v: convert(v, value_type, options))
    if type(data_type) in RANGES:
        low, high = RANGES[type(data_type)]
        return F.when(value.between(low, high), value.cast(type_ddl(data_type)))
    return textual(data_type, options)(value)


def textual(data_type: DataType, options: Mapping[str, str]) -> Callable[[Column], Column]:
    """How a value written as text becomes `data_type`, honouring dateFormat/timestampFormat."""
    target = type_ddl(data_type)
    if isinstance(data_type, DateType) and options.get("dateformat"):
        date_format = F.lit(options["dateformat"])
        return lambda v: F.try_to_timestamp(v, date_format).cast("date")
    if isinstance(data_type, (TimestampType, TimestampNTZType)) and options.get("timestampformat"):
        timestamp_format = F.lit(options["timestampformat"])
        return lambda v: F.try_to_timestamp(v, timestamp_format).cast(target)
    if isinstance(data_type, DateType):  # "2026-11-02T10:00:00Z" is a DATE to Spark's readers
        return lambda v: string_to_date_column(v, try_=True)
    return lambda v: v.try_cast(target)
