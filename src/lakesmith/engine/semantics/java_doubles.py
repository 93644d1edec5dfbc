"""A DOUBLE or FLOAT as text with Spark's answer: Spark prints it with Java's
`Double.toString` / `Float.toString` — plain from 1.0E-3 up to (not including) 1.0E7
(`1234567.0`, `0.001`), else in computerized scientific notation (`1.23456789E7`, `1.0E-5`,
`1.0E20`), and `Infinity`; the engine switches between the forms at other bounds and writes
exponents its own way (`12345678.9`, `0.00001`, `1e20`, `inf`).

The engine's text holds the same shortest digits; outside Java's plain range they are read out
of it (the digits, where the point is, the engine's exponent) and written Java's way, all in the
engine, in a lambda over the value so an expression is written (and computed) once.

Java does not always print the shortest text. The tiniest subnormals whose shortest text has one
digit are printed with the closer two-digit text (`Double.MIN_VALUE` is 4.9E-324, not 5e-324):
Java 17 and Java 19+ (JDK-4511638's fix) agree on six such values, which lakesmith writes as Java
does. Elsewhere Java 17 sometimes prints a longer, non-shortest text (1.0E23 as
9.999999999999999E22) where Java 19+ prints the shortest; lakesmith writes the shortest, Spark's
answer on Java 21 (docs/spark-types.md)."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType, DoubleType, FloatType

from lakesmith.sql_literal import sql_string

_PLAIN_LOW, _PLAIN_HIGH = "1e-3", "1e7"
_VARIABLE = "__lakesmith_double"  # the lambda variable the text is built from
# The parts of the engine's text (without its sign): integer digits, fraction digits, exponent.
# (`\z`, the end of the text in Java and Rust alike: Java's `$` would also match before a
# final line terminator, which the regex rules would then translate)
_INTEGER, _FRACTION, _EXPONENT = "^-?([0-9]*)", "[.]([0-9]*)", r"e(-?[0-9]+)\z"
_TRAILING_ZEROS = r"0+\z"
# The subnormals (k times Double.MIN_VALUE, k = 1, 10, 12, 14, 16, 18) whose shortest text has one
# digit and that Java 17 and Java 19+ both print with the closer two-digit text.
_TINY_JAVA_TEXT = {"5e-324": "4.9E-324", "5e-323": "4.9E-323", "6e-323": "5.9E-323",
                   "7e-323": "6.9E-323", "8e-323": "7.9E-323", "9e-323": "8.9E-323"}
_TINY_BOUND = "1e-322"  # every value of _TINY_JAVA_TEXT is below it


def is_floating(t: DataType | None) -> bool:
    return isinstance(t, (DoubleType, FloatType))


def java_string_sql(x: str) -> str:
    """SQL for `CAST(x AS STRING)` of a DOUBLE or FLOAT `x`, as Spark writes it (`x` is written
    once: the text is built in a lambda over it)."""
    return f"element_at(transform(array({x}), {_VARIABLE} -> {_java_text_sql(_VARIABLE)}), 1)"


def _java_text_sql(x: str) -> str:
    text = f"CAST({x} AS STRING)"
    magnitude = f"abs(CAST({x} AS DOUBLE))"
    integer = f"regexp_extract({text}, '{_INTEGER}', 1)"
    fraction = f"regexp_extract({text}, '{_FRACTION}', 1)"
    exponent = (f"CAST(coalesce(nullif(regexp_extract({text}, {sql_string(_EXPONENT)}, 1), ''), "
                "'0') AS INT)")
    digits_all = f"concat({integer}, {fraction})"
    leading = f"length(regexp_extract({digits_all}, '^(0*)', 1))"
    digits = (f"regexp_replace(regexp_replace({digits_all}, '^0+', ''), "
              f"{sql_string(_TRAILING_ZEROS)}, '')")
    scientific = (
        f"concat(CASE WHEN {x} < 0 THEN '-' ELSE '' END, substr({digits}, 1, 1), '.', "
        f"CASE WHEN length({digits}) > 1 THEN substr({digits}, 2) ELSE '0' END, 'E', "
        f"CAST({exponent} + length({integer}) - 1 - {leading} AS STRING))")
    tiny = " ".join(f"WHEN double('{value}') THEN '{java}'"
                    for value, java in _TINY_JAVA_TEXT.items())
    tiny_text = (f"CASE WHEN {magnitude} < double('{_TINY_BOUND}') THEN concat("
                 f"CASE WHEN {x} < 0 THEN '-' ELSE '' END, CASE {magnitude} {tiny} END) END")
    return (f"CASE WHEN {x} IS NULL THEN NULL WHEN isnan({x}) THEN 'NaN' "
            f"WHEN {magnitude} = double('Infinity') THEN "
            f"CASE WHEN {x} > 0 THEN 'Infinity' ELSE '-Infinity' END "
            f"WHEN {x} = 0 OR ({magnitude} >= {_PLAIN_LOW} AND {magnitude} < {_PLAIN_HIGH}) "
            f"THEN {text} ELSE coalesce({tiny_text}, {scientific}) END")


def java_string_column(x: Any) -> Any:
    """`x.cast("string")` of a DOUBLE or FLOAT column, as Spark writes it."""
    return F.element_at(F.transform(F.array(x), _java_text_column), 1)


def _java_text_column(x: Any) -> Any:
    text = x.cast("string")
    magnitude = F.abs(x.cast("double"))
    integer = F.regexp_extract(text, _INTEGER, 1)
    fraction = F.regexp_extract(text, _FRACTION, 1)
    exponent = F.coalesce(F.nullif(F.regexp_extract(text, _EXPONENT, 1), F.lit("")),
                          F.lit("0")).cast("int")
    digits_all = F.concat(integer, fraction)
    leading = F.length(F.regexp_extract(digits_all, "^(0*)", 1))
    digits = F.regexp_replace(F.regexp_replace(digits_all, "^0+", ""), _TRAILING_ZEROS, "")
    scientific = F.concat(
        F.when(x < 0, F.lit("-")).otherwise(F.lit("")), F.substring(digits, 1, 1), F.lit("."),
        F.when(F.length(digits) > 1, digits.substr(F.lit(2), F.length(digits)))
        .otherwise(F.lit("0")),
        F.lit("E"), (exponent + F.length(integer) - 1 - leading).cast("string"))
    tiny: Any = F.lit(None).cast("string")
    for value, java in reversed(_TINY_JAVA_TEXT.items()):
        tiny = F.when(magnitude == F.lit(float(value)), F.lit(java)).otherwise(tiny)
    tiny_text = F.when(magnitude < float(_TINY_BOUND), F.concat(
        F.when(x < 0, F.lit("-")).otherwise(F.lit("")), tiny))
    infinite = magnitude == F.lit(float("inf"))
    plain = (x == 0) | ((magnitude >= float(_PLAIN_LOW)) & (magnitude < float(_PLAIN_HIGH)))
    return (F.when(x.isNull(), F.lit(None).cast("string"))
            .when(F.isnan(x), F.lit("NaN"))
            .when(infinite, F.when(x > 0, F.lit("Infinity")).otherwise(F.lit("-Infinity")))
            .when(plain, text).otherwise(F.coalesce(tiny_text, scientific)))
