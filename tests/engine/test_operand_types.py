"""How a query's comparison operands are typed together (`operand_types`): which are asked,
which the tables' schemas answer without a round trip (and which names they must not answer:
a CTE, a lambda variable, an outer query's column), which comparisons then need no type at all,
and the simple CASE written as Spark parses it (`sql_case.searched_cases`)."""

from __future__ import annotations

from typing import Any

import pytest
from pyspark.sql.types import (
    DataType,
    DecimalType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from lakesmith.engine.semantics.operand_types import SqlOperandTyping, prefetch_operands
from lakesmith.engine.semantics.registry import FUNCTION_NAMES, OPERATORS
from lakesmith.engine.semantics.sql_case import searched_cases
from lakesmith.engine.semantics.sql_operators import find_operations
from lakesmith.engine.semantics.sql_rewrite import rewrite_sql
from lakesmith.engine.semantics.sql_text import Call, find_calls

SALES = StructType([StructField("id", LongType()), StructField("price", DoubleType()),
                    StructField("amount", DecimalType(12, 2)), StructField("rid", LongType())])
REGIONS = StructType([StructField("rid", LongType()), StructField("floor", DecimalType(10, 2)),
                      StructField("name", StringType())])
TABLES = {"`sales`": SALES, "`db`.`regions`": REGIONS}


class _Spark:
    """A session that records the probes sent and answers them with a schema of DOUBLEs."""

    def __init__(self) -> None:
        self.probes: list[str] = []

    def sql(self, text: str) -> Any:
        self.probes.append(text)
        spark = self

        class Frame:
            @property
            def schema(self) -> StructType:
                items = text.count("__lakesmith_probe")
                if "fails" in text:
                    raise RuntimeError("not analysable")
                return StructType([StructField(f"c{i}", DoubleType()) for i in range(items)])

        del spark
        return Frame()


def _calls(text: str) -> list[Call]:
    from lakesmith.engine.semantics.decimal_lists import find_decimal_lists

    return find_calls(text, FUNCTION_NAMES) + find_operations(text, OPERATORS) \
        + find_decimal_lists(text)


def _prefetch(text: str, tables: dict[str, StructType] | None = TABLES
              ) -> tuple[set[Call], dict[Any, DataType | None], list[str]]:
    spark, cache = _Spark(), {}
    settled = prefetch_operands(text, _calls(text), SqlOperandTyping(
        spark, cache, None if tables is None else tables.get))
    return settled, cache, spark.probes


def _typed(text: str, cache: dict[Any, DataType | None]) -> dict[str, DataType | None]:
    return {text[int(a):int(b)].strip(): t for (whole, key), t in cache.items()
            for _, a, b in [key.decode().split(":")]}


def test_columns_of_known_tables_are_typed_without_a_probe() -> None:
    text = "SELECT s.id FROM sales s JOIN db.regions r ON s.price > r.floor WHERE amount = price"
    settled, cache, probes = _prefetch(text)
    assert probes == []
    assert settled == set()
    assert _typed(text, cache) == {"s.price": DoubleType(), "r.floor": DecimalType(10, 2),
                                   "amount": DecimalType(12, 2), "price": DoubleType()}


def test_a_qualified_column_of_a_known_table_beside_a_subquery_is_known() -> None:
    """`FROM (SELECT ...) o JOIN db.regions r ON o.rid = r.rid`: r.rid is known (a BIGINT: the
    comparison is settled, o.rid not asked); an unqualified name could be the subquery's."""
    text = ("SELECT o.n FROM (SELECT rid, count(*) AS n FROM sales GROUP BY rid) o "
            "JOIN db.regions r ON o.rid = r.rid WHERE floor > n")
    settled, cache, probes = _prefetch(text)
    assert [text[c.start:c.end] for c in settled] == ["o.rid = r.rid"]
    assert len(probes) == 1, probes
    assert probes[0].startswith("SELECT floor AS __lakesmith_probe, n AS __lakesmith_probe_1 ")


def test_a_side_known_of_another_type_settles_the_comparison() -> None:
    """`s.rid = r.rid` of BIGINTs: no rewrite whatever; `s.id > x + 1` too (x is not asked)."""
    text = "SELECT s.id FROM sales s JOIN db.regions r ON s.rid = r.rid WHERE s.id > s.price + 1"
    settled, _, probes = _prefetch(text)
    assert probes == []
    assert sorted(text[c.start:c.end] for c in settled) == ["s.id > s.price + 1",
                                                            "s.rid = r.rid"]


def test_the_rest_is_typed_by_one_probe_per_select() -> None:
    text = ("WITH c AS (SELECT * FROM sales) SELECT id FROM c WHERE price > amount AND "
            "id IN (SELECT rid FROM db.regions r WHERE r.floor < price * 2)")
    _, cache, probes = _prefetch(text)
    assert len(probes) == 2, probes  # the outer SELECT (a CTE: not a known table), the inner
    assert "price" in probes[0] and "amount" in probes[0]
    assert _typed(text, cache)["price * 2"] == DoubleType()
    assert _typed(text, cache)["r.floor"] == DecimalType(10, 2)  # known: not in the probe


def test_names_the_tables_do_not_define_are_not_typed_from_them() -> None:
    """A CTE named like a table, a lambda's variable named like a column, a column of an
    unknown source: each asked of the engine (or, in a lambda, left to the rule)."""
    text = ("WITH sales AS (SELECT 1 AS price) SELECT s.price > s.amount FROM sales s")
    _, cache, probes = _prefetch(text)
    assert len(probes) == 1
    text = "SELECT filter(a, price -> price > amount) FROM sales"
    _, cache, probes = _prefetch(text)
    # not the table's DOUBLE price: the array's element it stands for, asked of the engine
    assert [p.lower().split(" from ")[0] for p in probes] == [
        "select element_at(a, 1) as __lakesmith_probe"], probes
    assert _typed(text, cache)["amount"] == DecimalType(12, 2)


def test_a_probe_that_fails_leaves_the_operands_to_be_asked_alone() -> None:
    text = "SELECT x > d FROM fails"
    settled, cache, probes = _prefetch(text, None)
    assert len(probes) == 1 and cache == {} and settled == set()


def test_literals_are_never_probed() -> None:
    text = "SELECT id FROM t WHERE s = 'a' AND k IN (1, 2) AND n BETWEEN 1 AND 2"
    _, cache, probes = _prefetch(text, None)
    assert probes == [] and cache == {}


def test_the_rewrite_asks_no_type_the_prefetch_settled() -> None:
    asked: list[str] = []

    def typer(whole: str, call: Call, index: int) -> DataType | None:
        asked.append(whole[slice(*call.args[index])])
        return None

    text = "SELECT s.id FROM sales s JOIN db.regions r ON s.rid = r.rid"
    prefetch = lambda t, calls: prefetch_operands(  # noqa: E731
        t, calls, SqlOperandTyping(_Spark(), {}, TABLES.get))
    assert rewrite_sql(text, typer, prefetch=prefetch) == text
    assert asked == []


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT CASE x WHEN d THEN 1 ELSE 0 END FROM t",
     "SELECT CASE WHEN x = d THEN 1 ELSE 0 END FROM t"),
    ("SELECT CASE x + 1 WHEN 0.5 THEN 'a' WHEN f(d) THEN 'b' END AS c FROM t",
     "SELECT CASE WHEN (x + 1) = 0.5 THEN 'a' WHEN (x + 1) = (f(d)) THEN 'b' END AS c FROM t"),
    ("SELECT CASE x WHEN CASE y WHEN d THEN 1 END THEN 2 END FROM t",
     "SELECT CASE WHEN x = (CASE WHEN y = d THEN 1 END) THEN 2 END FROM t"),
])
def test_a_simple_case_that_could_meet_a_double_with_a_decimal_is_searched(
        text: str, expected: str) -> None:
    assert searched_cases(text) == expected


@pytest.mark.parametrize("text", [
    "SELECT CASE k WHEN 1 THEN 'one' WHEN 2 THEN 'two' END FROM t",  # integer literals
    "SELECT CASE s WHEN 'a' THEN 1 END FROM t",
    "SELECT CASE WHEN x = d THEN 1 END FROM t",  # already searched
])
def test_other_cases_are_left_as_written(text: str) -> None:
    assert searched_cases(text) == text
