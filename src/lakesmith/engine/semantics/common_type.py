"""Spark's common type of several values (ANSI type coercion, Spark 4.3's default): the type the
branches of a CASE / `if` / `when`, and the columns of the sides of a UNION, are cast to.

Spark's `AnsiTypeCoercion.findWiderCommonType`: NULL gives way to anything; integers widen to
the wider one; an integer and a DECIMAL widen to a DECIMAL holding both (`DecimalPrecision.
widerDecimalType`); a FLOAT or DOUBLE with a DECIMAL is DOUBLE; a STRING with an integer is
BIGINT, with a fractional number DOUBLE, with any other atomic type that type (so `'a'` beside
`1` fails CAST_INVALID_INPUT, as in Spark); DATE with TIMESTAMP is TIMESTAMP. The engine instead
types such expressions by their first branch, or coerces to STRING."""

from __future__ import annotations

from collections.abc import Iterable

from pyspark.sql.types import (
    ArrayType,
    AtomicType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    NullType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

MAX_PRECISION = 38
_NUMERIC_PRECEDENCE = (ByteType, ShortType, IntegerType, LongType, FloatType, DoubleType)
_INTEGRAL_DIGITS: dict[type, int] = {ByteType: 3, ShortType: 5, IntegerType: 10, LongType: 20}


class NoCommonType(Exception):
    """Spark has no common type for these types (it refuses the query: DATATYPE_MISMATCH)."""


def _precedence(t: DataType) -> int | None:
    for i, kind in enumerate(_NUMERIC_PRECEDENCE):
        if type(t) is kind:
            return i
    return None


def _integral_decimal(t: DataType) -> DecimalType | None:
    digits = _INTEGRAL_DIGITS.get(type(t))
    return None if digits is None else DecimalType(digits, 0)


def wider_decimal(a: DecimalType, b: DecimalType) -> DecimalType:
    """`DecimalPrecision.widerDecimalType`: the integral digits and the scale of both."""
    scale = max(a.scale, b.scale)
    integral = max(a.precision - a.scale, b.precision - b.scale)
    return DecimalType(min(integral + scale, MAX_PRECISION), min(scale, MAX_PRECISION))


def _datetime(a: DataType, b: DataType) -> DataType | None:
    kinds = {type(a), type(b)}
    if not kinds <= {DateType, TimestampType, TimestampNTZType}:
        return None
    if TimestampType in kinds:
        return TimestampType()
    return TimestampNTZType() if TimestampNTZType in kinds else DateType()


def _tightest(a: DataType, b: DataType) -> DataType | None:
    if same_type(a, b):
        return a
    if isinstance(a, NullType):
        return b
    if isinstance(b, NullType):
        return a
    pa, pb = _precedence(a), _precedence(b)
    if pa is not None and pb is not None:
        wider = _NUMERIC_PRECEDENCE[max(pa, pb)]()
        # an integer and a FLOAT: DOUBLE, so the integer keeps its digits
        return DoubleType() if isinstance(wider, FloatType) and pa != pb else wider
    for x, d in ((a, b), (b, a)):
        as_decimal = _integral_decimal(x)
        if as_decimal is not None and isinstance(d, DecimalType) and \
                d.precision - d.scale >= as_decimal.precision:
            return d
    return _datetime(a, b)


def _decimal(a: DataType, b: DataType) -> DataType | None:
    if isinstance(a, DecimalType) and isinstance(b, DecimalType):
        return wider_decimal(a, b)
    for x, d in ((a, b), (b, a)):
        if isinstance(d, DecimalType):
            as_decimal = _integral_decimal(x)
            if as_decimal is not None:
                return wider_decimal(as_decimal, d)
            if isinstance(x, (FloatType, DoubleType)):
                return DoubleType()
    return None


def _string(a: DataType, b: DataType) -> DataType | None:
    if isinstance(b, StringType) and not isinstance(a, StringType):
        a, b = b, a
    if not isinstance(a, StringType):
        return None
    if _integral_decimal(b) is not None:
        return LongType()
    if isinstance(b, (FloatType, DoubleType, DecimalType)):
        return DoubleType()
    if isinstance(b, (NullType, StringType)):
        return a
    if isinstance(b, AtomicType) and not type(b).__name__.endswith("IntervalType"):
        return b
    return None


def _complex(a: DataType, b: DataType) -> DataType | None:
    if isinstance(a, ArrayType) and isinstance(b, ArrayType):
        return ArrayType(wider(a.elementType, b.elementType),
                         a.containsNull or b.containsNull)
    if isinstance(a, MapType) and isinstance(b, MapType):
        return MapType(wider(a.keyType, b.keyType), wider(a.valueType, b.valueType),
                       a.valueContainsNull or b.valueContainsNull)
    if isinstance(a, StructType) and isinstance(b, StructType) and \
            [f.name.lower() for f in a.fields] == [f.name.lower() for f in b.fields]:
        return StructType([StructField(fa.name, wider(fa.dataType, fb.dataType),
                                       fa.nullable or fb.nullable)
                           for fa, fb in zip(a.fields, b.fields, strict=True)])
    return None


def wider(a: DataType, b: DataType) -> DataType:
    """`findWiderTypeForTwo`; raises NoCommonType where Spark has none."""
    for rule in (_tightest, _decimal, _string, _complex):
        found = rule(a, b)
        if found is not None:
            return found
    raise NoCommonType(f"{a.simpleString()} and {b.simpleString()}")


def common_type(types: Iterable[DataType]) -> DataType:
    """`findWiderCommonType` of all `types` (NULL when there are none)."""
    result: DataType = NullType()
    for t in types:
        result = wider(result, t)
    return result


def same_type(a: DataType, b: DataType) -> bool:
    """Equal types, nullability of elements and fields aside (a cast would not change them)."""
    return a.simpleString() == b.simpleString()


def needs_cast(t: DataType, target: DataType) -> bool:
    """Whether a value of type `t` must be cast to `target` (a NULL too: the engine may type
    the whole expression by it)."""
    return not same_type(t, target)


def sql_type(t: DataType) -> str:
    """The type as written in a CAST (`decimal(11,1)`, `array<bigint>`)."""
    return t.simpleString()

