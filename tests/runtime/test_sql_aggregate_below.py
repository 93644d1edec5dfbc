"""The split of SQL text at its aggregating subquery (`runtime/refresh/sql_aggregate_below.py`):
both texts cut from the text as written, the split refused with a reason where the query
aggregates otherwise, and the view taken as its own backing table only where every row of the
aggregation stays in it unchanged. (The pipelines over these splits: tests/
test_materialized_view_sql_below.py.)"""

from __future__ import annotations

import pytest
from pyspark.sql.connect import proto

from lakesmith.runtime.refresh.aggregate_state import aggregate_below
from lakesmith.runtime.refresh.planning import Issue
from lakesmith.runtime.refresh.sql_aggregate_below import (
    NAME,
    aggregation_outputs,
    keeps_aggregate_sql,
    split_sql,
)

AGGREGATION = "SELECT k, sum(amount) AS s, count(*) AS n FROM bronze WHERE amount > 0 GROUP BY k"


def sql(text: str) -> proto.Relation:
    relation = proto.Relation()
    relation.sql.query = text
    relation.common.plan_id = 5
    return relation


def split(text: str) -> proto.Relation:
    found = split_sql(sql(text))
    assert isinstance(found, proto.Relation), found
    return found


def texts(found: proto.Relation) -> tuple[str, str]:
    (reference,) = found.with_relations.references
    assert reference.subquery_alias.alias == NAME and reference.common.HasField("plan_id")
    return found.with_relations.root.sql.query, reference.subquery_alias.input.sql.query


def test_both_texts_are_cut_as_written() -> None:
    text = ("SELECT o.k, o.s, c.name -- the name\nFROM (\n  " + AGGREGATION.replace(
        "GROUP BY", "-- keys:\n  GROUP BY") + "\n) AS o\nLEFT JOIN customers c ON o.k = c.k")
    rest, aggregation = texts(split(text))
    assert aggregation == "\n  " + AGGREGATION.replace("GROUP BY", "-- keys:\n  GROUP BY") + "\n"
    assert rest == ("SELECT o.k, o.s, c.name -- the name\nFROM  " + NAME + "  AS o\n"
                    "LEFT JOIN customers c ON o.k = c.k")
    # Tight text: spaces around the name keep the words apart.
    rest, aggregation = texts(split(f"SELECT * FROM({AGGREGATION})o WHERE n>1"))
    assert rest == f"SELECT * FROM {NAME} o WHERE n>1" and aggregation == AGGREGATION


def test_the_aggregation_is_a_relation_of_the_split_plan() -> None:
    below = aggregate_below(sql(f"SELECT * FROM ({AGGREGATION}) o WHERE s > 1"))
    assert below is not None
    assert below.relation.sql.query == AGGREGATION
    assert below.query.common.plan_id == 5  # the flow's plan id, on the query as it runs
    assert aggregation_outputs(below.query) == [("k", True), ("s", False), ("n", False)]


@pytest.mark.parametrize(("text", "reason"), [
    (f"SELECT count(*) AS groups FROM ({AGGREGATION}) o", "aggregates 2 times"),
    (f"SELECT * FROM ({AGGREGATION}) a JOIN ({AGGREGATION}) b USING (k)", "aggregates 2 times"),
    (f"SELECT DISTINCT o.k FROM ({AGGREGATION}) o", "aggregates 2 times"),
    ("SELECT * FROM c WHERE k IN (SELECT k FROM bronze GROUP BY k)", "not a subquery in the FROM"),
    (f"SELECT * FROM (SELECT * FROM ({AGGREGATION}) i) o", "not a subquery in the FROM"),
    (f"SELECT * FROM ({AGGREGATION}) o UNION ALL SELECT k, 1, 2 FROM c",
     "not a subquery in the FROM"),
    (f"WITH c AS (SELECT 1 AS k) SELECT * FROM ({AGGREGATION}) o JOIN c USING (k)",
     "WITH clause"),
    (f"SELECT * FROM ({AGGREGATION}) o (a, b, c)", "renames its columns"),
    (f"SELECT * FROM (({AGGREGATION})) o", "not a subquery in the FROM"),
    (f"SELECT * FROM ({AGGREGATION}) o TABLESAMPLE (10 PERCENT)", "has SAMPLE"),
    (f"SELECT * FROM ({AGGREGATION}) o JOIN {NAME} x USING (k)", "could not be cut"),
    # the rest would read the star's columns from the relation in the aggregation's place
    (f"SELECT o.* FROM ({AGGREGATION}) o NATURAL LEFT JOIN c",
     "qualified star over a USING or NATURAL join"),
])
def test_other_aggregations_below_the_top_say_why(text: str, reason: str) -> None:
    found = split_sql(sql(text))
    assert isinstance(found, Issue) and found.issue_type == "AGGREGATE_NOT_TOP_NODE"
    assert reason in found.explanation, found.explanation


@pytest.mark.parametrize("text", [
    AGGREGATION,  # the top itself: `sql_aggregate_form.py`
    "SELECT o.k FROM c o LEFT JOIN d USING (k)",  # no aggregation
    "SELECT count(*) OVER (PARTITION BY k) AS n FROM (SELECT k FROM bronze) o",  # a window
    "SELECT * FROM (SELECT k FROM bronze WHERE",  # not SQL sqlglot reads
])
def test_text_without_an_aggregation_below_its_top_is_left_whole(text: str) -> None:
    assert split_sql(sql(text)) is None


def test_query_parameters_leave_the_text_whole() -> None:
    relation = sql(f"SELECT * FROM ({AGGREGATION}) o WHERE s > :least")
    relation.sql.args["least"].integer = 1
    assert split_sql(relation) is None


@pytest.mark.parametrize("rest", [
    "SELECT o.k, o.s, o.n, c.name FROM {a} o LEFT JOIN c ON o.k = c.k",
    "SELECT k, s, n, c.name FROM {a} LEFT OUTER JOIN c USING (k)",
    "SELECT o.*, upper(c.name) AS shout, o.s AS s_again FROM {a} AS o LEFT JOIN c ON o.k = c.k",
    "SELECT * FROM {a} o LEFT JOIN (SELECT k, name FROM c WHERE name > 'a') c ON o.k = c.k",
])
def test_a_left_join_that_carries_the_aggregation_keeps_it_in_the_view(rest: str) -> None:
    assert keeps_aggregate_sql(split(rest.format(a=f"({AGGREGATION})")))


@pytest.mark.parametrize("rest", [
    "SELECT o.k, o.s + 1 AS s, o.n FROM {a} o LEFT JOIN c ON o.k = c.k",  # s changed
    "SELECT o.k, c.s, o.n FROM {a} o LEFT JOIN c ON o.k = c.k",  # another side's s
    "SELECT o.k, o.n AS s, o.s AS n FROM {a} o LEFT JOIN c ON o.k = c.k",  # swapped
    "SELECT o.* FROM {a} o JOIN c ON o.k = c.k",  # inner: drops rows
    "SELECT o.* FROM c RIGHT JOIN {a} o ON o.k = c.k",  # the aggregation not the left side
    "SELECT o.* FROM {a} o LEFT ANTI JOIN c ON o.k = c.k",
    "SELECT o.k, o.s, o.n FROM {a} o NATURAL LEFT JOIN c",
    "SELECT o.* FROM {a} o LEFT JOIN c ON o.k = c.k WHERE c.name IS NULL",
    "SELECT o.* FROM {a} o LEFT JOIN c ON o.k = c.k LEFT JOIN d ON o.k = d.k",
    "SELECT o.* FROM {a} o",  # no join: a backing table
    "SELECT o.*, explode(c.tags) AS tag FROM {a} o LEFT JOIN c ON o.k = c.k",
    "SELECT o.*, row_number() OVER (ORDER BY o.k) AS r FROM {a} o LEFT JOIN c ON o.k = c.k",
    "SELECT o.* FROM {a} o LEFT JOIN c ON o.k = c.k LIMIT 3",
    "SELECT o.* FROM {a} o LEFT JOIN c TABLESAMPLE (5 ROWS) ON o.k = c.k",
])
def test_a_rest_that_drops_repeats_or_changes_rows_uses_a_backing_table(rest: str) -> None:
    assert not keeps_aggregate_sql(split(rest.format(a=f"({AGGREGATION})")))


def test_an_aggregate_the_engine_names_is_not_kept_in_the_view() -> None:
    unnamed = AGGREGATION.replace("count(*) AS n", "count(*)")
    assert not keeps_aggregate_sql(split(f"SELECT * FROM ({unnamed}) o LEFT JOIN c USING (k)"))
