"""`decode(expr, search, result [, search, result] ... [, default])`, Spark's Oracle-style
conditional: the result of the first search equal to `expr` (NULL equal to NULL), else the
default or NULL. The engine knows only `decode(binary, charset)` and fails on the other form;
it is written as the `CASE` with null-safe equality that Spark itself evaluates."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType

from lakesmith.engine.semantics.rules import Rule


def _decode_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) < 3:
        return None  # decode(binary, charset): the engine's
    value, rest = f"({args[0]})", args[1:]
    branches = " ".join(f"WHEN {value} <=> ({rest[i]}) THEN {rest[i + 1]}"
                        for i in range(0, len(rest) - 1, 2))
    default = f" ELSE {rest[-1]}" if len(rest) % 2 else ""
    return f"(CASE {branches}{default} END)"


def _decode_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    if len(args) < 3:
        return None
    value, rest = args[0], args[1:]
    result = F.when(value.eqNullSafe(rest[0]), rest[1])
    for i in range(2, len(rest) - 1, 2):
        result = result.when(value.eqNullSafe(rest[i]), rest[i + 1])
    return result.otherwise(rest[-1]) if len(rest) % 2 else result


DECODE_RULE = Rule(frozenset({"decode"}), "decode(expr, search, result, ...) is an unknown "
                   "function (only decode(binary, charset))", _decode_sql, _decode_column)
