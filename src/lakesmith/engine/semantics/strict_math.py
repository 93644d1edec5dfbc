"""Math functions with Apache Spark's values, bit for bit: `ln`, `log` (one or two arguments),
`log2`, `log10`, `exp`, `power` / `pow`.

Spark computes them with Java's `StrictMath` (fdlibm): `ln(x)` is `StrictMath.log(x)`,
`log(b, x)` is `StrictMath.log(x) / StrictMath.log(b)`, `log2(x)` is `StrictMath.log(x) /
StrictMath.log(2)`, `log10`, `exp` and `pow` are `StrictMath`'s; the logarithms are NULL where
an argument is ≤ 0. The engine's libm rounds the last bit otherwise (measured on 32,564
doubles — random bits, near 1, near powers of two, subnormals — against Spark 4.3: ln 2 %,
log2 26 %, exp 6 %, log(b, x) 34 %, pow(y, x) 4 % of them), `log(b, x)` of a negative base is
NaN where Spark's is NULL, and `pow(0, -1)` fails ("zero raised to a negative power is
undefined") where Spark's is Infinity.

fdlibm's algorithms read each value's bits and reuse every intermediate several times: written
as one SQL expression they grow exponentially (no expression-level binding but lambdas, which
cost ~1 µs per row and level in the engine). So the rewrite calls a vectorized port
(`fdlibm.py`, numpy over Arrow batches) as a pandas UDF: one node in the plan, fdlibm's exact
bits, 0.15-0.3 s per million rows. SQL text calls it by name (`lakesmith_strict_*`, registered
in the session before its text is analysed: `register_strict_functions`); DataFrame plans carry
it inline. A UDF's NULL and NaN are one value (pandas' missing value), so NULLs, Spark's NULL
rules and NaN results are decided around the call, in SQL."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from numpy.typing import NDArray
from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.pandas.functions import pandas_udf
from pyspark.sql.types import DataType

from lakesmith.engine.semantics import fdlibm
from lakesmith.engine.semantics.rules import ColumnRewrite, Rule, SqlRewrite

_DIFFERENCE = ("ln/log/log2/log10/exp/pow differ from Spark's (Java's StrictMath, fdlibm) in "
               "the last bit for 2-34 % of values; log(b, x) of a base ≤ 0 is NaN (Spark: "
               "NULL); pow(0, -1) fails (Spark: Infinity)")
# SQL names of the functions the engine gets by registration
LN, LOG, LOG2, LOG10, EXP, POW = (f"lakesmith_strict_{name}" for name in (
    "ln", "log", "log2", "log10", "exp", "pow"))
_LN_2 = float(fdlibm.log(np.array([2.0]))[0])
_CALLED = re.compile(r"(?i)\b(ln|log|log2|log10|exp|pow|power)\s*\(")


def _doubles(series: pd.Series) -> NDArray[np.float64]:
    return np.asarray(series.to_numpy(dtype="float64"), dtype=np.float64)


def strict_ln(x: pd.Series) -> pd.Series:
    """pandas UDF body: `StrictMath.log` of a Series of doubles."""
    return pd.Series(fdlibm.log(_doubles(x)))


def strict_log(base: pd.Series, x: pd.Series) -> pd.Series:
    """pandas UDF body: Spark's `log(base, x)`, `StrictMath.log(x) / StrictMath.log(base)`."""
    with np.errstate(all="ignore"):  # x / 0 is ±Infinity, 0 / 0 NaN, as in Java
        return pd.Series(fdlibm.log(_doubles(x)) / fdlibm.log(_doubles(base)))


def strict_log2(x: pd.Series) -> pd.Series:
    """pandas UDF body: Spark's `log2(x)`, `StrictMath.log(x) / StrictMath.log(2)`."""
    return pd.Series(fdlibm.log(_doubles(x)) / _LN_2)


def strict_log10(x: pd.Series) -> pd.Series:
    """pandas UDF body: `StrictMath.log10` of a Series of doubles."""
    return pd.Series(fdlibm.log10(_doubles(x)))


def strict_exp(x: pd.Series) -> pd.Series:
    """pandas UDF body: `StrictMath.exp` of a Series of doubles."""
    return pd.Series(fdlibm.exp(_doubles(x)))


def strict_pow(x: pd.Series, y: pd.Series) -> pd.Series:
    """pandas UDF body: `StrictMath.pow(x, y)` of two Series of doubles."""
    return pd.Series(fdlibm.pow(_doubles(x), _doubles(y)))


_BODIES = {LN: strict_ln, LOG: strict_log, LOG2: strict_log2, LOG10: strict_log10,
           EXP: strict_exp, POW: strict_pow}


def _udf(name: str) -> Any:
    return pandas_udf(_BODIES[name], "double")  # type: ignore[call-overload]


# Sessions the functions are registered in (a registration is one round trip).
_REGISTERED: weakref.WeakSet[Any] = weakref.WeakSet()


def register_strict_functions(spark: Any, relation: proto.Relation) -> None:
    """Registers the `lakesmith_strict_*` functions in `spark` when a SQL text of `relation`
    calls one of the functions (its rewrite calls them; their probes are analysed first)."""
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
    """Spark's NULL rule for logarithms: of a value ≤ 0 (or NULL) NULL; of NaN, NaN."""
    return f"(isnan({x}) OR {x} > 0D)"


def _present_sql(x: str) -> str:
    return f"{x} IS NOT NULL"


def _call_sql(name: str, domain: Callable[[str], str], arity: int) -> SqlRewrite:
    """`name` applied to the arguments cast to DOUBLE where each is in `domain`, else NULL."""
    def rewrite(args: list[str], _: list[DataType | None], over: str) -> str | None:
        if len(args) != arity:
            return None
        cast = [f"CAST(({a}) AS DOUBLE)" for a in args]
        condition = " AND ".join(domain(a) for a in cast)
        return f"(CASE WHEN {condition} THEN coalesce({name}({', '.join(cast)}), {_NAN}) END)"

    return rewrite


def _positive_column(x: Any) -> Any:
    return F.isnan(x) | (x > F.lit(0.0))


def _present_column(x: Any) -> Any:
    return x.isNotNull()


def _call_column(name: str, domain: Callable[[Any], Any], arity: int) -> ColumnRewrite:
    def rewrite(args: list[Any], _: list[DataType | None]) -> Any | None:
        if len(args) != arity:
            return None
        cast = [a.cast("double") for a in args]
        condition = domain(cast[0])
        for a in cast[1:]:
            condition = condition & domain(a)
        return F.when(condition, F.coalesce(_udf(name)(*cast), F.lit(float("nan"))))

    return rewrite


def _log_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    one, two = _call_sql(LN, _positive_sql, 1), _call_sql(LOG, _positive_sql, 2)
    return (one if len(args) == 1 else two)(args, types, over)


def _log_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    one, two = _call_column(LN, _positive_column, 1), _call_column(LOG, _positive_column, 2)
    return (one if len(args) == 1 else two)(args, types)


def _log_name(args: list[str]) -> str:
    """Spark's name for an unaliased log call: `LOG(E(), x)` for one argument."""
    return f"LOG(E(), {args[0]})" if len(args) == 1 else f"LOG({', '.join(args)})"


def _rule(names: set[str], udf: str, arity: int, *, positive: bool = False,
          sql_name: Callable[[list[str]], str | None] | None = None) -> Rule:
    sql_domain, column_domain = ((_positive_sql, _positive_column) if positive
                                 else (_present_sql, _present_column))
    return Rule(frozenset(names), _DIFFERENCE, _call_sql(udf, sql_domain, arity),
                _call_column(udf, column_domain, arity), sql_name=sql_name)


STRICT_MATH_RULES: tuple[Rule, ...] = (
    _rule({"ln"}, LN, 1, positive=True),
    Rule(frozenset({"log"}), _DIFFERENCE, _log_sql, _log_column, sql_name=_log_name),
    _rule({"log2"}, LOG2, 1, positive=True, sql_name=lambda args: f"LOG2({', '.join(args)})"),
    _rule({"log10"}, LOG10, 1, positive=True,
          sql_name=lambda args: f"LOG10({', '.join(args)})"),
    _rule({"exp"}, EXP, 1, sql_name=lambda args: f"EXP({', '.join(args)})"),
    _rule({"power"}, POW, 2, sql_name=lambda args: f"POWER({', '.join(args)})"),
    _rule({"pow"}, POW, 2),
)
