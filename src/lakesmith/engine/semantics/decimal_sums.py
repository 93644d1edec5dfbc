"""`sum` and `avg` of DECIMAL whose total needs more than 38 digits, with Spark's answer: Spark
sums exactly and fails under ANSI (ARITHMETIC_OVERFLOW "Overflow in sum of decimals"; over a
window NUMERIC_VALUE_OUT_OF_RANGE naming the value) when the total does not fit the result type
`decimal(min(38, p + 10), s)`; `avg` is that total over the count, rounded HALF_UP to
`decimal(min(38, p + 4), min(38, s + 4))`. The engine keeps a 39-digit total in a 38-digit
column, silently, and truncates the mean.

Only a DECIMAL of more than 28 digits can reach it (below, the result type has ten spare digits:
ten billion rows of the largest value): such sums are computed in 76 digits (the engine's
Decimal256, `wide_decimals`) and checked into Spark's type, failing with Spark's error class."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType, DecimalType

from lakesmith.engine.semantics.common_type import MAX_PRECISION
from lakesmith.engine.semantics.sql_text import is_window
from lakesmith.engine.semantics.wide_decimals import WIDE_PRECISION
from lakesmith.sql_literal import sql_string

# The widest DECIMAL whose sum fits its result type `decimal(p + 10, s)` without a cap.
UNCAPPED_PRECISION = MAX_PRECISION - 10
_DISTINCT = re.compile(r"(?is)^distinct\s+")
# Spark's messages end by suggesting ANSI mode off; lakesmith runs ANSI (Spark 4.3's default)
# only, so the suggestion is the try_ function, which lakesmith gives Spark's NULL.
_OUT_OF_RANGE = "[NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION] "


def needs_exact_sum(t: DataType | None) -> bool:
    """Whether the engine's sum (or avg) of `t` can differ from Spark's: a DECIMAL whose total
    can pass 38 digits."""
    return isinstance(t, DecimalType) and t.precision > UNCAPPED_PRECISION


def _sum_overflow(function: str) -> str:
    return (f"[ARITHMETIC_OVERFLOW] Overflow in sum of decimals. Use `{function}` to tolerate "
            "overflow and return NULL instead.")


def _out_of_range(result: DecimalType, function: str) -> str:
    """The text after the value of Spark's NUMERIC_VALUE_OUT_OF_RANGE."""
    return (f" cannot be represented as Decimal({result.precision}, {result.scale}). "
            f"Use `{function}` to tolerate overflow and return NULL instead.")


def _mean_scales(t: DecimalType) -> tuple[DecimalType, DecimalType]:
    """(the type the total is divided in: the engine's quotient, truncated at the total's
    scale + 4, keeps one digit beyond the mean's scale, which then rounds HALF_UP as the exact
    quotient would; Spark's avg type)."""
    result = DecimalType(min(MAX_PRECISION, t.precision + 4), min(MAX_PRECISION, t.scale + 4))
    return DecimalType(WIDE_PRECISION, max(t.scale, result.scale - 3)), result


def split_distinct(argument: str) -> tuple[str, str]:
    """("DISTINCT " or "", the value) of an aggregate's SQL argument."""
    match = _DISTINCT.match(argument)
    return ("DISTINCT ", argument[match.end():]) if match else ("", argument)


def sum_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    """Spark's sum of a wide DECIMAL: the 76-digit total, checked into DECIMAL(38, s)."""
    t = types[0] if types else None
    if len(args) != 1 or not isinstance(t, DecimalType) or not needs_exact_sum(t):
        return None
    distinct, x = split_distinct(args[0])
    result = DecimalType(MAX_PRECISION, t.scale)
    total = f"sum({distinct}CAST({x} AS DECIMAL({WIDE_PRECISION},{t.scale}))){over}"
    checked = f"try_cast({total} AS {result.simpleString()})"
    if is_window(over) or distinct:  # a window's or a DISTINCT sum fails naming the value
        error = (f"raise_error(concat({sql_string(_OUT_OF_RANGE)}, CAST({total} AS STRING), "
                 f"{sql_string(_out_of_range(result, 'try_sum'))}))")
    else:
        error = f"raise_error({sql_string(_sum_overflow('try_sum'))})"
    return (f"CAST(CASE WHEN {total} IS NULL THEN NULL ELSE coalesce({checked}, {error}) END "
            f"AS {result.simpleString()})")


def avg_sql(args: list[str], types: list[DataType | None], over: str, *,
            try_: bool = False) -> str | None:
    """Spark's avg (`try_`: try_avg, NULL where avg fails)."""
    t = types[0] if types else None
    if len(args) != 1 or not isinstance(t, DecimalType) or not needs_exact_sum(t):
        return None
    distinct, x = split_distinct(args[0])
    wide, result = _mean_scales(t)
    # summed at the input's scale: the same aggregate as a `sum` of it beside (the engine
    # names both `sum(x)` and refuses two such columns)
    total = f"sum({distinct}CAST({x} AS DECIMAL({WIDE_PRECISION},{t.scale}))){over}"
    mean = (f"round(CAST({total} AS {wide.simpleString()}) / count({distinct}{x}){over}, "
            f"{result.scale})")
    out_of_range = "NULL" if try_ else (
        f"raise_error(concat({sql_string(_OUT_OF_RANGE)}, CAST({mean} AS STRING), "
        f"{sql_string(_out_of_range(result, 'try_avg'))}))")
    checked = f"coalesce(try_cast({mean} AS {result.simpleString()}), {out_of_range})"
    too_large = "NULL" if try_ else f"raise_error({sql_string(_sum_overflow('try_avg'))})"
    # over a window or DISTINCT, Spark checks the mean only
    overflow = "" if is_window(over) or distinct else (
        f"WHEN try_cast({total} AS DECIMAL({MAX_PRECISION},{t.scale})) IS NULL "
        f"THEN {too_large} ")
    return (f"CAST(CASE WHEN {total} IS NULL THEN NULL {overflow}ELSE {checked} END "
            f"AS {result.simpleString()})")


# An aggregate Column → the same aggregate over the call's window (identity outside windows).
Over = Callable[[Any], Any]


def _unwindowed(column: Any) -> Any:
    return column


def sum_column(args: list[Any], types: list[DataType | None], *, distinct: bool = False,
               over: Over | None = None) -> Any | None:
    """`sum_sql` as a Column (`sum_distinct` when `distinct`, over a window with `over`)."""
    t = types[0] if types else None
    if len(args) != 1 or not isinstance(t, DecimalType) or not needs_exact_sum(t):
        return None
    windowed = over or _unwindowed
    result = DecimalType(MAX_PRECISION, t.scale)
    wide = args[0].cast(DecimalType(WIDE_PRECISION, t.scale))
    total = windowed(F.sum_distinct(wide) if distinct else F.sum(wide))
    if over is not None or distinct:  # a window's or a DISTINCT sum fails naming the value
        error = F.raise_error(F.concat(F.lit(_OUT_OF_RANGE), total.cast("string"),
                                       F.lit(_out_of_range(result, "try_sum"))))
    else:
        error = F.raise_error(F.lit(_sum_overflow("try_sum")))
    return F.when(total.isNull(), F.lit(None)).otherwise(
        F.coalesce(total.try_cast(result), error)).cast(result)


def avg_column(args: list[Any], types: list[DataType | None], *, distinct: bool = False,
               over: Over | None = None, try_: bool = False) -> Any | None:
    """Spark's avg (`try_`: try_avg, NULL where avg fails)."""
    t = types[0] if types else None
    if len(args) != 1 or not isinstance(t, DecimalType) or not needs_exact_sum(t):
        return None
    windowed = over or _unwindowed
    wide, result = _mean_scales(t)
    x = args[0]
    same = x.cast(DecimalType(WIDE_PRECISION, t.scale))  # as in `avg_sql`
    total = windowed(F.sum_distinct(same) if distinct else F.sum(same))
    count = windowed(F.count_distinct(x) if distinct else F.count(x))
    mean = F.round(total.cast(wide) / count, result.scale)
    out_of_range = F.lit(None) if try_ else F.raise_error(F.concat(
        F.lit(_OUT_OF_RANGE), mean.cast("string"), F.lit(_out_of_range(result, "try_avg"))))
    checked = F.coalesce(mean.try_cast(result), out_of_range)
    answer = F.when(total.isNull(), F.lit(None))
    if over is None and not distinct:  # a window's or DISTINCT: the mean is checked only
        answer = answer.when(total.try_cast(DecimalType(MAX_PRECISION, t.scale)).isNull(),
                             F.lit(None) if try_ else F.raise_error(
                                 F.lit(_sum_overflow("try_avg"))))
    return answer.otherwise(checked).cast(result)
