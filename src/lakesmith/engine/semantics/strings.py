"""String functions with Spark's answers:

* `substring(s, pos, len)` / `substr`: Spark (`UTF8String.substringSQL`) computes the end from
  the unclamped start (`pos` < 0 counts from the end) and gives '' where it is not after the
  start; the engine fails on a negative length, clamps a start before the string first, and
  reads a NULL position as 1. The start and length are computed Spark's way and handed to the
  engine as a plain 1-based start and a non-negative length. Literal positions > 0 with literal
  lengths ≥ 0 are left as written (the engine agrees).
* `initcap(s)`: Spark capitalises the first letter after a space only, with Unicode title case
  (`ß` → `Ss`, `ǆ` → `ǅ`); the engine after any non-alphanumeric character. Strings of ASCII
  letters, digits and spaces (where both agree) keep the engine's function; others are split
  on spaces, each word's first character title-cased.
* `left(s, n)` / `right(s, n)` with n ≤ 0: '' (the engine drops characters from the other end).
* `regexp_count`: see `regex_rules` (its INT type, with its pattern)."""

from __future__ import annotations

import re
import sys
from functools import cache
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType

from lakesmith.engine.semantics.lambda_text import VARIABLE
from lakesmith.engine.semantics.literal_types import column_literal
from lakesmith.engine.semantics.rules import Rule
from lakesmith.sql_literal import sql_string

_INTEGER = re.compile(r"^\(*\s*(-?\d+)\s*\)*$")


def _literal_int(text: str) -> int | None:
    match = _INTEGER.match(text.strip())
    return int(match.group(1)) if match else None


def _substring_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) == 2:
        if _literal_int(args[1]) is not None:
            return None
        s, p = args
        return f"(CASE WHEN ({p}) IS NULL THEN NULL ELSE substring({s}, {p}) END)"
    if len(args) != 3:
        return None
    s, p, length = args
    pos, count = _literal_int(p), _literal_int(length)
    if pos is not None and pos >= 0 and count is not None and count >= 0:
        return None
    if pos is not None and pos >= 0:  # a constant start: only the length can go wrong
        start = max(pos - 1, 0)
        if count is not None:
            return f"substring({s}, {start + 1}, {max(count, 0)})"
        n = f"CAST({length} AS BIGINT)"
        return f"substring({s}, {start + 1}, CASE WHEN {n} < 0 THEN 0 ELSE {n} END)"
    return _substring_from_any_start(s, p, length)


def _substring_from_any_start(s: str, p: str, length: str) -> str:
    q = f"CAST({p} AS BIGINT)"
    # Spark's start, 0-based and unclamped (NULL for a NULL position)
    start = (f"(CASE WHEN {q} > 0 THEN {q} - 1 WHEN {q} < 0 THEN length({s}) + {q} "
             f"WHEN {q} = 0 THEN 0 END)")
    end = f"({start} + CAST({length} AS BIGINT))"
    clamped = f"greatest({start}, 0)"
    return (f"substring({s}, {clamped} + 1, "
            f"CASE WHEN {end} <= {clamped} THEN 0 ELSE {end} - {clamped} END)")


def _literal_of(column: Any) -> int | None:
    """An integer literal's value (DataFrame `F.substring(col, 2, 3)` passes literals)."""
    found = column_literal(column)
    return int(found[1]) if found is not None and found[0] in ("integer", "long", "short",
                                                                "byte") else None


def _substring_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    if len(args) == 2:
        s, p = args
        if _literal_of(p) is not None:
            return None
        return F.when(p.isNull(), F.lit(None)).otherwise(F.call_function("substring", s, p))
    if len(args) != 3:
        return None
    s, p, length = args
    pos, count = _literal_of(p), _literal_of(length)
    if pos is not None and pos >= 0 and count is not None and count >= 0:
        return None
    q = p.cast("bigint")
    start = (F.when(q > 0, q - 1).when(q < 0, F.length(s) + q).when(q == 0, F.lit(0))
             .cast("bigint"))
    end = start + length.cast("bigint")
    clamped = F.greatest(start, F.lit(0).cast("bigint"))
    return F.substring(s, clamped + 1, F.when(end <= clamped, F.lit(0)).otherwise(end - clamped))


@cache
def _title_cases() -> dict[str, str]:
    """Characters whose Unicode title case is not their upper case (`ß` → `Ss`)."""
    return {c: c.title() for c in map(chr, range(sys.maxunicode + 1))
            if not 0xD800 <= ord(c) < 0xE000 and c.title() != c.upper()}


def _title_map_sql() -> str:
    return "map(" + ", ".join(f"{sql_string(k)}, {sql_string(v)}" for k, v in _title_cases().items()) \
        + ")"


_PLAIN = r"^[A-Za-z0-9 ]*\z"  # where the engine's initcap is Spark's


def _initcap_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) != 1:
        return None
    s, w = args[0], VARIABLE
    first = f"substring({w}, 1, 1)"
    # the map of special title cases only for non-ASCII letters (a map literal per word is slow)
    title = (f"CASE WHEN ascii({first}) < 128 THEN upper({first}) ELSE "
             f"coalesce(try_element_at({_title_map_sql()}, {first}), upper({first})) END")
    words = (f"array_join(transform(split(lower({s}), ' '), {w} -> concat({title}, "
             f"substring({w}, 2))), ' ')")
    return f"(CASE WHEN ({s}) RLIKE {sql_string(_PLAIN)} THEN initcap({s}) ELSE {words} END)"


def _initcap_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    if len(args) != 1:
        return None
    s = args[0]
    titles = F.create_map(*[F.lit(x) for kv in _title_cases().items() for x in kv])

    def word(w: Any) -> Any:
        first = F.substring(w, 1, 1)
        title = F.when(F.ascii(first) < 128, F.upper(first)).otherwise(
            F.coalesce(F.try_element_at(titles, first), F.upper(first)))
        return F.concat(title, F.substring(w, 2, 2**31 - 1))

    words = F.array_join(F.transform(F.split(F.lower(s), " "), word), " ")
    return F.when(s.rlike(_PLAIN), F.initcap(s)).otherwise(words)


def _left_right_sql(name: str) -> Any:
    def rewrite(args: list[str], _: list[DataType | None], over: str) -> str | None:
        if len(args) != 2:
            return None
        count = _literal_int(args[1])
        if count is not None and count >= 0:
            return None  # the engine agrees
        n = f"({args[1]})"
        return f"(CASE WHEN {n} <= 0 THEN '' ELSE {name}({args[0]}, {n}) END)"

    return rewrite


def _left_right_column(name: str) -> Any:
    def rewrite(args: list[Any], _: list[DataType | None]) -> Any | None:
        if len(args) != 2:
            return None
        count = _literal_of(args[1])
        if count is not None and count >= 0:
            return None
        s, n = args
        return F.when(n <= 0, F.lit("")).when(n > 0, F.call_function(name, s, n))

    return rewrite


STRING_RULES: tuple[Rule, ...] = (
    Rule(frozenset({"left"}), "left(s, n) with n < 0 drops the last characters; Spark gives ''",
         _left_right_sql("left"), _left_right_column("left")),
    Rule(frozenset({"right"}), "right(s, n) with n < 0 drops the first characters; Spark gives "
         "''", _left_right_sql("right"), _left_right_column("right")),
    Rule(frozenset({"substring", "substr"}), "substring with a negative length fails, and a "
         "start before the string or a NULL start is read otherwise than in Spark",
         _substring_sql, _substring_column),
    Rule(frozenset({"initcap"}), "initcap capitalises after any non-alphanumeric character; "
         "Spark after spaces only, with Unicode title case", _initcap_sql, _initcap_column),
)
