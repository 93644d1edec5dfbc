"""Which IN lists and BETWEENs `decimal_lists` reads (number literals only, one a DECIMAL), and
the text it gives once the operand is known to be a DOUBLE."""

from __future__ import annotations

import pytest
from pyspark.sql.types import DecimalType, DoubleType, LongType

from lakesmith.engine.semantics.decimal_lists import (
    BETWEEN,
    DECIMAL_LIST_RULES,
    IN_LIST,
    NOT_BETWEEN,
    NOT_IN_LIST,
    decimal_list_name,
    find_decimal_lists,
)

RULES = {name: rule for rule in DECIMAL_LIST_RULES for name in rule.names}


def found(text: str) -> list[tuple[str, list[str]]]:
    return [(c.name, [text[a:b].strip() for a, b in c.args]) for c in find_decimal_lists(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT x IN (0.5, 0.9) FROM t", [(IN_LIST, ["x", "0.5", "0.9"])]),
    ("SELECT a.x NOT IN (1, -2.5BD) FROM t", [(NOT_IN_LIST, ["a.x", "1", "-2.5BD"])]),
    ("WHERE x + 1 BETWEEN 0 AND 1.0", [(BETWEEN, ["x + 1", "0", "1.0"])]),
    ("WHERE f(x) NOT BETWEEN -0.5 AND 0.9 AND y > 1", [(NOT_BETWEEN, ["f(x)", "-0.5", "0.9"])]),
])
def test_lists_of_number_literals_with_a_decimal_are_found(text, expected) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "SELECT x IN (1, 2) FROM t",  # no DECIMAL literal: the engine agrees
    "SELECT x IN (0.5D, 0.9D) FROM t",  # DOUBLE literals
    "SELECT x IN (0.5, y) FROM t",  # a column in the list
    "SELECT x IN (SELECT 0.5) FROM t",  # a subquery
    "SELECT x BETWEEN 0.5 AND 0.9 * 2 FROM t",  # a bound that is an expression
    "SELECT 'x IN (0.5)' FROM t",  # inside a string
])
def test_other_lists_are_left_as_written(text) -> None:
    assert found(text) == []


def test_the_literals_are_cast_for_a_double_operand_only() -> None:
    rule = RULES[IN_LIST]
    assert rule.sql(["x", "0.5", "1"], [DoubleType()], "") == "x IN (CAST(0.5 AS DOUBLE), 1)"
    assert rule.sql(["x", "0.5", "1"], [DecimalType(10, 2)], "") is None
    assert rule.sql(["x", "0.5", "1"], [LongType()], "") is None
    assert RULES[NOT_BETWEEN].sql(["x", "-0.5", "0.9"], [DoubleType()], "") == \
        "x NOT BETWEEN CAST(-0.5 AS DOUBLE) AND CAST(0.9 AS DOUBLE)"


def test_spark_names() -> None:
    assert decimal_list_name(NOT_IN_LIST, ["x", "0.5", "0.9"]) == "(NOT (x IN (0.5, 0.9)))"
    assert decimal_list_name(BETWEEN, ["x", "0.5", "1.5BD"]) == "between(x, 0.5, 1.5)"
