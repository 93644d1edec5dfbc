"""`extract(field FROM x)` and `date_part('field', x)` with Spark's fields: the engine reads
`DOW` as 0 (Sunday) to 6 where Spark's `DOW`/`DAYOFWEEK` is `dayofweek` (1, Sunday, to 7), and it
does not know `DAYOFWEEK`, `DAYOFWEEK_ISO`/`DOW_ISO` (1, Monday, to 7) or `YEAROFWEEK` (the ISO
week-numbering year: the year of the week's Thursday). Those are written with `dayofweek`; the
other fields are the engine's, which agree with Spark's."""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType

from lakesmith.engine.semantics.rules import Rule

_EXTRACT = re.compile(r"^\s*[`'\"]?(\w+)[`'\"]?\s+FROM\s+(.+)$", re.IGNORECASE | re.DOTALL)
_LITERAL = re.compile(r"^\s*'(\w+)'\s*$|^\s*\"(\w+)\"\s*$")


def _part_sql(field: str, x: str) -> str | None:
    field = field.upper()
    if field in ("DOW", "DAYOFWEEK"):
        return f"dayofweek({x})"
    if field in ("DOW_ISO", "DAYOFWEEK_ISO"):
        return f"((dayofweek({x}) + 5) % 7 + 1)"
    if field == "YEAROFWEEK":
        return f"year(date_add(CAST({x} AS DATE), 3 - (dayofweek({x}) + 5) % 7))"
    return None


def _extract_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    match = _EXTRACT.match(args[0]) if len(args) == 1 else None
    return _part_sql(match.group(1), f"({match.group(2)})") if match else None


def _date_part_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    match = _LITERAL.match(args[0]) if len(args) == 2 else None
    return _part_sql(match.group(1) or match.group(2), f"({args[1]})") if match else None


def _field_of(column: Any) -> str | None:
    plan = column._expr.to_plan(None)
    if plan.WhichOneof("expr_type") != "literal" or \
            plan.literal.WhichOneof("literal_type") != "string":
        return None
    return str(plan.literal.string).upper()


def _part_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    if len(args) != 2:
        return None
    field, x = _field_of(args[0]), args[1]
    if field in ("DOW", "DAYOFWEEK"):
        return F.dayofweek(x)
    if field in ("DOW_ISO", "DAYOFWEEK_ISO"):
        return (F.dayofweek(x) + 5) % 7 + 1
    if field == "YEAROFWEEK":
        return F.year(F.date_add(x.cast("date"), 3 - (F.dayofweek(x) + 5) % 7))
    return None


_DIFFERENCE = ("extract(DOW ...) counts from 0; DAYOFWEEK, DAYOFWEEK_ISO / DOW_ISO and "
               "YEAROFWEEK are not supported")
DATE_PART_RULES: tuple[Rule, ...] = (
    Rule(frozenset({"extract"}), _DIFFERENCE, _extract_sql, _part_column),
    Rule(frozenset({"date_part", "datepart"}), _DIFFERENCE, _date_part_sql, _part_column),
)
