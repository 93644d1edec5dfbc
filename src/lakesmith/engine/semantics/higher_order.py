"""Higher-order functions the engine lacks, written with the ones it has, the user's lambda
body unchanged:

* `zip_with(a, b, (x, y) -> f)` is `transform(arrays_zip(a, b), e -> f[x := e.0, y := e.1])`:
  `arrays_zip` pads the shorter array with NULLs, as `zip_with` does;
* `transform_values(m, (k, v) -> f)` / `transform_keys(m, (k, v) -> f)` rebuild the map from
  its entries, `map_from_entries(transform(map_entries(m), e -> struct(...)))` (a duplicate or
  NULL key from `transform_keys` fails as in Spark);
* `map_zip_with(m1, m2, (k, v1, v2) -> f)` maps each key of either map (m1's first, in order)
  to `f` of the key and its values in both (NULL where a map lacks it).

Each argument array is wrapped in `coalesce(...)` so `arrays_zip` names its fields by position
(`0`, `1`) whatever the argument is (a column reference would lend its name)."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.types import DataType

from lakesmith.engine.semantics.lambda_text import VARIABLE, read_lambda, substitute
from lakesmith.engine.semantics.rules import Rule
from lakesmith.errors import NotSupportedYet

E = VARIABLE


def _unreadable(name: str, text: str) -> NotSupportedYet:
    return NotSupportedYet(
        f"{name}(..., {text}): the engine has no {name}, and lakesmith rewrites it only with a "
        "lambda of two parameters that no nested lambda binds again.",
        hint="write the lambda as (x, y) -> expression, with other names in nested lambdas.")


def _zip_with_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) != 3:
        return None
    function = read_lambda(args[2])
    if function is None or len(function.parameters) != 2:
        raise _unreadable("zip_with", args[2])
    x, y = function.parameters
    body = substitute(function, {x: f"{E}['0']", y: f"{E}['1']"})
    if body is None:
        raise _unreadable("zip_with", args[2])
    return (f"transform(arrays_zip(coalesce({args[0]}), coalesce({args[1]})), "
            f"{E} -> {body})")


def _map_sql(keys: bool) -> Any:
    name = "transform_keys" if keys else "transform_values"

    def rewrite(args: list[str], _: list[DataType | None], over: str) -> str | None:
        if len(args) != 2:
            return None
        function = read_lambda(args[1])
        if function is None or len(function.parameters) != 2:
            raise _unreadable(name, args[1])
        k, v = function.parameters
        body = substitute(function, {k: f"{E}.key", v: f"{E}.value"})
        if body is None:
            raise _unreadable(name, args[1])
        key, value = (body, f"{E}.value") if keys else (f"{E}.key", body)
        return (f"map_from_entries(transform(map_entries({args[0]}), "
                f"{E} -> struct({key} AS key, {value} AS value)))")

    return rewrite


def _lambda_parts(argument: Any) -> tuple[list[str], proto.Expression] | None:
    """A DataFrame lambda argument's parameter names and body."""
    plan = argument._expr.to_plan(None)
    if plan.WhichOneof("expr_type") != "lambda_function":
        return None
    names = [".".join(a.name_parts) for a in plan.lambda_function.arguments]
    return names, plan.lambda_function.function


def _replaced(body: proto.Expression, values: dict[str, Any]) -> Any:
    """`body` (a lambda's) with its variables replaced by Columns, as a Column."""
    from pyspark.sql.connect.column import Column

    from lakesmith.engine.semantics.plan_rewrite import _Proto

    copied = proto.Expression()
    copied.CopyFrom(body)
    _replace(copied, {name: value._expr.to_plan(None) for name, value in values.items()})
    return Column(_Proto(copied))


def _replace(message: Any, values: dict[str, proto.Expression]) -> None:
    if isinstance(message, proto.Expression) and \
            message.WhichOneof("expr_type") == "unresolved_named_lambda_variable":
        name = ".".join(message.unresolved_named_lambda_variable.name_parts)
        if name in values:
            message.CopyFrom(values[name])
            return
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        for item in (value if descriptor.is_repeated else [value]):
            if hasattr(item, "ListFields"):
                _replace(item, values)


def _zip_with_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    parts = _lambda_parts(args[2]) if len(args) == 3 else None
    if parts is None or len(parts[0]) != 2:
        return None
    (x, y), body = parts
    return F.transform(F.arrays_zip(F.coalesce(args[0]), F.coalesce(args[1])),
                       lambda e: _replaced(body, {x: e["0"], y: e["1"]}))


def _map_column(keys: bool) -> Any:
    def rewrite(args: list[Any], _: list[DataType | None]) -> Any | None:
        parts = _lambda_parts(args[1]) if len(args) == 2 else None
        if parts is None or len(parts[0]) != 2:
            return None
        (k, v), body = parts

        def entry(e: Any) -> Any:
            new = _replaced(body, {k: e["key"], v: e["value"]})
            key, value = (new, e["value"]) if keys else (e["key"], new)
            return F.struct(key.alias("key"), value.alias("value"))

        return F.map_from_entries(F.transform(F.map_entries(args[0]), entry))

    return rewrite


def _map_zip_with_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) != 3:
        return None
    function = read_lambda(args[2])
    if function is None or len(function.parameters) != 3:
        raise _unreadable("map_zip_with", args[2])
    k, v1, v2 = function.parameters
    a, b = f"({args[0]})", f"({args[1]})"
    body = substitute(function, {k: E, v1: f"try_element_at({a}, {E})",
                                 v2: f"try_element_at({b}, {E})"})
    if body is None:
        raise _unreadable("map_zip_with", args[2])
    return (f"CASE WHEN {a} IS NOT NULL AND {b} IS NOT NULL THEN map_from_entries(transform("
            f"array_distinct(concat(map_keys({a}), map_keys({b}))), "
            f"{E} -> struct({E} AS key, {body} AS value))) END")


def _map_zip_with_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    parts = _lambda_parts(args[2]) if len(args) == 3 else None
    if parts is None or len(parts[0]) != 3:
        return None
    (k, v1, v2), body = parts
    a, b = args[0], args[1]
    keys = F.array_distinct(F.concat(F.map_keys(a), F.map_keys(b)))
    entries = F.transform(keys, lambda e: F.struct(e.alias("key"), _replaced(body, {
        k: e, v1: F.try_element_at(a, e), v2: F.try_element_at(b, e)}).alias("value")))
    return F.when(a.isNotNull() & b.isNotNull(), F.map_from_entries(entries))


HIGHER_ORDER_RULES: tuple[Rule, ...] = (
    Rule(frozenset({"map_zip_with"}), "map_zip_with is an unknown function", _map_zip_with_sql,
         _map_zip_with_column),
    Rule(frozenset({"zip_with"}), "zip_with is an unknown function", _zip_with_sql,
         _zip_with_column),
    Rule(frozenset({"transform_values"}), "transform_values is an unknown function",
         _map_sql(keys=False), _map_column(keys=False)),
    Rule(frozenset({"transform_keys"}), "transform_keys is an unknown function",
         _map_sql(keys=True), _map_column(keys=True)),
)
