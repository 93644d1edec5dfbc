"""A STRING read as a DATE with Spark's answer: Spark's `stringToDate` reads `[+-]yyyy-[m]m-[d]d`
after trimming white space and ignores everything after a ` ` or a `T` (so an ISO-8601 timestamp
such as `2026-11-02T23:00:00-05:00` is the date 2026-11-02: a zone offset never shifts it). The
engine accepts the space but not the `T`, nor leading white space, and fails with
CAST_INVALID_INPUT on the JSON timestamps pipelines land.

The date part is cut out of the string first (`regexp_replace`, all in the engine); where the cut
text is no date, the engine's own cast of the whole string decides, so invalid input still fails
(or is NULL under `try_cast`) with the value as written, as in Spark."""

from __future__ import annotations

from typing import Any

from pyspark.sql.types import DataType, StringType

from lakesmith.sql_literal import sql_string

# The date of a date-time text: group 1 is `[+-]yyyy-[m]m-[d]d`, what follows a `T` or a white
# space is dropped. No backslashes, so the pattern reads the same in SQL text; white space is
# the characters themselves, not `[[:space:]]`, which Java's syntax reads otherwise
# (`regex_rules` reads the patterns of the plans it rewrites as Spark's).
_SPACE = "\t\n\x0b\x0c\r "
# (`\z`: the end of the text for Java and Rust alike)
DATE_PART = f"(?s)^[{_SPACE}]*([+-]?[0-9]+-[0-9]{{1,2}}-[0-9]{{1,2}})([T{_SPACE}].*)?" + r"\z"
_KEEP = "$1"


def is_string(t: DataType | None) -> bool:
    return isinstance(t, StringType)


def string_to_date_sql(x: str, *, try_: bool) -> str:
    """SQL for `CAST(x AS DATE)` (or `try_cast`) of a STRING `x`, Spark's way."""
    cut = f"try_cast(regexp_replace({x}, {sql_string(DATE_PART)}, '{_KEEP}') AS DATE)"
    return cut if try_ else f"coalesce({cut}, CAST({x} AS DATE))"


def string_to_date_column(x: Any, *, try_: bool) -> Any:
    """`x.cast("date")` (or `try_cast`) of a STRING column `x`, Spark's way."""
    from pyspark.sql.connect import functions as F

    cut = F.regexp_replace(x, DATE_PART, _KEEP).try_cast("date")
    return cut if try_ else F.coalesce(cut, x.cast("date"))

