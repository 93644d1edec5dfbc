"""Arithmetic with Spark's answers (ANSI mode, Spark 4.3's default): integer `+ - *` fail on
overflow instead of wrapping; DECIMAL operations get Spark's result type (DecimalPrecision, with
`allowPrecisionLoss`) and division rounds HALF_UP where the engine truncates; `sum` of BIGINT
fails on overflow, and of DECIMAL beyond 38 digits (`decimal_sums`).

A STRING operand (the values of a bronze table read as text) is cast as Spark's ANSI coercion
casts it: to BIGINT beside an integer (`'3' + 1` is the BIGINT 4, `'2.5' + 1` fails
CAST_INVALID_INPUT), to DOUBLE beside a DECIMAL, DOUBLE or FLOAT; two STRINGs are refused as
Spark refuses them. The engine fails to plan most of these and divides two STRINGs silently."""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import (
    ByteType,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
)

from lakesmith.engine.semantics.decimal_sums import (
    Over,
    needs_exact_sum,
    split_distinct,
    sum_column,
    sum_sql,
)
from lakesmith.engine.semantics.rules import MAX_PRECISION, ColumnRewrite, Rule, SqlRewrite
from lakesmith.engine.semantics.wide_decimals import needs_wide, wide_column, wide_sql
from lakesmith.errors import NotSupportedYet

MINIMUM_ADJUSTED_SCALE = 6
_INTEGRAL_DIGITS = {ByteType: 3, ShortType: 5, IntegerType: 10, LongType: 20}
_INTEGER_LITERAL = re.compile(r"^\d+$")
_TRY = {"+": "try_add", "-": "try_subtract", "*": "try_multiply"}
_OVERFLOW = "[ARITHMETIC_OVERFLOW] integer overflow in {op}: use try_{name} to tolerate it"


def _adjust(precision: int, scale: int) -> DecimalType:
    """Spark's DecimalType.adjustPrecisionScale: keep the integral digits, give up scale."""
    if precision <= MAX_PRECISION:
        return DecimalType(precision, scale)
    integral = precision - scale
    min_scale = min(scale, MINIMUM_ADJUSTED_SCALE)
    return DecimalType(MAX_PRECISION, max(MAX_PRECISION - integral, min_scale))


def _as_decimal(t: DataType | None, text: str | None) -> DecimalType | None:
    """An operand as Spark sees it in DECIMAL arithmetic (an integer literal has its digits)."""
    if isinstance(t, DecimalType):
        return t
    if text is not None and _INTEGER_LITERAL.match(text.strip()) and \
            isinstance(t, (IntegerType, LongType)):
        return DecimalType(len(text.strip().lstrip("0") or "0"), 0)
    for kind, digits in _INTEGRAL_DIGITS.items():
        if isinstance(t, kind):
            return DecimalType(digits, 0)
    return None


def decimal_result(op: str, a: DecimalType, b: DecimalType) -> DecimalType:
    p1, s1, p2, s2 = a.precision, a.scale, b.precision, b.scale
    if op in ("+", "-"):
        scale = max(s1, s2)
        return _adjust(max(p1 - s1, p2 - s2) + scale + 1, scale)
    if op == "*":
        return _adjust(p1 + p2 + 1, s1 + s2)
    if op == "/":
        scale = max(MINIMUM_ADJUSTED_SCALE, s1 + p2 + 1)
        return _adjust(p1 - s1 + s2 + scale, scale)
    scale = max(s1, s2)  # %
    return _adjust(min(p1 - s1, p2 - s2) + scale, scale)


def _integral(t: DataType | None) -> bool:
    return isinstance(t, (ByteType, ShortType, IntegerType, LongType))


def _decimal_operands(types: list[DataType | None], texts: list[str] | None
                      ) -> tuple[DecimalType, DecimalType] | None:
    if not any(isinstance(t, DecimalType) for t in types):
        return None
    a = _as_decimal(types[0], texts[0] if texts else None)
    b = _as_decimal(types[1], texts[1] if texts else None)
    return (a, b) if a is not None and b is not None else None


class _Unrepresentable(Exception):
    """The numerator cannot be widened enough within 38 digits: the division is left as is."""


def _numerator_type(a: DecimalType, result: DecimalType) -> DecimalType | None:
    """The type the numerator is cast to so the engine (scale of a quotient: the numerator's
    + 4) computes one digit beyond Spark's result scale; None when it already does."""
    needed = result.scale + 1 - 4
    if needed <= a.scale:
        return None
    integral = a.precision - a.scale
    if integral + needed > MAX_PRECISION:
        raise _Unrepresentable
    return DecimalType(integral + needed, needed)


def _widest_small(types: list[DataType | None]) -> str:
    """The wider of two TINYINT/SMALLINT operand types (Spark's result type)."""
    return "SMALLINT" if any(isinstance(t, ShortType) for t in types) else "TINYINT"


def string_targets(op: str, types: list[DataType | None]) -> list[str] | None:
    """The types Spark's ANSI coercion casts STRING operands of `op` to (one per operand, ""
    for one left as it is), or None when no operand is a STRING or the other is not a number."""
    strings = [isinstance(t, StringType) for t in types]
    if not any(strings):
        return None
    if all(strings):
        raise NotSupportedYet(
            f"`{op}` of two STRING values: Apache Spark refuses this query with "
            "DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE (the operator needs numbers).",
            hint="cast the operands to a numeric type, e.g. CAST(x AS DOUBLE).")
    other = types[1] if strings[0] else types[0]
    if _integral(other):
        target = "BIGINT"
    elif isinstance(other, (DecimalType, DoubleType, FloatType)):
        target = "DOUBLE"
    else:
        return None
    return [target if is_string or target == "DOUBLE" else ""
            for is_string in strings]


_SQL_TYPES: dict[str, DataType] = {"BIGINT": LongType(), "DOUBLE": DoubleType()}


def _operation_sql(op: str) -> SqlRewrite:
    integral_or_decimal = _numeric_operation_sql(op)

    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        targets = string_targets(op, types)
        if targets is None:
            return integral_or_decimal(args, types, over)
        cast = [f"CAST(({a}) AS {t})" if t else a for a, t in zip(args, targets, strict=True)]
        typed = [_SQL_TYPES[t] if t else types[i] for i, t in enumerate(targets)]
        return integral_or_decimal(cast, typed, over) or f"({cast[0]} {op} {cast[1]})"

    return rewrite


def _numeric_operation_sql(op: str) -> SqlRewrite:
    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        a, b = f"({args[0]})", f"({args[1]})"
        if op in _TRY and _integral(types[0]) and _integral(types[1]):
            if any(isinstance(t, (ByteType, ShortType)) for t in types) and not any(
                    isinstance(t, (IntegerType, LongType)) for t in types):
                return (f"CAST(CAST({a} AS INT) {op} CAST({b} AS INT) AS "
                        f"{_widest_small(types)})")
            message = _OVERFLOW.format(op=op, name=_TRY[op][4:])
            if any(isinstance(t, LongType) for t in types):  # the engine wants one type
                a, b = f"CAST({a} AS BIGINT)", f"CAST({b} AS BIGINT)"
            return (f"coalesce({_TRY[op]}({a}, {b}), CASE WHEN {a} IS NULL OR {b} IS NULL "
                    f"THEN NULL ELSE raise_error('{message}') END)")
        decimals = _decimal_operands(types, args)
        if decimals is None or op not in ("+", "-", "*", "/", "%"):
            return None
        result = decimal_result(op, *decimals)
        if op == "/":
            try:
                numerator = _numerator_type(decimals[0], result)
            except _Unrepresentable:
                return None
            if numerator is not None:
                a = f"CAST({a} AS {numerator.simpleString()})"
            return f"CAST(round({a} / {b}, {result.scale}) AS {result.simpleString()})"
        if needs_wide(op, *decimals):
            return wide_sql(op, a, b, decimals, result)
        return f"CAST({a} {op} {b} AS {result.simpleString()})"

    return rewrite


def _operation_column(op: str) -> ColumnRewrite:
    integral_or_decimal = _numeric_operation_column(op)

    def rewrite(args: list[Any], types: list[DataType | None]) -> Any | None:
        targets = string_targets(op, types)
        if targets is None:
            return integral_or_decimal(args, types)
        cast = [a.cast(t.lower()) if t else a for a, t in zip(args, targets, strict=True)]
        typed = [_SQL_TYPES[t] if t else types[i] for i, t in enumerate(targets)]
        result = integral_or_decimal(cast, typed)
        return result if result is not None else _apply(op, *cast)

    return rewrite


def _numeric_operation_column(op: str) -> ColumnRewrite:
    def rewrite(args: list[Any], types: list[DataType | None]) -> Any | None:
        a, b = args
        if op in _TRY and _integral(types[0]) and _integral(types[1]):
            if not any(isinstance(t, (IntegerType, LongType)) for t in types):
                result = _apply(op, a.cast("int"), b.cast("int"))
                return result.cast(_widest_small(types).lower())
            message = _OVERFLOW.format(op=op, name=_TRY[op][4:])
            if any(isinstance(t, LongType) for t in types):  # the engine wants one type
                a, b = a.cast("bigint"), b.cast("bigint")
            checked = getattr(F, _TRY[op])(a, b)
            return F.coalesce(checked, F.when(a.isNull() | b.isNull(), F.lit(None))
                              .otherwise(F.raise_error(F.lit(message))))
        decimals = _decimal_operands(types, [_literal_text(a), _literal_text(b)])
        if decimals is None:
            return None
        result = decimal_result(op, *decimals)
        if op == "/":
            try:
                numerator = _numerator_type(decimals[0], result)
            except _Unrepresentable:
                return None
            if numerator is not None:
                a = a.cast(numerator)
            return F.round(a / b, result.scale).cast(result)
        if needs_wide(op, *decimals):
            return wide_column(op, a, b, decimals, result)
        return _apply(op, a, b).cast(result)

    return rewrite


def _literal_text(column: Any) -> str:
    """An integer literal's digits (Spark types it by them in DECIMAL arithmetic), else ""."""
    plan = getattr(getattr(column, "_expr", None), "_plan", None)
    if plan is None or plan.WhichOneof("expr_type") != "literal":
        return ""
    kind = plan.literal.WhichOneof("literal_type")
    return str(abs(getattr(plan.literal, kind))) if kind in ("integer", "long") else ""


def _apply(op: str, a: Any, b: Any) -> Any:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return a % b


def _sum_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    if needs_exact_sum(types[0]):
        return sum_sql(args, types, over)
    if len(args) != 1 or not isinstance(types[0], LongType):
        return None
    distinct, x = split_distinct(args[0])
    return f"CAST(sum({distinct}CAST({x} AS DECIMAL(38, 0))){over} AS BIGINT)"


def _sum_column(args: list[Any], types: list[DataType | None], *, distinct: bool = False,
                over: Over | None = None) -> Any | None:
    if needs_exact_sum(types[0]):
        return sum_column(args, types, distinct=distinct, over=over)
    if len(args) != 1 or not isinstance(types[0], LongType):
        return None
    wide = args[0].cast("decimal(38,0)")
    total = F.sum_distinct(wide) if distinct else F.sum(wide)
    return (total if over is None else over(total)).cast("bigint")


OPERATOR_RULES: tuple[Rule, ...] = tuple(
    Rule(frozenset({op}), f"`{op}` on integers wraps around on overflow (Spark fails under "
         "ANSI); on DECIMAL it has another result type" + (
             " and truncates" if op == "/" else "") + "; with a STRING operand it fails to plan",
         _operation_sql(op), _operation_column(op), typed=2, refuse_untyped=False)
    for op in ("+", "-", "*", "/", "%"))

SUM_RULE = Rule(frozenset({"sum"}), "sum of BIGINT wraps around on overflow (Spark fails "
                "under ANSI); a sum of DECIMAL beyond 38 digits is kept as is",
                _sum_sql, _sum_column, typed=1, refuse_untyped=False,
                distinct_column=lambda args, types: _sum_column(args, types, distinct=True),
                window_column=lambda args, types, over: _sum_column(args, types, over=over))
