"""Comparisons whose operands Spark casts otherwise than the engine.

- A STRING compared with a BOOLEAN: Spark casts the STRING to BOOLEAN (`'true' = true` is true;
  `'abc' = true` fails CAST_INVALID_INPUT); the engine refuses the comparison ("Cannot infer
  common argument type for comparison operation Utf8 = Boolean").
- A FLOAT or DOUBLE compared with a DECIMAL, a column or a literal (`x > 0.9`: in Spark SQL `0.9`
  is a DECIMAL):
  Spark casts the DECIMAL to DOUBLE (`DecimalPrecision`: a DECIMAL beside a FLOAT or DOUBLE is
  DOUBLE); the engine casts the DOUBLE to DECIMAL(30,15), so the comparison is decided on the
  value rounded to 15 decimals (`0.9000000000000001D > 0.9` is false; Spark: true), and NaN, the
  infinities and values beyond 1e15 fail the query.

A comparison is a candidate when one side is a boolean literal (`TRUE` / `FALSE`) or a string
literal Spark reads as a boolean (`'true'`, `'yes'`, `'0'`, ...), or when both sides could be
the DECIMAL and the DOUBLE of such a pair: a DECIMAL or FLOAT/DOUBLE literal, or anything but a
literal (`d > dec`, `a.d = b.dec`, `dec > 0.5D`). The sides' types are then asked of the engine —
in SQL text all of a query's candidates together, one probe per SELECT, or none where the tables'
schemas tell them (`operand_types`). A DataFrame comparison's operands are typed whatever they
are (`plan_rewrite`)."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect.column import Column
from pyspark.sql.connect.expressions import UnresolvedFunction
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    StringType,
)

from lakesmith.engine.semantics.decimal_lists import could_differ
from lakesmith.engine.semantics.literal_types import literal_type
from lakesmith.engine.semantics.rules import ColumnRewrite, Rule, SqlRewrite

COMPARISONS = frozenset({"=", "==", "!=", "<>", "<", ">", "<=", ">=", "<=>"})
_BOOLEAN_TEXTS = frozenset({"t", "true", "y", "yes", "1", "f", "false", "n", "no", "0"})


def _boolean_like(text: str) -> bool:
    t = literal_type(text)
    if isinstance(t, BooleanType):
        return True
    return isinstance(t, StringType) and text.strip()[1:-1].strip().lower() in _BOOLEAN_TEXTS


def _candidate(args: list[str]) -> bool:
    return len(args) == 2 and (any(_boolean_like(a) for a in args)
                               or all(could_differ(a) for a in args))


def _fractional(t: DataType | None) -> bool:
    return isinstance(t, (FloatType, DoubleType))


def _coerced(types: list[DataType | None]) -> tuple[str | None, str | None] | None:
    """The casts Spark puts on the two operands (None: as they are); None when the engine's
    comparison is already Spark's."""
    a, b = types
    if isinstance(a, StringType) and isinstance(b, BooleanType):
        return "BOOLEAN", None
    if isinstance(a, BooleanType) and isinstance(b, StringType):
        return None, "BOOLEAN"
    if isinstance(a, DecimalType) and _fractional(b):
        return "DOUBLE", None
    if _fractional(a) and isinstance(b, DecimalType):
        return None, "DOUBLE"
    return None


def _comparison_sql(op: str) -> SqlRewrite:
    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        if len(args) != 2 or len(types) != 2:
            return None
        casts = _coerced(types)
        if casts is None:
            return None
        a, b = (f"CAST({arg} AS {cast})" if cast else arg
                for arg, cast in zip(args, casts, strict=True))
        return f"{a} {op} {b}"

    return rewrite


def _comparison_column(op: str) -> ColumnRewrite:
    def rewrite(args: list[Any], types: list[DataType | None]) -> Any | None:
        if len(args) != 2 or len(types) != 2:
            return None
        casts = _coerced(types)
        if casts is None:
            return None
        operands = [arg.cast(cast.lower()) if cast else arg
                    for arg, cast in zip(args, casts, strict=True)]
        return Column(UnresolvedFunction(op, [o._expr for o in operands]))

    return rewrite


COMPARISON_RULES: tuple[Rule, ...] = tuple(
    Rule(frozenset({op}), "a STRING compared with a BOOLEAN is refused (Spark casts the "
         "STRING to BOOLEAN); a DOUBLE compared with a DECIMAL is compared as a "
         "DECIMAL(30,15) (Spark casts the DECIMAL to DOUBLE)",
         _comparison_sql(op), _comparison_column(op),
         positions=lambda count: (0, 1) if count == 2 else (), refuse_untyped=False,
         candidate=_candidate)
    for op in sorted(COMPARISONS))
