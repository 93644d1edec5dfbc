"""Which IN lists and BETWEENs `decimal_lists` reads (a value that could be a DECIMAL or a DOUBLE:
such a literal, or not a literal), and the text it gives once every part's type is known."""

from __future__ import annotations

import pytest
from pyspark.sql.types import DecimalType, DoubleType, IntegerType, LongType

from lakesmith.engine.semantics.decimal_lists import (
    BETWEEN,
    DECIMAL_LIST_RULES,
    IN_LIST,
    NOT_BETWEEN,
    NOT_IN_LIST,
    decimal_list_name,
    find_decimal_lists,
)
from lakesmith.engine.semantics.in_subqueries import (
    IN_QUERY,
    IN_QUERY_RULES,
    NOT_IN_QUERY,
    find_in_subqueries,
)

RULES = {name: rule for rule in DECIMAL_LIST_RULES for name in rule.names}


def found(text: str) -> list[tuple[str, list[str]]]:
    return [(c.name, [text[a:b].strip() for a, b in c.args]) for c in find_decimal_lists(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT x IN (0.5, 0.9) FROM t", [(IN_LIST, ["x", "0.5", "0.9"])]),
    ("SELECT a.x NOT IN (1, -2.5BD) FROM t", [(NOT_IN_LIST, ["a.x", "1", "-2.5BD"])]),
    ("WHERE x + 1 BETWEEN 0 AND 1.0", [(BETWEEN, ["x + 1", "0", "1.0"])]),
    ("WHERE f(x) NOT BETWEEN -0.5 AND 0.9 AND y > 1", [(NOT_BETWEEN, ["f(x)", "-0.5", "0.9"])]),
    ("SELECT x IN (0.5D, 0.9D) FROM t", [(IN_LIST, ["x", "0.5D", "0.9D"])]),
    ("SELECT x IN (0.5, y) FROM t", [(IN_LIST, ["x", "0.5", "y"])]),
    ("SELECT x IN (f(a, b), c[1]) FROM t", [(IN_LIST, ["x", "f(a, b)", "c[1]"])]),
    ("SELECT x BETWEEN 0.5 AND 0.9 * 2 FROM t", [(BETWEEN, ["x", "0.5", "0.9 * 2"])]),
    ("WHERE d BETWEEN lo + 1 AND hi AND k = 1", [(BETWEEN, ["d", "lo + 1", "hi"])]),
])
def test_lists_that_could_meet_a_double_with_a_decimal_are_found(text, expected) -> None:
    assert found(text) == expected


@pytest.mark.parametrize("text", [
    "SELECT x IN (1, 2) FROM t",  # integer literals: the engine agrees whatever x is
    "SELECT s IN ('a', 'b') FROM t",
    "SELECT x BETWEEN 1 AND 2 FROM t",
    "SELECT x IN (SELECT 0.5) FROM t",  # a subquery
    "SELECT 'x IN (0.5)' FROM t",  # inside a string
])
def test_other_lists_are_left_as_written(text) -> None:
    assert found(text) == []


def test_the_decimals_are_cast_where_a_double_meets_them() -> None:
    rule = RULES[IN_LIST]
    d, dec, long = DoubleType(), DecimalType(10, 2), LongType()
    assert rule.sql(["x", "0.5", "1"], [d, DecimalType(1, 1), IntegerType()], "") == \
        "x IN (CAST(0.5 AS DOUBLE), 1)"
    assert rule.sql(["x", "0.5", "1"], [dec, DecimalType(1, 1), IntegerType()], "") is None
    assert rule.sql(["x", "0.5", "1"], [long, DecimalType(1, 1), IntegerType()], "") is None
    assert rule.sql(["dec", "y"], [dec, d], "") == "CAST(dec AS DOUBLE) IN (y)"
    assert rule.sql(["x", "y"], [d, None], "") is None  # a type not found: as written
    assert RULES[NOT_BETWEEN].sql(["x", "-0.5", "0.9"], [d, DecimalType(1, 1),
                                                         DecimalType(1, 1)], "") == \
        "x NOT BETWEEN CAST(-0.5 AS DOUBLE) AND CAST(0.9 AS DOUBLE)"


def test_between_casts_each_comparison_as_spark_does() -> None:
    """Spark's BETWEEN is `low <= x AND x <= high`, each pair cast on its own: a DECIMAL `x`
    is cast for the DOUBLE bound only."""
    d, dec = DoubleType(), DecimalType(10, 2)
    assert RULES[BETWEEN].sql(["dec", "lo", "hi"], [dec, d, d], "") == \
        "CAST(dec AS DOUBLE) BETWEEN lo AND hi"
    assert RULES[BETWEEN].sql(["dec", "lo", "1"], [dec, d, IntegerType()], "") == \
        "(lo <= CAST(dec AS DOUBLE) AND dec <= 1)"
    assert RULES[NOT_BETWEEN].sql(["dec", "1", "hi"], [dec, IntegerType(), d], "") == \
        "(NOT (1 <= dec AND CAST(dec AS DOUBLE) <= hi))"
    assert RULES[BETWEEN].sql(["dec", "1", "2"], [dec, IntegerType(), IntegerType()], "") is None


def test_spark_names() -> None:
    assert decimal_list_name(NOT_IN_LIST, ["x", "0.5", "0.9"]) == "(NOT (x IN (0.5, 0.9)))"
    assert decimal_list_name(BETWEEN, ["x", "0.5", "1.5"]) == "between(x, 0.5, 1.5)"


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT 1 FROM t WHERE x IN (SELECT d FROM u)",
     [(IN_QUERY, ["x", "SELECT", "d", "FROM u"])]),
    ("WHERE a + 1 NOT IN (SELECT DISTINCT d AS q FROM u WHERE k = t.id)",
     [(NOT_IN_QUERY, ["a + 1", "SELECT DISTINCT", "d", "AS q FROM u WHERE k = t.id"])]),
    ("WHERE x IN (SELECT 0.5D)", [(IN_QUERY, ["x", "SELECT", "0.5D", ""])]),
])
def test_in_subqueries_of_one_item_are_found(text, expected) -> None:
    assert [(c.name, c.arg_texts(text)) for c in find_in_subqueries(text)] == expected


@pytest.mark.parametrize("text", [
    "WHERE x IN (SELECT a, b FROM u)",  # two items
    "WHERE x IN (SELECT * FROM u)",
    "WHERE x IN (SELECT d FROM u UNION SELECT e FROM v)",  # a set operation
    "WHERE s IN (SELECT 'a')",  # a string: never a DOUBLE or a DECIMAL
])
def test_other_in_subqueries_are_left_as_written(text) -> None:
    assert find_in_subqueries(text) == []


def test_the_decimal_side_of_an_in_subquery_is_cast() -> None:
    rule = {n: r for r in IN_QUERY_RULES for n in r.names}
    d, dec = DoubleType(), DecimalType(10, 2)
    args = ["x", "SELECT", "d", "FROM u"]
    assert rule[IN_QUERY].sql(args, [d, None, dec], "") == \
        "x IN (SELECT CAST(d AS DOUBLE) FROM u)"
    assert rule[NOT_IN_QUERY].sql(args, [dec, None, d], "") == \
        "CAST(x AS DOUBLE) NOT IN (SELECT d FROM u)"
    assert rule[IN_QUERY].sql(args, [d, None, d], "") is None
    assert rule[IN_QUERY].sql(args, [d, None, None], "") is None
