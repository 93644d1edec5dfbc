"""DOUBLE and FLOAT values turned into text implicitly — arguments of `concat(...)` and
`concat_ws(...)`, operands of `||` — written as Spark writes them (Java's `Double.toString`,
`java_doubles`): Spark casts them to STRING, and so the text is the same as
`CAST(d AS STRING)`'s."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType

from lakesmith.engine.semantics.java_doubles import (
    is_floating,
    java_string_column,
    java_string_sql,
)
from lakesmith.engine.semantics.rules import Rule

_DIFFERENCE = "a DOUBLE concatenated to a STRING is not written as Java writes it"


def _all(count: int) -> tuple[int, ...]:
    return tuple(range(count))


def _concat_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    if not any(is_floating(t) for t in types):
        return None
    return "concat(" + ", ".join(java_string_sql(a) if is_floating(t) else a
                                 for a, t in zip(args, types, strict=True)) + ")"


def _concat_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    if not any(is_floating(t) for t in types):
        return None
    return F.concat(*[java_string_column(a) if is_floating(t) else a
                      for a, t in zip(args, types, strict=True)])


def _concat_ws_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    if not any(is_floating(t) for t in types):
        return None
    return "concat_ws(" + ", ".join(java_string_sql(a) if is_floating(t) else a
                                    for a, t in zip(args, types, strict=True)) + ")"


def _concat_ws_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    if not any(is_floating(t) for t in types):
        return None
    return F.call_function("concat_ws", *[java_string_column(a) if is_floating(t) else a
                                          for a, t in zip(args, types, strict=True)])


def _pipes_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    if len(args) != 2 or not any(is_floating(t) for t in types):
        return None
    a, b = (java_string_sql(x) if is_floating(t) else x for x, t in zip(args, types, strict=True))
    return f"({a} || {b})"


IMPLICIT_STRING_RULES: tuple[Rule, ...] = (
    # a concat whose argument types cannot be found keeps the engine's text
    Rule(frozenset({"concat"}), _DIFFERENCE, _concat_sql, _concat_column, positions=_all,
         refuse_untyped=False),
    Rule(frozenset({"concat_ws"}), _DIFFERENCE, _concat_ws_sql, _concat_ws_column,
         positions=_all, refuse_untyped=False),
    Rule(frozenset({"||"}), _DIFFERENCE, _pipes_sql, lambda args, types: None,
         positions=_all, refuse_untyped=False),
)
