"""Conditional expressions with Spark's result type: the values of `CASE ... END`, `if(c, a, b)`,
`when(...).otherwise(...)`, `coalesce` / `nvl` / `ifnull` / `nvl2` / `greatest` / `least` are cast
to their common type (`common_type`), as Spark's analyzer does (CaseWhenCoercion, IfCoercion,
FunctionArgumentConversion); `nullif(a, b)` compares in the common type and keeps `a`'s. The
engine types a CASE by its first branch and may return values of another type (`CASE WHEN ..
THEN 1 ELSE 2.5 END` is declared INT and holds DECIMALs), coerces to STRING where Spark casts a
STRING to BIGINT and fails, and gives `nvl` of DECIMALs the type DOUBLE."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType

from lakesmith.engine.semantics.common_type import NoCommonType, common_type, needs_cast, sql_type
from lakesmith.engine.semantics.float_keys import is_normalized_key_case
from lakesmith.engine.semantics.rules import ColumnRewrite, Rule, SqlRewrite
from lakesmith.engine.semantics.sql_case import CASE, case_sql, value_positions
from lakesmith.errors import NotSupportedYet

_DIFFERENCE = ("the engine types a conditional by its first branch (CASE WHEN .. THEN 1 ELSE "
               "2.5 END is INT), Spark by the common type of all branches (DECIMAL(11,1))")


def _target(types: list[DataType], construct: str) -> DataType | None:
    """The common type of the branch values, or None when they already share one type."""
    if all(not needs_cast(t, types[0]) for t in types):
        return None
    try:
        return common_type(types)
    except NoCommonType as e:
        raise NotSupportedYet(
            f"{construct}: the branches have types with no common type ({e}); Apache Spark "
            "refuses this query with DATATYPE_MISMATCH.DATA_DIFF_TYPES.",
            hint="cast the branch values to one type.") from e


def _cast_sql(value: str, t: DataType | None, target: DataType) -> str:
    return f"CAST({value} AS {sql_type(target)})" if t is not None and needs_cast(
        t, target) else value


def _case_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    positions = [i for i in value_positions(len(args)) if args[i]]
    target = _target([t for i in positions if (t := types[i]) is not None], "CASE")
    if target is None:
        return None
    coerced = list(args)
    for i in positions:
        coerced[i] = _cast_sql(args[i], types[i], target)
    return case_sql(coerced)


def _cast_column(value: Any, t: DataType | None, target: DataType) -> Any:
    return value.cast(target) if t is not None and needs_cast(t, target) else value


def _when_positions(count: int) -> tuple[int, ...]:
    """`when(c1, v1, c2, v2, ..., otherwise)`: the values and the otherwise."""
    return (*range(1, count, 2), *((count - 1,) if count % 2 else ()))


def _when_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    positions = _when_positions(len(args))
    target = _target([t for i in positions if (t := types[i]) is not None],
                     "when(...).otherwise(...)")
    if target is None:
        return None
    values = [_cast_column(args[i], types[i], target) if i in positions else args[i]
              for i in range(len(args))]
    result = F.when(values[0], values[1])
    for i in range(2, len(values) - 1, 2):
        result = result.when(values[i], values[i + 1])
    return result.otherwise(values[-1]) if len(values) % 2 else result


def _all(count: int) -> tuple[int, ...]:
    return tuple(range(count))


def _second_and_third(count: int) -> tuple[int, ...]:
    """`if(c, a, b)`, `nvl2(x, a, b)`: the two values."""
    return (1, 2) if count == 3 else ()


def _function_sql(name: str, positions: Callable[[int], tuple[int, ...]]) -> SqlRewrite:
    """`name(...)` with the arguments at `positions` cast to their common type."""
    written = _WRITTEN_AS.get(name, name)

    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        chosen = [i for i in positions(len(args)) if i < len(types)]
        target = _target([t for i in chosen if (t := types[i]) is not None], f"{name}(...)")
        if target is None and written == name:
            return None
        coerced = [_cast_sql(a, types[i], target) if i in chosen and target is not None else a
                   for i, a in enumerate(args)]
        return f"{written}({', '.join(coerced)})"

    return rewrite


def _function_column(name: str, positions: Callable[[int], tuple[int, ...]]) -> ColumnRewrite:
    written = _WRITTEN_AS.get(name, name)

    def rewrite(args: list[Any], types: list[DataType | None]) -> Any | None:
        chosen = [i for i in positions(len(args)) if i < len(types)]
        target = _target([t for i in chosen if (t := types[i]) is not None], f"{name}(...)")
        if target is None and written == name:
            return None
        return F.call_function(written, *[
            _cast_column(a, types[i], target) if i in chosen and target is not None else a
            for i, a in enumerate(args)])

    return rewrite


# nvl and ifnull are Spark's coalesce of two; the engine's return DOUBLE for DECIMALs
_WRITTEN_AS = {"nvl": "coalesce", "ifnull": "coalesce"}


def _nullif_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    """Spark: `if(a = b, NULL, a)` with the comparison in the common type; the result is `a`'s
    type (the engine gives the common type)."""
    if len(args) != 2 or types[0] is None or types[1] is None:
        return None
    target = _target([types[0], types[1]], "nullif(...)")
    if target is None:
        return None
    a, b = args
    return (f"if({_cast_sql(a, types[0], target)} = {_cast_sql(b, types[1], target)}, "
            f"CAST(NULL AS {sql_type(types[0])}), {a})")


def _nullif_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    if len(args) != 2 or types[0] is None or types[1] is None:
        return None
    target = _target([types[0], types[1]], "nullif(...)")
    if target is None:
        return None
    a, b = args
    equal = _cast_column(a, types[0], target) == _cast_column(b, types[1], target)
    return F.when(equal, F.lit(None).cast(types[0])).otherwise(a)


# Functions whose arguments Spark casts to their common type; arguments whose types cannot be
# found leave the call as written (lakesmith's own plans use them over lambda variables).
_COMMON_TYPE_FUNCTIONS = {"coalesce": _all, "nvl": _all, "ifnull": _all, "greatest": _all,
                          "least": _all, "nvl2": _second_and_third}

CONDITIONAL_RULES: tuple[Rule, ...] = (
    *(Rule(frozenset({name}), f"{name} of different types: another result type than Spark's "
           "common type", _function_sql(name, where), _function_column(name, where),
           positions=where, refuse_untyped=False)
      for name, where in _COMMON_TYPE_FUNCTIONS.items()),
    Rule(frozenset({"nullif"}), "nullif(a, b) has the common type; Spark a's type",
         _nullif_sql, _nullif_column, positions=lambda count: (0, 1) if count == 2 else (),
         refuse_untyped=False),
    Rule(frozenset({CASE}), _DIFFERENCE, _case_sql, lambda args, types: None,
         positions=value_positions,
         candidate=lambda args: not is_normalized_key_case(
             [args[i] for i in value_positions(len(args)) if args[i]])),
    Rule(frozenset({"if"}), _DIFFERENCE, _function_sql("if", _second_and_third),
         _function_column("if", _second_and_third), positions=_second_and_third),
    # lakesmith's own plans use when() over lambda variables (no type to ask): left as written
    Rule(frozenset({"when"}), _DIFFERENCE, lambda args, types, over: None, _when_column,
         positions=_when_positions, refuse_untyped=False),
)
