"""STRING arguments of math functions and numeric aggregates (a bronze table's text columns),
cast as Spark's ANSI implicit casts cast them.

Spark 4.3 casts a STRING argument of these functions to DOUBLE (`ceil('2.5')` is the BIGINT 3,
`stddev(s)` a DOUBLE), or, for `ceil`/`floor` with a scale, to DECIMAL(38, 18) (`ceil(s, 1)`
is a DECIMAL(22, 1)); text that is not a number fails with CAST_INVALID_INPUT. The engine fails
to plan most of them (`try_sum`, `ceil`, `floor`, `stddev`, `variance`, `corr`, ...),
reads the text of `sign` as an interval, and answers some silently otherwise: `positive(s)`
returns the text, `median(s)` and `percentile(s, p)` order the values as text (`median` of
'2.5', '-3', ' 4 ' is '-3'; Spark: 2.5). Each rule below casts the STRING arguments and leaves
the rest of the call as written; other argument types are left to the engine (or to their own
rules: `round`, `bround` and `avg` treat STRING as DOUBLE there; `power`, `exp` and the
logarithms cast every argument to DOUBLE, `strict_math`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql.connect.column import Column
from pyspark.sql.connect.expressions import UnresolvedFunction
from pyspark.sql.types import DataType, StringType

from lakesmith.engine.semantics.arithmetic import string_targets
from lakesmith.engine.semantics.decimal_sums import split_distinct
from lakesmith.engine.semantics.rules import ColumnRewrite, Rule, SqlRewrite, WindowRewrite

DOUBLE, SYSTEM_DECIMAL = "DOUBLE", "DECIMAL(38,18)"

# The type each (positional) argument is cast to when it is a STRING, by the argument count.
Targets = Callable[[int], tuple[str | None, ...]]


def _doubles(count: int) -> Targets:
    """The first `count` arguments are DOUBLE parameters (the rest, if any, are not numbers)."""
    return lambda n: tuple([DOUBLE] * min(n, count))


def _rounding(n: int) -> tuple[str | None, ...]:
    """`ceil(x)` takes a DOUBLE; `ceil(x, scale)` a DECIMAL (Spark's default, 38 digits, 18
    after the point: its result type follows from it)."""
    return (DOUBLE,) if n == 1 else (SYSTEM_DECIMAL, None)


def _cast_sql(args: list[str], types: list[DataType | None],
              targets: tuple[str | None, ...]) -> list[str] | None:
    """The arguments with each STRING one cast, or None when none is a STRING."""
    if not any(isinstance(t, StringType) for t in types):
        return None
    cast = list(args)
    for i, (t, target) in enumerate(zip(types, targets, strict=False)):
        if target is not None and isinstance(t, StringType):
            distinct, value = split_distinct(args[i]) if i == 0 else ("", args[i])
            cast[i] = f"{distinct}CAST(({value}) AS {target})"
    return cast


def _cast_columns(args: list[Any], types: list[DataType | None],
                  targets: tuple[str | None, ...]) -> list[Any] | None:
    if not any(isinstance(t, StringType) for t in types):
        return None
    padded_types = [*types, *[None] * len(args)]
    padded_targets = [*targets, *[None] * len(args)]
    return [a.cast(target.lower()) if target is not None and isinstance(t, StringType) else a
            for a, t, target in zip(args, padded_types, padded_targets, strict=False)]


def _sql(name: str, targets: Targets) -> SqlRewrite:
    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        cast = _cast_sql(args, types, targets(len(args)))
        return None if cast is None else f"{name}({', '.join(cast)}){over}"

    return rewrite


def _column(name: str, targets: Targets, *, distinct: bool = False) -> ColumnRewrite:
    def rewrite(args: list[Any], types: list[DataType | None]) -> Any | None:
        cast = _cast_columns(args, types, targets(len(args)))
        if cast is None:
            return None
        return _call(name, cast, distinct=distinct)

    return rewrite


def _call(name: str, args: list[Any], *, distinct: bool = False) -> Any:
    """`name(args)` as a column, an unresolved function as `F.<name>` makes it (the engine
    refuses `call_function`'s form over a window; pyspark has no generic DISTINCT call)."""
    return Column(UnresolvedFunction(name, [a._expr for a in args], is_distinct=distinct))


def _window(name: str, targets: Targets) -> WindowRewrite:
    def rewrite(args: list[Any], types: list[DataType | None],
                over: Callable[[Any], Any]) -> Any | None:
        cast = _cast_columns(args, types, targets(len(args)))
        return None if cast is None else over(_call(name, cast))

    return rewrite


_DIFFERENCE = ("a STRING argument fails to plan or is used as text (Spark casts it to DOUBLE, "
               "and fails with CAST_INVALID_INPUT on text that is not a number)")


# Spark's names for unaliased calls where they are not the call as written (its parser keeps
# the name the call is written with only for some functions)
_SPARK_NAMES: dict[str, Callable[[list[str]], str | None]] = {
    "ceil": lambda args: f"CEIL({args[0]})" if len(args) == 1 else None,
    "floor": lambda args: f"FLOOR({args[0]})" if len(args) == 1 else None,
    "signum": lambda args: f"SIGNUM({', '.join(args)})",
    "positive": lambda args: f"(+ {args[0]})" if len(args) == 1 else None,
    "percentile": lambda args: f"percentile({', '.join(args)}, 1)" if len(args) == 2 else None,
}


def _scalar(name: str, targets: Targets, typed: int) -> Rule:
    return Rule(frozenset({name}), _DIFFERENCE, _sql(name, targets), _column(name, targets),
                typed=typed, refuse_untyped=False, sql_name=_SPARK_NAMES.get(name))


def _aggregate(name: str, targets: Targets, typed: int) -> Rule:
    return Rule(frozenset({name}), _DIFFERENCE, _sql(name, targets), _column(name, targets),
                typed=typed, refuse_untyped=False, sql_name=_SPARK_NAMES.get(name),
                distinct_column=_column(name, targets, distinct=True),
                window_column=_window(name, targets))


def _remainder_sql(name: str) -> SqlRewrite:
    """mod / pmod: a STRING operand cast as `%` casts it (BIGINT beside an integer, DOUBLE
    beside a DECIMAL, DOUBLE or FLOAT; `mod('2.5', 2)` fails CAST_INVALID_INPUT)."""
    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        targets = string_targets(name, types) if len(args) == 2 else None
        if targets is None:
            return None
        cast = [f"CAST(({a}) AS {t})" if t else a for a, t in zip(args, targets, strict=True)]
        return f"{name}({', '.join(cast)})"

    return rewrite


def _remainder_column(name: str) -> ColumnRewrite:
    def rewrite(args: list[Any], types: list[DataType | None]) -> Any | None:
        targets = string_targets(name, types) if len(args) == 2 else None
        if targets is None:
            return None
        return _call(name, [a.cast(t.lower()) if t else a
                            for a, t in zip(args, targets, strict=True)])

    return rewrite


STRING_OPERAND_RULES: tuple[Rule, ...] = (
    *(Rule(frozenset({name}), _DIFFERENCE, _remainder_sql(name), _remainder_column(name),
           typed=2, refuse_untyped=False) for name in ("mod", "pmod")),
    *(_scalar(name, _rounding, 1) for name in ("ceil", "ceiling", "floor")),
    *(_scalar(name, _doubles(1), 1) for name in ("sign", "signum", "positive")),
    *(_aggregate(name, _doubles(1), 1) for name in (
        "try_sum", "stddev", "std", "stddev_samp", "stddev_pop", "variance", "var_samp",
        "var_pop", "median", "percentile")),
    *(_aggregate(name, _doubles(2), 2) for name in ("corr", "covar_pop", "covar_samp")),
)
