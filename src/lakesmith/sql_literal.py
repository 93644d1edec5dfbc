"""A Python string as a Spark SQL string literal, for every place lakesmith writes SQL text.

Spark SQL reads backslash escapes inside string literals (`'a\\nb'` is a newline), so a value's
backslashes are doubled as well as its quotes escaped: the literal means the value exactly."""

from __future__ import annotations


def sql_string(text: str) -> str:
    """`text` as a single-quoted Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
