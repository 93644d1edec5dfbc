"""Logarithms with Apache Spark's values: `ln`, `log` (one or two arguments), `log2` and `log10`.

Spark computes them with Java's `StrictMath` (fdlibm): `ln(x)` is `StrictMath.log(x)`,
`log(b, x)` is `StrictMath.log(x) / StrictMath.log(b)`, `log2(x)` is `StrictMath.log(x) /
StrictMath.log(2)`, `log10(x)` is `StrictMath.log10(x)`; each is NULL where an argument is ≤ 0.
The engine's libm differs in the last bit for about 2 % of doubles (measured on 32,564 doubles:
random bits, near 1, near powers of two, subnormals), and `log(b, x)` of a negative base is NaN
where Spark's is NULL.

fdlibm's algorithm needs each value's bits and reuses every intermediate several times: written
as one SQL expression it grows exponentially (no expression-level binding but lambdas, which
cost ~1 µs per row and level in the engine). So the rewrite calls a vectorized function
(`fdlibm.py`, numpy over Arrow batches) as a pandas UDF: one node in the plan, the exact
fdlibm bits, ~0.1 s per million rows. SQL text calls it by name (`lakesmith_strict_*`,
registered in the session before its text is analysed: `register_strict_functions`); DataFrame
plans carry it inline. A UDF's NULL and NaN are one value (pandas' missing value), so NULLs,
non-positive arguments and NaN results are decided around the call, in SQL."""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.pandas.functions import pandas_udf
from pyspark.sql.types import DataType

from lakesmith.engine.semantics import fdlibm
from lakesmith.engine.semantics.rules import ColumnRewrite, Rule, SqlRewrite

_DIFFERENCE = ("ln/log/log2/log10 differ from Spark's (Java's StrictMath, fdlibm) in the last "
               "bit for about 2 % of values; log(b, x) of a base ≤ 0 is NaN (Spark: NULL)")
# SQL name of each function the engine gets by registration → its Python implementation
LN, LOG, LOG2, LOG10 = ("lakesmith_strict_ln", "lakesmith_strict_log", "lakesmith_strict_log2",
                        "lakesmith_strict_log10")
_LN_2 = float(fdlibm.log(np.array([2.0]))[0])
_CALLED = re.compile(r"(?i)\b(ln|log|log2|log10)\s*\(")


def strict_ln(x: pd.Series) -> pd.Series:
    """pandas UDF body: `StrictMath.log` of a Series of doubles."""
    return pd.Series(fdlibm.log(x.to_numpy(dtype="float64")))


def strict_log(base: pd.Series, x: pd.Series) -> pd.Series:
    """pandas UDF body: Spark's `log(base, x)`, `StrictMath.log(x) / StrictMath.log(base)`."""
    with np.errstate(all="ignore"):  # x / 0 is ±Infinity, 0 / 0 NaN, as in Java
        return pd.Series(fdlibm.log(x.to_numpy(dtype="float64"))
                         / fdlibm.log(base.to_numpy(dtype="float64")))


def strict_log2(x: pd.Series) -> pd.Series:
    """pandas UDF body: Spark's `log2(x)`, `StrictMath.log(x) / StrictMath.log(2)`."""
    return pd.Series(fdlibm.log(x.to_numpy(dtype="float64")) / _LN_2)


def strict_log10(x: pd.Series) -> pd.Series:
    """pandas UDF body: `StrictMath.log10` of a Series of doubles."""
    return pd.Series(fdlibm.log10(x.to_numpy(dtype="float64")))


_BODIES = {LN: strict_ln, LOG: strict_log, LOG2: strict_log2, LOG10: strict_log10}


def _udf(name: str) -> Any:
    return pandas_udf(_BODIES[name], "double")  # type: ignore[call-overload]


# Sessions the functions are registered in (a registration is one round trip).
_REGISTERED: weakref.WeakSet[Any] = weakref.WeakSet()


def register_strict_functions(spark: Any, relation: proto.Relation) -> None:
    """Registers the `lakesmith_strict_*` functions in `spark` when a SQL text of `relation`
    calls a logarithm (its rewrite calls them; their probes are analysed first)."""
    if spark in _REGISTERED or not any(_CALLED.search(t) for t in _sql_texts(relation)):
        return
    for name in _BODIES:
        spark.udf.register(name, _udf(name))
    _REGISTERED.add(spark)


def _sql_texts(message: Any) -> Iterator[str]:
    for field, value in message.ListFields():
        if field.type == field.TYPE_MESSAGE:
            for child in (value if field.is_repeated else [value]):
                yield from _sql_texts(child)
        elif field.type == field.TYPE_STRING and field.name in ("query", "expression"):
            yield value


# -- the rules: each argument cast to DOUBLE (Spark's implicit cast, ANSI: bad text fails) ---
# A UDF's NaN reaches the engine as NULL (pandas' missing value): where the arguments are not
# NULL and not ≤ 0, a NULL result is NaN (of NaN, of 0 / 0 in log(1, 1)).
_NAN = "CAST('NaN' AS DOUBLE)"


def _positive_sql(x: str) -> str:
    """Spark's NULL rule: a logarithm of a value ≤ 0 (or NULL) is NULL; of NaN, NaN."""
    return f"(isnan({x}) OR {x} > 0D)"


def _unary_sql(name: str) -> SqlRewrite:
    def rewrite(args: list[str], _: list[DataType | None], over: str) -> str | None:
        if len(args) != 1:
            return None
        x = f"CAST(({args[0]}) AS DOUBLE)"
        return f"(CASE WHEN {_positive_sql(x)} THEN coalesce({name}({x}), {_NAN}) END)"

    return rewrite


def _log_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    if len(args) == 1:
        return _unary_sql(LN)(args, types, over)
    if len(args) != 2:
        return None
    base, x = (f"CAST(({a}) AS DOUBLE)" for a in args)
    return (f"(CASE WHEN {_positive_sql(base)} AND {_positive_sql(x)} "
            f"THEN coalesce({LOG}({base}, {x}), {_NAN}) END)")


def _positive_column(x: Any) -> Any:
    return F.isnan(x) | (x > F.lit(0.0))


def _unary_column(name: str) -> ColumnRewrite:
    def rewrite(args: list[Any], _: list[DataType | None]) -> Any | None:
        if len(args) != 1:
            return None
        x = args[0].cast("double")
        return F.when(_positive_column(x), F.coalesce(_udf(name)(x), F.lit(float("nan"))))

    return rewrite


def _log_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    if len(args) == 1:
        return _unary_column(LN)(args, types)
    if len(args) != 2:
        return None
    base, x = (a.cast("double") for a in args)
    return F.when(_positive_column(base) & _positive_column(x),
                  F.coalesce(_udf(LOG)(base, x), F.lit(float("nan"))))


def _log_name(args: list[str]) -> str:
    """Spark's name for an unaliased log call: `LOG(E(), x)` for one argument."""
    return f"LOG(E(), {args[0]})" if len(args) == 1 else f"LOG({', '.join(args)})"


STRICT_MATH_RULES: tuple[Rule, ...] = (
    Rule(frozenset({"ln"}), _DIFFERENCE, _unary_sql(LN), _unary_column(LN)),
    Rule(frozenset({"log"}), _DIFFERENCE, _log_sql, _log_column, sql_name=_log_name),
    Rule(frozenset({"log2"}), _DIFFERENCE, _unary_sql(LOG2), _unary_column(LOG2),
         sql_name=lambda args: f"LOG2({', '.join(args)})"),
    Rule(frozenset({"log10"}), _DIFFERENCE, _unary_sql(LOG10), _unary_column(LOG10),
         sql_name=lambda args: f"LOG10({', '.join(args)})"),
)
