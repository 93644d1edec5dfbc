"""`bround(x, d)` (banker's rounding) with Spark's answer: HALF_EVEN on the decimal value — of a
DECIMAL, with round's result type (one more integral digit), and of a DOUBLE or FLOAT its decimal
text, as Spark rounds `BigDecimal(Double.toString(x))` (`bround(1.015D, 2)` is 1.02). The engine
returns DOUBLE for a DECIMAL and rounds it HALF_UP (or fails on a DECIMAL column), and rounds a
double's binary value (1.01).

HALF_EVEN is HALF_UP's answer except on an exact tie whose kept last digit is odd, which goes
one unit back towards zero; a tie is told exactly in DECIMAL arithmetic. A double is rounded as
a DECIMAL only near a tie (elsewhere its binary value rounds the same way), as `round` does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType, DecimalType, DoubleType, FloatType, StringType

from lakesmith.engine.semantics.rules import Rule, round_decimal_type

_TEXT_DECIMAL = "DECIMAL(38, 18)"  # a double's text as a DECIMAL (as `round` reads it)
_HALFWAY_BAND = "1e-6"


def _scale_of(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _unit(scale: int) -> str:
    """10^-scale as an exact DECIMAL literal (`0.01`, `1`, `100`)."""
    return format(Decimal(1).scaleb(-scale), "f")


def _half(scale: int) -> str:
    return format(Decimal(5).scaleb(-scale - 1), "f")


def _half_even_sql(x: str, scale: int) -> str:
    """HALF_EVEN of the DECIMAL `x` at `scale`, from the engine's HALF_UP round."""
    up = f"round({x}, {scale})"
    unit, tens = _unit(scale), _unit(-scale)
    odd_tie = f"abs({up} - {x}) = {_half(scale)} AND abs(({up} * {tens}) % 2) = 1"
    return (f"(CASE WHEN {odd_tie} THEN CASE WHEN {x} < 0 THEN {up} + {unit} "
            f"ELSE {up} - {unit} END ELSE {up} END)")


def _half_even_column(x: Any, scale: int) -> Any:
    up = F.round(x, scale)
    unit, tens = F.lit(Decimal(_unit(scale))), F.lit(Decimal(_unit(-scale)))
    odd_tie = (F.abs(up - x) == F.lit(Decimal(_half(scale)))) & (F.abs((up * tens) % 2) == 1)
    return F.when(odd_tie, F.when(x < 0, up + unit).otherwise(up - unit)).otherwise(up)


def _bround_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    x, t = args[0], types[0]
    if isinstance(t, StringType):  # Spark casts the text to DOUBLE (ANSI: bad text fails)
        x, t = f"CAST(({x}) AS DOUBLE)", DoubleType()
    scale = _scale_of(args[1]) if len(args) > 1 else 0
    if scale is None or len(args) > 2:
        return None
    if isinstance(t, DecimalType):
        result = round_decimal_type(t, str(scale))
        return None if result is None else \
            f"CAST({_half_even_sql(x, scale)} AS {result.simpleString()})"
    if isinstance(t, (DoubleType, FloatType)):
        result_type = "FLOAT" if isinstance(t, FloatType) else "DOUBLE"
        double = f"CAST({x} AS DOUBLE)"
        text = f"try_cast(CAST({double} AS STRING) AS {_TEXT_DECIMAL})"
        scaled = f"abs({double}) * power(10, {scale})"
        near_tie = f"abs({scaled} - floor({scaled}) - 0.5D) < {_HALFWAY_BAND}D"
        exact = f"CAST({_half_even_sql(text, scale)} AS {result_type})"
        engine = f"bround({x}, {scale})"
        return (f"(CASE WHEN isnan({double}) OR NOT ({near_tie}) THEN {engine} "
                f"ELSE coalesce({exact}, {engine}) END)")
    return None


def _literal_scale(column: Any) -> int | None:
    plan = getattr(getattr(column, "_expr", None), "_plan", None)
    if plan is None or plan.WhichOneof("expr_type") != "literal":
        return None
    kind = plan.literal.WhichOneof("literal_type")
    return int(getattr(plan.literal, kind)) if kind in ("integer", "long", "short",
                                                        "byte") else None


def _bround_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    x, t = args[0], types[0]
    if isinstance(t, StringType):
        x, t = x.cast("double"), DoubleType()
    scale = _literal_scale(args[1]) if len(args) > 1 else 0
    if scale is None or len(args) > 2:
        return None
    if isinstance(t, DecimalType):
        result = round_decimal_type(t, str(scale))
        return None if result is None else _half_even_column(x, scale).cast(result)
    if isinstance(t, (DoubleType, FloatType)):
        double = x.cast("double")
        text = double.cast("string").try_cast(_TEXT_DECIMAL.replace(" ", "").lower())
        scaled = F.abs(double) * F.pow(F.lit(10.0), F.lit(scale))
        near_tie = F.abs(scaled - F.floor(scaled) - 0.5) < float(_HALFWAY_BAND)
        exact = _half_even_column(text, scale).cast("float" if isinstance(t, FloatType)
                                                   else "double")
        engine = F.bround(x, scale)
        return F.when(F.isnan(double) | ~near_tie, engine).otherwise(F.coalesce(exact, engine))
    return None


BROUND_RULE = Rule(frozenset({"bround"}), "bround of DECIMAL returns DOUBLE and rounds HALF_UP; "
                   "of DOUBLE it rounds the binary value, Spark the decimal text HALF_EVEN; of STRING it "
                   "fails to plan",
                   _bround_sql, _bround_column, typed=1)
