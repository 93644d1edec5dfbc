"""Spark's common type (AnsiTypeCoercion.findWiderCommonType) and literal types, as the
conformance suite's golden answers show them (`coercion/*`), without an engine."""

from __future__ import annotations

import pytest
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    NullType,
    StringType,
    TimestampType,
)

from lakesmith.engine.semantics.common_type import NoCommonType, common_type
from lakesmith.engine.semantics.literal_types import literal_type


@pytest.mark.parametrize(("types", "expected"), [
    ([IntegerType(), DecimalType(2, 1)], DecimalType(11, 1)),      # CASE .. 1 .. 2.5
    ([DecimalType(5, 1), IntegerType()], DecimalType(11, 1)),      # decimals/decimal_in_case
    ([DecimalType(10, 2), LongType()], DecimalType(22, 2)),        # ifnull(l, m)
    ([DecimalType(2, 1), DoubleType()], DoubleType()),             # if(true, 1.5, 2D)
    ([IntegerType(), LongType()], LongType()),
    ([LongType(), FloatType()], DoubleType()),                     # integer with FLOAT
    ([StringType(), IntegerType()], LongType()),                   # 'a' beside 1: BIGINT
    ([StringType(), DoubleType()], DoubleType()),
    ([StringType(), DecimalType(10, 2)], DoubleType()),
    ([StringType(), DateType()], DateType()),
    ([StringType(), BooleanType()], BooleanType()),
    ([DateType(), TimestampType()], TimestampType()),
    ([NullType(), DecimalType(2, 1), IntegerType()], DecimalType(11, 1)),
    ([DecimalType(38, 10), DecimalType(38, 20)], DecimalType(38, 20)),  # bounded, not adjusted
    ([ArrayType(IntegerType()), ArrayType(DoubleType())], ArrayType(DoubleType())),
])
def test_common_type(types, expected) -> None:
    assert common_type(types).simpleString() == expected.simpleString()


def test_no_common_type() -> None:
    with pytest.raises(NoCommonType, match="date and boolean"):
        common_type([DateType(), BooleanType()])


@pytest.mark.parametrize(("text", "expected"), [
    ("1", IntegerType()), ("3000000000", LongType()), ("1L", LongType()),
    ("2.5", DecimalType(2, 1)), ("0.01", DecimalType(2, 2)), ("100.50", DecimalType(5, 2)),
    ("99999999999999999999", DecimalType(20, 0)), ("1e3", DoubleType()), ("2D", DoubleType()),
    ("'a'", StringType()), ("NULL", NullType()), ("true", BooleanType()), ("x", None),
    ("1 + 1", None),
])
def test_literal_type(text, expected) -> None:
    found = literal_type(text)
    assert (found.simpleString() if found else None) == (
        expected.simpleString() if expected else None)
