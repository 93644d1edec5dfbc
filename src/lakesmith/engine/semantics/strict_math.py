"""Math functions with Apache Spark's values, bit for bit: `ln`, `log` (one or two arguments),
`log2`, `log10`, `log1p`, `exp`, `expm1`, `power` / `pow`, `sinh`, `cosh`, `tanh`, `asin`,
`acos`, `atan`, `atan2`, `cbrt`, `hypot`, `asinh`, `acosh`, `atanh`.

Spark computes them with Java's `StrictMath` (fdlibm), directly or through `java.lang.Math`,
which delegates these to it: `log(b, x)` is `StrictMath.log(x) / StrictMath.log(b)`, `log2(x)`
`StrictMath.log(x) / StrictMath.log(2)`, `atan2(y, x)` `atan2(y + 0.0, x + 0.0)`, `asinh`,
`acosh` and `atanh` Spark's own formulas over them (`ExpressionImplUtils`); the logarithms are
NULL where an argument is ≤ 0 (`log1p`: ≤ -1). The engine's libm rounds the last bit otherwise
(measured on 32,564 doubles — random bits, near 1, near powers of two, subnormals — against
Spark 4.3: ln 2 %, log2 26 %, exp 6 %, log(b, x) 34 %, atan2 13 %, cosh 5 %, pow(y, x) 4 %,
expm1 0.1 %), `log1p` of a tiny value is 0, `hypot` overflows beyond 1e154, `log(b, x)` of a
negative base is NaN where Spark's is NULL, and `pow(0, -1)` fails ("zero raised to a negative
power is undefined") where Spark's is Infinity.

`sin`, `cos`, `sec` (1 / cos) and `csc` (1 / sin) are `java.lang.Math`'s, which HotSpot on
x86-64 replaces by Intel LIBM stubs (not fdlibm: 2 % of values differ from StrictMath's; the
engine's libm differs from them for 0.1 %): `hotspot_trig.py` ports those stubs, so these are
Spark's answer on x86-64 (aarch64 HotSpot runs fdlibm's algorithm with fused multiply-adds).
Refused: `tan` and `cot`, whose stub evaluates a polynomial per interval from a table of 704
constants, fitted coefficients among them, that lakesmith cannot derive
(`docs/math-functions.md`).

fdlibm's algorithms read each value's bits and reuse every intermediate several times: written
as one SQL expression they grow exponentially (no expression-level binding but lambdas, which
cost ~1 µs per row and level in the engine). So the rewrite calls a vectorized port
(`fdlibm.py`, numpy over Arrow batches) as a pandas UDF: one node in the plan, fdlibm's exact
bits, 0.1-0.6 s per million rows (the engine's own function: 0.02-0.03 s). SQL text calls it by
name (`lakesmith_strict_*`, registered in the session before its text is analysed:
`register_strict_functions`); DataFrame plans carry it inline. A UDF's NULL and NaN are one
value (pandas' missing value), so NULLs, Spark's NULL rules and NaN results are decided around
the call, in SQL."""

from __future__ import annotations

import re
import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from numpy.typing import NDArray
from pyspark import cloudpickle
from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.pandas.functions import pandas_udf
from pyspark.sql.types import DataType

from lakesmith.engine.plans import nested_messages
from lakesmith.engine.semantics import fdlibm, hotspot_trig
from lakesmith.engine.semantics.literal_types import column_literal
from lakesmith.engine.semantics.rules import ColumnRewrite, Rule, SqlRewrite
from lakesmith.errors import NotSupportedYet

_DIFFERENCE = ("the engine's libm rounds the last bit otherwise than Java's StrictMath (fdlibm), "
               "which Spark uses, for 0.1-34 % of values")
_INTRINSIC_DIFFERENCE = ("the engine's libm rounds the last bit otherwise than HotSpot's x86-64 "
                         "intrinsic (Intel LIBM), which Spark uses, for about 0.1 % of values")
_LN_2 = float(fdlibm.log(np.array([2.0]))[0])
_NAN = "CAST('NaN' AS DOUBLE)"

Doubles = NDArray[np.float64]


# Functions, not modules, in what the UDFs reference: a module pickled by value travels with
# its whole namespace, loader included, and pytest's assertion-rewriting loader (lakesmith is a
# pytest plugin, so pytest rewrites its modules) cannot be pickled.
_fd_log, _fd_log1p, _fd_atan2 = fdlibm.log, fdlibm.log1p, fdlibm.atan2
_sin, _cos = hotspot_trig.sin, hotspot_trig.cos


def _asinh(x: Doubles) -> Doubles:
    """Spark's `asinh` (`ExpressionImplUtils.asinh`: fdlibm's s_asinh.c over StrictMath)."""
    a = np.abs(x)
    w = np.where(a > 2.0**28, _fd_log(a) + _LN_2, np.where(
        a > 2.0, _fd_log(2.0 * a + 1.0 / (np.sqrt(x * x + 1.0) + a)),
        _fd_log1p(a + (x * x) / (1.0 + np.sqrt(1.0 + x * x)))))
    w = np.where(a < 2.0**-28, a, w)
    w = np.where(np.isinf(a) | np.isnan(x), x + x, w)
    result: Doubles = np.copysign(w, x)
    return result


def _acosh(x: Doubles) -> Doubles:
    """Spark's `acosh` (`ExpressionImplUtils.acosh`: fdlibm's e_acosh.c over StrictMath)."""
    t = x - 1.0
    r = np.where(x > 2.0, _fd_log(2.0 * x - 1.0 / (x + np.sqrt(x * x - 1.0))),
                 _fd_log1p(t + np.sqrt(2.0 * t + t * t)))
    r = np.where(x == 1.0, 0.0, r)
    r = np.where(x >= 2.0**28, _fd_log(x) + _LN_2, r)
    result: Doubles = np.where(x < 1.0, np.nan, r)
    return result


def _atanh(x: Doubles) -> Doubles:
    """Spark's `atanh`: `0.5 * (StrictMath.log1p(x) - StrictMath.log1p(-x))`."""
    result: Doubles = 0.5 * (_fd_log1p(x) - _fd_log1p(-x))
    return result


def _atan2(y: Doubles, x: Doubles) -> Doubles:
    """Spark's `atan2(y, x)`: `Math.atan2(y + 0.0, x + 0.0)` (no -0.0)."""
    return _fd_atan2(y + 0.0, x + 0.0)


# The functions: name of the UDF → (how many arguments, its numpy implementation)
IMPLEMENTATIONS: dict[str, tuple[int, Callable[..., Doubles]]] = {
    "ln": (1, fdlibm.log),
    "log": (2, lambda base, x: _fd_log(x) / _fd_log(base)),
    "log2": (1, lambda x: _fd_log(x) / _LN_2),
    "log10": (1, fdlibm.log10),
    "log1p": (1, fdlibm.log1p),
    "exp": (1, fdlibm.exp),
    "expm1": (1, fdlibm.expm1),
    "pow": (2, fdlibm.pow),
    "sinh": (1, fdlibm.sinh),
    "cosh": (1, fdlibm.cosh),
    "tanh": (1, fdlibm.tanh),
    "asin": (1, fdlibm.asin),
    "acos": (1, fdlibm.acos),
    "atan": (1, fdlibm.atan),
    "atan2": (2, _atan2),
    "cbrt": (1, fdlibm.cbrt),
    "hypot": (2, fdlibm.hypot),
    "asinh": (1, _asinh),
    "acosh": (1, _acosh),
    "atanh": (1, _atanh),
    "sin": (1, _sin),
    "cos": (1, _cos),
    "sec": (1, lambda x: 1.0 / _cos(x)),  # Spark's Sec: 1 / Math.cos(x)
    "csc": (1, lambda x: 1.0 / _sin(x)),  # Spark's Csc: 1 / Math.sin(x)
}


def udf_name(name: str) -> str:
    """The SQL name a function's UDF is registered under."""
    return f"lakesmith_strict_{name}"


def _body(name: str) -> Callable[..., pd.Series]:
    """The pandas UDF body of `name` (typed as pandas UDFs must be: Series in, Series out)."""
    arity, implementation = IMPLEMENTATIONS[name]

    def unary(x: pd.Series) -> pd.Series:
        with np.errstate(all="ignore"):
            return pd.Series(implementation(_doubles(x)))

    def binary(a: pd.Series, b: pd.Series) -> pd.Series:
        with np.errstate(all="ignore"):  # x / 0 is ±Infinity, 0 / 0 NaN, as in Java
            return pd.Series(implementation(_doubles(a), _doubles(b)))

    return unary if arity == 1 else binary


def _doubles(series: pd.Series) -> Doubles:
    return np.asarray(series.to_numpy(dtype="float64"), dtype=np.float64)


# The UDFs travel by value (their code, not an import of lakesmith), so an engine's Python
# workers need numpy and pandas only — what every pandas UDF needs — not lakesmith.
cloudpickle.register_pickle_by_value(fdlibm)  # type: ignore[no-untyped-call]
cloudpickle.register_pickle_by_value(hotspot_trig)  # type: ignore[no-untyped-call]
cloudpickle.register_pickle_by_value(sys.modules[__name__])  # type: ignore[no-untyped-call]


def _udf(name: str) -> Any:
    return pandas_udf(_body(name), "double")  # type: ignore[call-overload]


# The UDFs registered in each session (a registration is one round trip).
_REGISTERED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def register_strict_functions(spark: Any, relation: proto.Relation) -> None:
    """Registers in `spark` the UDFs the SQL texts of `relation` will call once rewritten
    (before their rewrites' type probes are analysed)."""
    registered = _REGISTERED.setdefault(spark, set())
    if len(registered) == len(IMPLEMENTATIONS) or not _CALLED_BYTES.search(
            relation.SerializeToString().lower()):
        return  # the plan's bytes hold its SQL texts: searched there in ~0.1 ms, not walked
    called = {m.group(1).lower() for text in _sql_texts(relation)
              for m in _CALLED.finditer(text)}
    needed = {udf for name in called for udf in _UDFS_OF.get(name, ())}
    for name in sorted(needed - registered):
        spark.udf.register(udf_name(name), _udf(name))
        registered.add(name)


def _sql_texts(relation: proto.Relation) -> Iterator[str]:
    """The SQL texts in a plan: SQL relations and expression strings (`expr`, `selectExpr`)."""
    for sql in nested_messages(relation, proto.SQL.DESCRIPTOR.full_name):
        yield sql.query  # type: ignore[attr-defined]
    for string in nested_messages(relation,
                                  proto.Expression.ExpressionString.DESCRIPTOR.full_name):
        yield string.expression  # type: ignore[attr-defined]


# -- the rules: each argument cast to DOUBLE (Spark's implicit cast, ANSI: bad text fails) ---
# A UDF's NaN reaches the engine as NULL (pandas' missing value): where the arguments are in
# the function's domain, a NULL result is NaN (of NaN, of 0 / 0 in log(1, 1)).


def _positive_sql(x: str) -> str:
    """Spark's NULL rule for logarithms: of a value ≤ 0 (or NULL) NULL; of NaN, NaN."""
    return f"(isnan({x}) OR {x} > 0D)"


def _above_minus_one_sql(x: str) -> str:
    """log1p's NULL rule: NULL for a value ≤ -1."""
    return f"(isnan({x}) OR {x} > -1D)"


def _present_sql(x: str) -> str:
    return f"{x} IS NOT NULL"


def _positive_column(x: Any) -> Any:
    return F.isnan(x) | (x > F.lit(0.0))


def _above_minus_one_column(x: Any) -> Any:
    return F.isnan(x) | (x > F.lit(-1.0))


def _present_column(x: Any) -> Any:
    return x.isNotNull()


_DOMAINS: dict[str, tuple[Callable[[str], str], Callable[[Any], Any]]] = {
    "positive": (_positive_sql, _positive_column),
    "above -1": (_above_minus_one_sql, _above_minus_one_column),
    "any": (_present_sql, _present_column),
}


def _call_sql(name: str, domain: str) -> SqlRewrite:
    """`name`'s UDF applied to the arguments cast to DOUBLE where each is in `domain`, else
    NULL."""
    arity = IMPLEMENTATIONS[name][0]

    def rewrite(args: list[str], _: list[DataType | None], over: str) -> str | None:
        if len(args) != arity:
            return None
        cast = [f"CAST(({a}) AS DOUBLE)" for a in args]
        condition = " AND ".join(_DOMAINS[domain][0](a) for a in cast)
        return (f"(CASE WHEN {condition} THEN coalesce({udf_name(name)}({', '.join(cast)}), "
                f"{_NAN}) END)")

    return rewrite


def _call_column(name: str, domain: str) -> ColumnRewrite:
    arity = IMPLEMENTATIONS[name][0]

    def rewrite(args: list[Any], _: list[DataType | None]) -> Any | None:
        if len(args) != arity:
            return None
        cast = [a.cast("double") for a in args]
        condition = _DOMAINS[domain][1](cast[0])
        for a in cast[1:]:
            condition = condition & _DOMAINS[domain][1](a)
        return F.when(condition, F.coalesce(_udf(name)(*cast), F.lit(float("nan"))))

    return rewrite


def _log_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    return _call_sql("ln" if len(args) == 1 else "log", "positive")(args, types, over)


def _log_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    return _call_column("ln" if len(args) == 1 else "log", "positive")(args, types)


def _log_name(args: list[str]) -> str:
    """Spark's name for an unaliased log call: `LOG(E(), x)` for one argument."""
    return f"LOG(E(), {args[0]})" if len(args) == 1 else f"LOG({', '.join(args)})"


_SQUARE_EXPONENT = re.compile(r"(?i)^\(*\s*2(\.0*)?d?\s*\)*$")


def _pow_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    """pow(x, 2) is x * x in fdlibm (one IEEE product, the engine's too): no UDF needed."""
    if len(args) == 2 and _SQUARE_EXPONENT.match(args[1].strip()):
        x = f"CAST(({args[0]}) AS DOUBLE)"
        return f"({x} * {x})"
    return _call_sql("pow", "any")(args, types, over)


def _pow_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    if len(args) == 2 and _literal_value(args[1]) == 2:
        x = args[0].cast("double")
        return x * x
    return _call_column("pow", "any")(args, types)


def _literal_value(column: Any) -> float | None:
    """The number a literal column holds, else None."""
    found = column_literal(column)
    if found is None or found[0] not in ("integer", "long", "short", "byte", "double", "float"):
        return None
    return float(found[1])


def _upper(name: str) -> Callable[[list[str]], str]:
    """Spark names most math functions unaliased in capitals: `EXP(x)`, `ATAN2(y, x)`."""
    return lambda args: f"{name.upper()}({', '.join(args)})"


def _rule(spark_name: str, udf: str, domain: str = "any", *, capitals: bool = True,
          difference: str = _DIFFERENCE) -> Rule:
    return Rule(frozenset({spark_name}), difference, _call_sql(udf, domain),
                _call_column(udf, domain), sql_name=_upper(spark_name) if capitals else None)


STRICT_MATH_RULES: tuple[Rule, ...] = (
    _rule("ln", "ln", "positive", capitals=False),
    Rule(frozenset({"log"}), _DIFFERENCE, _log_sql, _log_column, sql_name=_log_name),
    _rule("log2", "log2", "positive"),
    _rule("log10", "log10", "positive"),
    _rule("log1p", "log1p", "above -1"),
    Rule(frozenset({"power"}), _DIFFERENCE, _pow_sql, _pow_column, sql_name=_upper("power")),
    Rule(frozenset({"pow"}), _DIFFERENCE, _pow_sql, _pow_column),
    *(_rule(name, name) for name in ("exp", "expm1", "sinh", "cosh", "tanh", "asin", "acos",
                                     "atan", "atan2", "cbrt", "hypot", "asinh", "acosh",
                                     "atanh")),
    *(_rule(name, name, difference=_INTRINSIC_DIFFERENCE) for name in ("sin", "cos", "sec", "csc")),
)
# the UDFs each Spark function's rewrite calls
_UDFS_OF: dict[str, tuple[str, ...]] = {"log": ("ln", "log"), "power": ("pow",),
                                        **{n: (n,) for n in IMPLEMENTATIONS if n != "log"}}
_CALLED = re.compile(r"(?i)\b(" + "|".join(sorted(_UDFS_OF, key=len, reverse=True))
                     + r")\s*\(")
# a superset of _CALLED's matches (no word boundary: `my_log(` too), fast on lowered bytes
_CALLED_BYTES = re.compile(rb"(?:" + b"|".join(n.encode() for n in _UDFS_OF) + rb")\s*\(")


def calls_strict_function(text: str) -> bool:
    """Whether SQL text calls a function whose rewrite is a `lakesmith_strict_*` UDF."""
    return _CALLED.search(text) is not None


_REFUSED_TRIGONOMETRY = ("tan", "cot")


def _refuse_trigonometry(name: str) -> Callable[..., Any]:
    def refuse(args: list[Any], *_: Any) -> Any:
        raise NotSupportedYet(
            f"{name}(): Apache Spark computes tan with java.lang.Math, which the JVM replaces on "
            "x86-64 by Intel's math library; the engine's values differ from Spark's in the last "
            "bit for about 0.4 % of arguments, and lakesmith cannot reproduce Intel's tan (a "
            "table of fitted coefficients), so it does not run this call rather than answer "
            "otherwise than Spark.",
            hint="sin and cos give Spark's bits in lakesmith (sin(x) / cos(x) is not Spark's "
            "tan in the last bit either); otherwise compute the value outside the pipeline.")

    return refuse


TRIGONOMETRY_RULES: tuple[Rule, ...] = tuple(
    Rule(frozenset({name}), "the last bit differs from Spark's x86-64 answer (Intel's libm) "
         "for about 0.4 % of values", _refuse_trigonometry(name), _refuse_trigonometry(name))
    for name in _REFUSED_TRIGONOMETRY)
