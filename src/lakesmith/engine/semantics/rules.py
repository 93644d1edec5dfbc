"""Function calls the engine (Sail 0.7) answers differently from Apache Spark 4.3, each with the
rewrite that gives Spark's answer: once as SQL text (pipeline SQL, `spark.sql`, `expr(...)`) and
once as a DataFrame column (Connect plans built with `pyspark.sql.functions`).

The reproducers and statuses are in `tests/conformance/differences.toml`
(`docs/compatibility.md`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import (
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    StringType,
)

from lakesmith.engine.semantics.decimal_sums import (
    avg_column,
    avg_sql,
    needs_exact_sum,
    split_distinct,
)
from lakesmith.engine.semantics.percentages import percentage_array, percentage_columns
from lakesmith.engine.semantics.string_dates import string_to_date_column, string_to_date_sql

MAX_PRECISION = 38
# Doubles at least this large print in exponent form and have no fraction digit to round.
_PLAIN_DOUBLE_LIMIT = "1e15"
_TINY_DOUBLE_LIMIT = "1e-4"  # smaller ones print in exponent form; they round to 0 at scale ≤ 3
# How close to halfway (absolute, and relative to the scaled value) a double must be for its
# binary value and its decimal text to round apart.
_HALFWAY_BAND, _RELATIVE_BAND = 1e-6, 1e-14

# (arguments, the types of the first `typed` arguments, the clauses after an aggregate call:
# " FILTER (WHERE ...)" and/or " OVER (...)", or "")
# → SQL, or None to leave the call as written
SqlRewrite = Callable[[list[str], list[DataType | None], str], str | None]
ColumnRewrite = Callable[[list[Any], list[DataType | None]], Any | None]
# (arguments, types, the call's window: an aggregate Column → it over that window) → Column
WindowRewrite = Callable[[list[Any], list[DataType | None], Callable[[Any], Any]], Any | None]


@dataclass(frozen=True)
class Rule:
    """A function whose engine answer differs from Spark's, and how to get Spark's.

    A rule needs the types of its first `typed` arguments (asked of the engine); a rewrite that
    returns None leaves the call as written, because the engine's answer is already Spark's for
    those types."""

    names: frozenset[str]
    difference: str
    sql: SqlRewrite
    column: ColumnRewrite
    typed: int = 0
    # Whether a call whose argument types cannot be found is refused (else left as written:
    # for `sum` and operators the engine differs only on overflow or in DECIMAL precision).
    refuse_untyped: bool = True
    # Whether the call (its argument texts) can need a rewrite at all: saves asking the engine
    # for types (CAST to anything but DECIMAL never does).
    candidate: Callable[[list[str]], bool] = lambda args: True
    # Whether the call's own result type is asked of the engine too (appended to the argument
    # types): `from_json`'s schema, written as DDL text, is read by the engine's analysis.
    typed_result: bool = False
    # A generator (`explode`): its rewrite names its own columns, never aliased after the call.
    generator: bool = False
    # Which arguments need types, by the number of arguments (default: the first `typed`); for
    # rules on the values of conditional branches (`conditionals`).
    positions: Callable[[int], tuple[int, ...]] | None = None
    # The rewrite of a DISTINCT call (`sum_distinct`) as a column; with it, SQL rewrites get
    # `DISTINCT x` as their argument (else a DISTINCT call is left as written).
    distinct_column: ColumnRewrite | None = None
    # The rewrite of a DataFrame aggregate applied over a window (`F.sum(x).over(w)`).
    window_column: WindowRewrite | None = None
    # Spark's name for the call unaliased, from its arguments as written, where the general
    # rule (its text with literals shown by value) is not Spark's (`regexp_replace(s, \W, , 1)`)
    sql_name: Callable[[list[str]], str | None] | None = None

    def typed_positions(self, count: int) -> tuple[int, ...]:
        """The indices of the arguments whose types the rewrite needs."""
        if self.positions is not None:
            return self.positions(count)
        return tuple(range(self.typed)) if count >= self.typed else ()


def _weekday_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    return f"((dayofweek({args[0]}) + 5) % 7)" if len(args) == 1 else None


def _weekday_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    return (F.dayofweek(args[0]) + 5) % 7 if len(args) == 1 else None


def _try_to_date_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) == 1:  # Spark: try_cast(x AS DATE), which reads "2026-11-02T10:00" too
        # (the engine's cast first: it is Spark's for a TIMESTAMP, whose text is in UTC)
        return f"coalesce(try_cast({args[0]} AS DATE), {string_to_date_sql(args[0], try_=True)})"
    if len(args) == 2:
        return f"CAST(try_to_timestamp({args[0]}, {args[1]}) AS DATE)"
    return None


def _try_to_date_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    if len(args) == 1:
        return F.coalesce(args[0].try_cast("date"), string_to_date_column(args[0], try_=True))
    if len(args) == 2:
        return F.try_to_timestamp(args[0], args[1]).cast("date")
    return None


def _to_timestamp_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    # Spark: "equivalent to cast(col as timestamp) if fmt is omitted" — numbers are seconds.
    return f"CAST({args[0]} AS TIMESTAMP)" if len(args) == 1 else None


def _to_timestamp_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    return args[0].cast("timestamp") if len(args) == 1 else None


def _percentile_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) not in (2, 3):
        return None
    x, p = args[0], args[1]
    percentages = percentage_array(p)
    if percentages is not None:  # one value per percentage, each computed as below
        return "array(" + ", ".join(_percentile_sql([x, q], [], over) or "" for q in
                                    percentages) + ")"
    if p.lstrip().lower().startswith("array"):
        return None
    return (f"try_element_at(array_sort(collect_list({x}){over}), "
            f"CAST(greatest(1, ceil(({p}) * count({x}){over})) AS INT))")


def _percentile_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    if len(args) not in (2, 3):
        return None
    x, p = args[0], args[1]
    percentages = percentage_columns(p)
    if percentages is not None:
        return F.array(*[c for q in percentages if (c := _percentile_column([x, q], []))
                         is not None])
    index = F.greatest(F.lit(1), F.ceil(p * F.count(x))).cast("int")
    return F.try_element_at(F.array_sort(F.collect_list(x)), index)


def _is_double_like(t: DataType | None) -> bool:
    return isinstance(t, (DoubleType, StringType))


def _round_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    x, t = args[0], types[0]
    scale = args[1] if len(args) > 1 else "0"
    if _is_double_like(t) or isinstance(t, FloatType):
        double = f"CAST({x} AS DOUBLE)"
        as_decimal = f"try_cast(CAST({double} AS STRING) AS DECIMAL(38, 18))"
        result_type = "FLOAT" if isinstance(t, FloatType) else "DOUBLE"
        exact = f"CAST(round({as_decimal}, {scale}) AS {result_type})"
        engine = f"round({x}, {scale})"
        plain = engine if isinstance(t, FloatType) else f"({engine} + 0.0D)"  # no -0.0
        scaled = f"abs({double}) * power(10, {scale})"
        # The answers differ only where the scaled value is (about) halfway between two
        # results: only there is the slower exact rounding needed.
        halfway = (f"abs({scaled} - floor({scaled}) - 0.5D) < "
                   f"greatest({_HALFWAY_BAND!r}D, {scaled} * {_RELATIVE_BAND!r}D)")
        return (f"(CASE WHEN abs({double}) >= {_PLAIN_DOUBLE_LIMIT} "
                f"OR abs({double}) < {_TINY_DOUBLE_LIMIT} OR isnan({double}) "
                f"OR NOT ({halfway}) "
                f"THEN {plain} ELSE coalesce({exact}, {engine}) END)")
    if isinstance(t, DecimalType):
        result = round_decimal_type(t, scale)
        return None if result is None else f"CAST(round({x}, {scale}) AS {result.simpleString()})"
    return None


def _round_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    x, t = args[0], types[0]
    scale = args[1] if len(args) > 1 else F.lit(0)
    if _is_double_like(t) or isinstance(t, FloatType):
        double = x.cast("double")
        as_decimal = double.cast("string").try_cast("decimal(38,18)")
        exact = F.round(as_decimal, scale).cast("float" if isinstance(t, FloatType) else "double")
        engine = F.round(x, scale)
        unchanged = engine if isinstance(t, FloatType) else engine + F.lit(0.0)
        scaled = F.abs(double) * F.pow(F.lit(10.0), scale)
        halfway = F.abs(scaled - F.floor(scaled) - 0.5) < F.greatest(
            F.lit(_HALFWAY_BAND), scaled * _RELATIVE_BAND)
        plain = (F.abs(double) >= float(_PLAIN_DOUBLE_LIMIT)) | (F.abs(double) < float(
            _TINY_DOUBLE_LIMIT)) | F.isnan(double) | ~halfway
        return F.when(plain, unchanged).otherwise(F.coalesce(exact, engine))
    return None  # decimal scales come as literals in SQL; DataFrame calls keep the engine's type


def round_decimal_type(t: DecimalType, scale_text: str) -> DecimalType | None:
    """Spark's result type of round(DECIMAL(p, s), scale): one more integral digit."""
    try:
        scale = int(scale_text)
    except ValueError:
        return None
    integral = t.precision - t.scale + 1
    if scale < 0:  # at least the digits a rounded value needs before the point
        return DecimalType(min(MAX_PRECISION, max(integral, -scale + 1)), 0)
    new_scale = min(t.scale, scale)
    return DecimalType(min(MAX_PRECISION, integral + new_scale), new_scale)


def _avg_decimal_type(t: DecimalType) -> tuple[DecimalType, DecimalType] | None:
    """(the input widened by one digit of scale, Spark's avg result type DECIMAL(p+4, s+4))."""
    if t.precision + 1 > MAX_PRECISION or t.scale + 5 > MAX_PRECISION:
        return None
    return (DecimalType(t.precision + 1, t.scale + 1),
            DecimalType(min(MAX_PRECISION, t.precision + 4), min(MAX_PRECISION, t.scale + 4)))


def _text_avg_sql(name: str, args: list[str], types: list[DataType | None],
                  over: str) -> str | None:
    """avg of STRING values (a bronze table's text): Spark averages them as DOUBLE; the engine
    fails to plan."""
    if len(args) != 1 or not isinstance(types[0], StringType):
        return None
    distinct, x = split_distinct(args[0])
    return f"{name}({distinct}CAST({x} AS DOUBLE)){over}"


def _avg_window(args: list[Any], types: list[DataType | None], over: Callable[[Any], Any],
                *, try_: bool = False) -> Any | None:
    """avg / try_avg over a window in DataFrame code: of STRING values averaged as DOUBLE, as
    Spark does; of a wide DECIMAL as `avg_column` computes it."""
    if len(args) == 1 and isinstance(types[0], StringType):
        return over((F.try_avg if try_ else F.avg)(args[0].cast("double")))
    return avg_column(args, types, over=over, try_=try_)


def _avg_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    t = types[0]
    if isinstance(t, StringType):
        return _text_avg_sql("avg", args, types, over)
    if needs_exact_sum(t):
        return avg_sql(args, types, over)
    # The engine truncates the mean; averaged with one more digit, then rounded HALF_UP, it is
    # Spark's (the extra digit decides the rounding exactly as the untruncated value would).
    if not isinstance(t, DecimalType) or len(args) != 1 or args[0].lower().startswith("distinct"):
        return None
    widened = _avg_decimal_type(t)
    if widened is None:
        return None
    wide, result = widened
    return (f"CAST(round(avg(CAST({args[0]} AS {wide.simpleString()})){over}, {result.scale}) "
            f"AS {result.simpleString()})")


def _avg_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    t = types[0]
    if isinstance(t, StringType) and len(args) == 1:
        return F.avg(args[0].cast("double"))
    if needs_exact_sum(t):
        return avg_column(args, types)
    if not isinstance(t, DecimalType) or len(args) != 1:
        return None
    widened = _avg_decimal_type(t)
    if widened is None:
        return None
    wide, result = widened
    return F.round(F.avg(args[0].cast(wide)), result.scale).cast(result)


def _try_avg_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    # below 29 digits avg cannot fail (the total has ten spare digits, the mean fits): try_avg
    # is avg; the engine's try_avg of DECIMAL keeps the input's scale, truncated
    if isinstance(types[0], StringType):
        return _text_avg_sql("try_avg", args, types, over)
    if needs_exact_sum(types[0]):
        return avg_sql(args, types, over, try_=True)
    return _avg_sql(args, types, over)


def _try_avg_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    if isinstance(types[0], StringType) and len(args) == 1:
        return F.try_avg(args[0].cast("double"))
    if needs_exact_sum(types[0]):
        return avg_column(args, types, try_=True)
    return _avg_column(args, types)


def _datediff_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    return f"CAST(datediff({', '.join(args)}) AS INT)" if len(args) == 2 else None


def _datediff_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    return F.datediff(args[0], args[1]).cast("int") if len(args) == 2 else None


RULES: tuple[Rule, ...] = (
    Rule(frozenset({"datediff", "date_diff"}), "datediff returns BIGINT; Spark INT",
         _datediff_sql, _datediff_column),
    Rule(frozenset({"weekday"}), "weekday(Sunday) is -1, not 6", _weekday_sql, _weekday_column),
    Rule(frozenset({"try_to_date"}), "try_to_date is an unknown function", _try_to_date_sql,
         _try_to_date_column),
    Rule(frozenset({"to_timestamp"}), "to_timestamp(number) reads microseconds, not seconds",
         _to_timestamp_sql, _to_timestamp_column),
    Rule(frozenset({"percentile_approx", "approx_percentile"}),
         "percentile_approx interpolates and returns DOUBLE; Spark returns a value of the "
         "input, of the input's type", _percentile_sql, _percentile_column),
    Rule(frozenset({"round"}), "round on DOUBLE rounds the binary value (round(1.005D, 2) is "
         "1.0); Spark rounds the decimal representation HALF_UP (1.01)", _round_sql,
         _round_column, typed=1),
    Rule(frozenset({"avg", "mean"}), "avg of DECIMAL truncates; Spark rounds HALF_UP; avg of "
         "STRING fails to plan",
         _avg_sql, _avg_column, typed=1,
         distinct_column=lambda args, types: avg_column(args, types, distinct=True),
         window_column=lambda args, types, over: _avg_window(args, types, over)),
    Rule(frozenset({"try_avg"}), "try_avg of DECIMAL keeps the input's type (scale), "
         "truncated; Spark's is avg's DECIMAL(p + 4, s + 4), NULL where avg fails; try_avg of "
         "STRING fails to plan",
         _try_avg_sql, _try_avg_column, typed=1,
         window_column=lambda args, types, over: _avg_window(args, types, over, try_=True)),
)

