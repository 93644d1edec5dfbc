"""Partition column types from `key=value` folder names, as Spark infers them."""

from __future__ import annotations

from pyspark.sql.types import (
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
)

from lakesmith.engine.semantics.partition_types import column_type


def test_each_column_gets_the_widest_type_of_its_values() -> None:
    assert column_type(["2024", "01", "-3"]) == IntegerType()
    assert column_type(["1", "3000000000"]) == LongType()
    assert column_type(["1", "2.5"]) == DoubleType()
    assert column_type(["1", "12345678901234567890123"]) == DecimalType(23, 0)
    assert column_type(["2024-01-05", "2024-01-06"]) == DateType()
    assert column_type(["2024-01-05", "7"]) == StringType()
    assert column_type(["x", "1"]) == StringType()
    assert column_type(["7", None]) == IntegerType()  # the default partition is NULL
    assert column_type([None]) == StringType()


def test_timestamp_values_are_left_to_the_engine() -> None:
    assert column_type(["2024-01-05 10:00:00"]) is None
