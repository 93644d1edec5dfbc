"""Stateful operators in streaming SQL: only operators over streaming rows count (no engine)."""

from __future__ import annotations

import pytest
from pyspark.sql.connect import proto

from lakesmith.engine.stateful import stateful_operators


def refused(sql: str, streams: frozenset[str] = frozenset()) -> list[str]:
    """The unsupported operators of a SQL flow; `STREAM(x)` reads a stream, and so does every
    table named in `streams` (a temporary view over a stream)."""
    relation = proto.Relation()
    relation.sql.query = sql
    operators = stateful_operators(
        relation, lambda read: read.streaming or (read.name or "").lower() in streams)
    return [op.description for op in operators if not op.supported]


@pytest.mark.parametrize("sql", [
    # The aggregation runs over a batch table, recomputed with each micro-batch.
    "SELECT * FROM STREAM(bronze) WHERE id IN (SELECT id FROM dim GROUP BY id)",
    "SELECT b.*, d.n FROM STREAM(bronze) b "
    "JOIN (SELECT id, count(*) AS n FROM dim GROUP BY id) d ON b.id = d.id",
    "WITH totals AS (SELECT id, sum(amount) AS total FROM dim GROUP BY id) "
    "SELECT b.id, t.total FROM STREAM(bronze) b JOIN totals t ON b.id = t.id",
    "SELECT *, (SELECT max(id) FROM dim) AS top FROM STREAM(bronze)",
    "SELECT * FROM STREAM(bronze) WHERE id > (SELECT avg(id) FROM dim)",
    "SELECT b.* FROM STREAM(bronze) b JOIN "
    "(SELECT DISTINCT id FROM dim ORDER BY id LIMIT 10) d ON b.id = d.id",
    "SELECT b.* FROM STREAM(bronze) b JOIN "
    "(SELECT id, row_number() OVER (PARTITION BY kind ORDER BY id) AS r FROM dim) d "
    "ON b.id = d.id AND d.r = 1",
    # Two streams side by side are not joined.
    "SELECT id FROM STREAM(a) UNION ALL SELECT id FROM STREAM(b)",
    "SELECT * FROM STREAM(bronze) LATERAL VIEW explode(array(1, 2)) x AS n",
])
def test_batch_only_operators_are_not_stateful(sql: str) -> None:
    assert refused(sql) == []


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT kind, count(*) AS n FROM STREAM(bronze) GROUP BY kind",
     ["aggregation (GROUP BY) in SQL"]),
    ("SELECT count(*) AS n FROM STREAM(bronze)", ["aggregation in SQL"]),
    ("SELECT DISTINCT kind FROM STREAM(bronze)", ["SELECT DISTINCT in SQL"]),
    ("SELECT * FROM STREAM(bronze) ORDER BY id LIMIT 5",
     ["sorting (ORDER BY) in SQL", "limit in SQL"]),
    ("SELECT id, row_number() OVER (PARTITION BY kind ORDER BY id) AS r FROM STREAM(bronze)",
     ["window function (OVER) in SQL"]),
    # Through a derived table, a CTE and a temporary view over a stream.
    ("SELECT kind, count(*) FROM (SELECT * FROM STREAM(bronze) WHERE id > 0) GROUP BY kind",
     ["aggregation (GROUP BY) in SQL"]),
    ("WITH recent AS (SELECT * FROM STREAM(bronze)) SELECT kind, count(*) FROM recent GROUP BY kind",
     ["aggregation (GROUP BY) in SQL"]),
    ("SELECT kind, count(*) FROM events_view GROUP BY kind", ["aggregation (GROUP BY) in SQL"]),
    # The stream is aggregated inside a subquery of a batch query.
    ("SELECT * FROM dim WHERE id IN (SELECT max(id) FROM STREAM(bronze))", ["aggregation in SQL"]),
    ("SELECT * FROM STREAM(a) x JOIN STREAM(b) y ON x.id = y.id", ["stream-stream join in SQL"]),
    ("SELECT * FROM STREAM(a) x JOIN (SELECT * FROM events_view) y ON x.id = y.id",
     ["stream-stream join in SQL"]),
    ("SELECT id FROM STREAM(a) UNION ALL SELECT id FROM dim ORDER BY id",
     ["sorting (ORDER BY) in SQL"]),
    ("SELECT id FROM STREAM(a) UNION SELECT id FROM dim", ["UNION without ALL (deduplication) in SQL"]),
    ("SELECT id FROM STREAM(a) EXCEPT SELECT id FROM dim", ["EXCEPT in SQL"]),
])
def test_operators_over_a_stream_are_stateful(sql: str, expected: list[str]) -> None:
    assert refused(sql, streams=frozenset({"events_view"})) == expected


def test_batch_query_has_no_stateful_operators() -> None:
    assert refused("SELECT kind, count(*) FROM dim GROUP BY kind ORDER BY kind") == []


def test_query_sqlglot_cannot_scope_is_judged_as_a_whole() -> None:
    # Two sources aliased `x`: no scopes, so every operator in the query counts.
    sql = ("SELECT kind, count(*) FROM STREAM(a) x JOIN (SELECT DISTINCT id FROM dim) x "
           "ON x.id = x.id GROUP BY kind")
    assert refused(sql) == ["aggregation (GROUP BY) in SQL", "SELECT DISTINCT in SQL"]


def test_recursive_cte_joined_to_a_stream_is_not_stateful() -> None:
    sql = ("WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
           "SELECT * FROM STREAM(a) JOIN r ON a.id = r.n")
    assert refused(sql) == []
