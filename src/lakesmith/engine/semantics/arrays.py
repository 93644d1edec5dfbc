"""Array and map functions with Spark's answers:

* `array_contains(a, v)` is NULL (not false) when `v` is not found and `a` holds a NULL, or when
  `v` is NULL (Spark's three-valued logic; the engine skips NULL elements). The test for NULL
  elements runs only on rows where `v` was not found.
* `explode` / `explode_outer` / `posexplode` / `posexplode_outer` of a MAP crash the engine (a
  panic in Arrow): a map's entries are exploded instead, `inline(map_entries(m))`, which gives
  the same `key`, `value` (and `pos`) columns.
* `array_position` of an ARRAY<DOUBLE> and a DECIMAL (or an ARRAY<DECIMAL> and a DOUBLE): Spark
  refuses it (DATATYPE_MISMATCH.ARRAY_FUNCTION_DIFF_TYPES), the engine answers, comparing in
  DECIMAL(30,15) (0.9000000000000001 is found at 0.90): refused, naming Spark's error."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import ArrayType, DataType, DecimalType, DoubleType, FloatType, MapType

from lakesmith.engine.semantics.decimal_lists import could_differ
from lakesmith.engine.semantics.lambda_text import VARIABLE
from lakesmith.engine.semantics.rules import Rule
from lakesmith.errors import NotSupportedYet


def _contains_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) != 2:
        return None
    a, v = f"({args[0]})", f"({args[1]})"
    return (f"(CASE WHEN array_contains({a}, {v}) THEN true WHEN {a} IS NULL OR {v} IS NULL "
            f"THEN NULL WHEN exists({a}, {VARIABLE} -> {VARIABLE} IS NULL) THEN NULL "
            "ELSE false END)")


def _contains_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    if len(args) != 2:
        return None
    a, v = args
    unknown = F.lit(None).cast("boolean")
    return (F.when(F.array_contains(a, v), F.lit(True))
            .when(a.isNull() | v.isNull(), unknown)
            .when(F.exists(a, lambda x: x.isNull()), unknown)
            .otherwise(F.lit(False)))


# explode kind → (the inline function, with positions)
_EXPLODES = {"explode": ("inline", False), "explode_outer": ("inline_outer", False),
             "posexplode": ("inline", True), "posexplode_outer": ("inline_outer", True)}


def _explode_sql(name: str) -> Any:
    inline, positions = _EXPLODES[name]

    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        if len(args) != 1 or not isinstance(types[0], MapType):
            return None
        entries = f"map_entries({args[0]})"
        if positions:
            entries = (f"transform({entries}, ({VARIABLE}, {VARIABLE}_pos) -> struct("
                       f"{VARIABLE}_pos AS pos, {VARIABLE}.key AS key, "
                       f"{VARIABLE}.value AS value))")
        return f"{inline}({entries})"

    return rewrite


def _explode_column(name: str) -> Any:
    inline, positions = _EXPLODES[name]

    def rewrite(args: list[Any], types: list[DataType | None]) -> Any | None:
        if len(args) != 1 or not isinstance(types[0], MapType):
            return None
        entries = F.map_entries(args[0])
        if positions:
            entries = F.transform(entries, lambda e, i: F.struct(
                i.alias("pos"), e["key"].alias("key"), e["value"].alias("value")))
        return getattr(F, inline)(entries)

    return rewrite


# Functions that give an array, never a map: their explode needs no type probe.
_ARRAY_FUNCTIONS = ("array(", "split(", "sequence(", "concat(", "flatten(", "arrays_zip(",
                    "array_distinct(", "array_union(", "array_except(", "array_intersect(",
                    "array_sort(", "sort_array(", "slice(", "array_repeat(", "filter(",
                    "transform(", "collect_list(", "collect_set(", "map_keys(", "map_values(",
                    "json_object_keys(")


def _may_be_map(args: list[str]) -> bool:
    return not (len(args) == 1 and args[0].lower().startswith(_ARRAY_FUNCTIONS))


def _refuse_position(shown: str, types: list[DataType | None]) -> None:
    """Refuse `array_position(a, v)` where a DOUBLE element meets a DECIMAL value (or the other
    way round), as Spark refuses it; else nothing."""
    array, value = types if len(types) == 2 else (None, None)
    element = array.elementType if isinstance(array, ArrayType) else None
    fractional = (FloatType, DoubleType)
    if isinstance(element, fractional) and isinstance(value, DecimalType) or \
            isinstance(element, DecimalType) and isinstance(value, fractional):
        assert element is not None and value is not None
        raise NotSupportedYet(
            f"{shown}: Apache Spark refuses an ARRAY<{element.simpleString().upper()}> searched "
            f"for a {value.simpleString().upper()} (DATATYPE_MISMATCH.ARRAY_FUNCTION_DIFF_TYPES); "
            "the engine would answer, comparing them in DECIMAL(30,15).",
            hint="cast the value to the array's element type, e.g. "
            "array_position(a, CAST(v AS DOUBLE)).")


def _position_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    _refuse_position(f"array_position({', '.join(args)})", types)
    return None


def _position_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    _refuse_position("array_position(...) in a DataFrame expression", types)
    return None


ARRAY_RULES: tuple[Rule, ...] = (
    Rule(frozenset({"array_contains"}), "array_contains is false where Spark's is NULL (a "
         "NULL element or value)", _contains_sql, _contains_column),
    *(Rule(frozenset({name}), f"{name} of a MAP crashes the engine", _explode_sql(name),
           _explode_column(name), typed=1, refuse_untyped=False, generator=True,
           candidate=_may_be_map)
      for name in _EXPLODES),
    Rule(frozenset({"array_position"}), "array_position of an ARRAY<DOUBLE> and a DECIMAL "
         "answers where Spark refuses it", _position_sql, _position_column,
         positions=lambda count: (0, 1) if count == 2 else (), refuse_untyped=False,
         candidate=lambda args: len(args) == 2 and could_differ(args[1])),
)
