"""`CAST(x AS DECIMAL(p, s))` of a DOUBLE or FLOAT with Spark's answer: Spark rounds the
number's decimal text HALF_UP (`CAST(1.005D AS DECIMAL(10,2))` is 1.01), the engine its binary
value (1.00). The text is cast instead; where the engine prints it in exponent form (which it
cannot cast back), or the value does not fit, the engine's own cast decides (and fails on
overflow, as Spark does).

`CAST(s AS DATE)` (and `s::date`), `try_cast(s AS DATE)`, `to_date(s)` and `date(s)` of a STRING
read it as Spark does (`string_dates`): ISO-8601 timestamps with a `T` are dates."""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql.types import DataType, DateType, DecimalType, DoubleType, FloatType, StringType

from lakesmith.engine.semantics.java_doubles import (
    is_floating,
    java_string_column,
    java_string_sql,
)
from lakesmith.engine.semantics.rules import Rule
from lakesmith.engine.semantics.sql_operators import CAST_OPERATOR
from lakesmith.engine.semantics.string_dates import (
    is_string,
    string_to_date_column,
    string_to_date_sql,
)

_DECIMAL = re.compile(r"^\s*(?:DECIMAL|DEC|NUMERIC)\s*\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)\s*$",
                      re.IGNORECASE)


def decimal_of(type_text: str) -> DecimalType | None:
    match = _DECIMAL.match(type_text)
    if match is None:
        return None
    return DecimalType(int(match.group(1)), int(match.group(2) or 0))


def _is_date(type_text: str) -> bool:
    return type_text.strip().upper() == "DATE"


def _is_string_type(type_text: str) -> bool:
    return type_text.strip().upper() == "STRING"


def rewritable_target(type_text: str) -> DataType | None:
    """The target type of a cast written as text, where lakesmith may rewrite the cast."""
    if _is_string_type(type_text):
        return StringType()
    return DateType() if _is_date(type_text) else decimal_of(type_text)


def _cast_sql(args: list[str], types: list[DataType | None], over: str, *,
              try_: bool = False) -> str | None:
    if len(args) != 2:
        return None
    x, cast = args[0], "try_cast" if try_ else "CAST"
    if _is_date(args[1]):
        return string_to_date_sql(x, try_=try_) if is_string(types[0]) else None
    if _is_string_type(args[1]):
        return java_string_sql(x) if is_floating(types[0]) else None
    target = decimal_of(args[1])
    if target is None or not isinstance(types[0], (DoubleType, FloatType)):
        return None
    written = target.simpleString().upper()
    return (f"coalesce(try_cast(CAST(CAST({x} AS DOUBLE) AS STRING) AS {written}), "
            f"{cast}({x} AS {written}))")


def _try_cast_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    return _cast_sql(args, types, over, try_=True)


def cast_column(value: Any, value_type: DataType | None, target: DataType, *,
                try_: bool = False) -> Any | None:
    """`value.cast(target)` (or `try_cast`) with Spark's answer, or None where the engine's
    answer is already Spark's."""
    if isinstance(target, DateType):
        return string_to_date_column(value, try_=try_) if is_string(value_type) else None
    if isinstance(target, StringType):
        return java_string_column(value) if is_floating(value_type) else None
    if not isinstance(target, DecimalType) or not isinstance(value_type, (DoubleType, FloatType)):
        return None
    from pyspark.sql.connect import functions as F

    engine = value.try_cast(target) if try_ else value.cast(target)
    return F.coalesce(value.cast("double").cast("string").try_cast(target), engine)


def _rewritable(args: list[str]) -> bool:
    return len(args) == 2 and (decimal_of(args[1]) is not None or _is_date(args[1])
                               or _is_string_type(args[1]))


_DIFFERENCE = ("CAST(DOUBLE AS DECIMAL) rounds the binary value, Spark the decimal text HALF_UP; "
               "CAST(STRING AS DATE) fails on ISO-8601 timestamps with a 'T', which Spark reads "
               "as their date; CAST(DOUBLE AS STRING) is not written as Java writes it")
CAST_RULE = Rule(frozenset({"cast"}), _DIFFERENCE, _cast_sql, lambda args, types: None,
                 typed=1, refuse_untyped=False, candidate=_rewritable)
CAST_OPERATOR_RULE = Rule(frozenset({CAST_OPERATOR}), _DIFFERENCE, _cast_sql,
                          lambda args, types: None, typed=1, refuse_untyped=False,
                          candidate=_rewritable)
TRY_CAST_RULE = Rule(frozenset({"try_cast"}), _DIFFERENCE, _try_cast_sql,
                     lambda args, types: None, typed=1, refuse_untyped=False,
                     candidate=_rewritable)


def _to_date_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    # to_date(s) and date(s) are CAST(s AS DATE) in Spark; with a format the engine parses it.
    return string_to_date_sql(args[0], try_=False) if len(args) == 1 and is_string(
        types[0]) else None


def _to_date_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    return string_to_date_column(args[0], try_=False) if len(args) == 1 and is_string(
        types[0]) else None


TO_DATE_RULE = Rule(frozenset({"to_date", "date"}), "to_date(STRING) fails on ISO-8601 "
                    "timestamps with a 'T', which Spark reads as their date", _to_date_sql,
                    _to_date_column, typed=1, refuse_untyped=False,
                    candidate=lambda args: len(args) == 1)
