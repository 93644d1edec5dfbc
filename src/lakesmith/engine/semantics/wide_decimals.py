"""DECIMAL `+ - *` whose exact result does not fit 38 digits, with Spark's answer: Spark computes
the exact value (Java's BigDecimal), rounds it HALF_UP to the result type's scale (reduced by
DecimalPrecision's `allowPrecisionLoss`, e.g. DECIMAL(38,18) * DECIMAL(38,18) is
DECIMAL(38,6)) and fails with NUMERIC_VALUE_OUT_OF_RANGE when it has more than 38 digits. The
engine computes in 38 digits at the exact scale, so such a product overflows at once
("Arithmetic overflow" for 123.45 * 2 at scale 18), and a sum beyond 38 digits is kept unchecked.

The operands are cast to 76-digit DECIMALs (the engine's Decimal256), where the exact value
fits, and the result cast back to Spark's type: that cast rounds HALF_UP and fails when the value
needs more than 38 digits, as Spark does."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DecimalType

from lakesmith.engine.semantics.common_type import MAX_PRECISION

WIDE_PRECISION = 76  # Decimal256


def exact_precision(op: str, a: DecimalType, b: DecimalType) -> int:
    """The digits of the exact result of `a op b` (before DecimalPrecision adjusts it)."""
    if op == "*":
        return a.precision + b.precision + 1
    return max(a.precision - a.scale, b.precision - b.scale) + max(a.scale, b.scale) + 1


def needs_wide(op: str, a: DecimalType, b: DecimalType) -> bool:
    return op in ("+", "-", "*") and exact_precision(op, a, b) > MAX_PRECISION


def _wide(t: DecimalType) -> str:
    return f"decimal({WIDE_PRECISION},{t.scale})"


def wide_sql(op: str, a: str, b: str, types: tuple[DecimalType, DecimalType],
             result: DecimalType) -> str:
    """SQL for `a op b` computed exactly, then rounded and checked into `result`."""
    exact = f"CAST({a} AS {_wide(types[0])}) {op} CAST({b} AS {_wide(types[1])})"
    return f"CAST(round({exact}, {result.scale}) AS {result.simpleString()})"


def wide_column(op: str, a: Any, b: Any, types: tuple[DecimalType, DecimalType],
                result: DecimalType) -> Any:
    """The Column for `a op b` computed exactly, then rounded and checked into `result`."""
    wa, wb = a.cast(_wide(types[0])), b.cast(_wide(types[1]))
    exact = wa * wb if op == "*" else (wa + wb if op == "+" else wa - wb)
    return F.round(exact, result.scale).cast(result)
