"""A DOUBLE compared with a DECIMAL in real pipelines: SQL flows joining and filtering a DOUBLE
column of one table against a DECIMAL column of another, and Python flows doing the same with
`isin(Decimal)`, a join condition and an expression string, land Spark's rows in their Delta
tables (Spark casts the DECIMAL to DOUBLE; the engine alone would decide in DECIMAL(30,15),
joining 0.9000000000000001 with 0.90 and failing on NaN). The operands' types come from the
tables' schemas: the SQL flows' comparisons cost no analysis round trip."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from lakesmith.runtime.events import UpdateState

TABLES = """
    CREATE MATERIALIZED VIEW limits AS
    SELECT CAST(0.9 AS DECIMAL(10,2)) AS lo, CAST(2 AS DECIMAL(10,2)) AS hi;

    CREATE MATERIALIZED VIEW readings AS SELECT * FROM VALUES
      (1, 0.9000000000000001D), (2, 0.9D), (3, 0.8999999999999999D),
      (4, CAST('NaN' AS DOUBLE)), (5, CAST('Infinity' AS DOUBLE)), (6, NULL), (7, 1e300D),
      (8, 1.5D)
    AS t(id, x);
"""


FLOWS = """
    CREATE MATERIALIZED VIEW above AS
    SELECT r.id FROM readings r JOIN limits l ON r.x > l.lo;

    CREATE MATERIALIZED VIEW equal AS
    SELECT r.id, r.x = l.lo AS same FROM readings r, limits l WHERE r.x = l.lo OR r.x <=> l.lo;

    CREATE MATERIALIZED VIEW inside AS
    SELECT id, x BETWEEN lo AND hi AS between_limits, x IN (lo, hi) AS at_a_limit,
           CASE WHEN x < lo THEN 'low' WHEN x > hi THEN 'high' ELSE 'ok' END AS band
    FROM readings CROSS JOIN limits;
"""


@pytest.fixture
def operand_probes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The analysis requests sent while a query's comparison operands are probed together
    (`operand_types`), one entry per request."""
    from pyspark.sql.connect.client.core import SparkConnectClient

    from lakesmith.engine.semantics.operand_types import SqlOperandTyping

    inside = threading.local()
    sent: list[str] = []
    analyze, probe = SparkConnectClient._analyze, SqlOperandTyping.probe

    def counted(self: Any, method: str, **kwargs: Any) -> Any:
        if getattr(inside, "active", False):
            sent.append(method)
        return analyze(self, method, **kwargs)

    def tracked(self: Any, *args: Any) -> Any:
        inside.active = True
        try:
            return probe(self, *args)
        finally:
            inside.active = False

    monkeypatch.setattr(SparkConnectClient, "_analyze", counted)
    monkeypatch.setattr(SqlOperandTyping, "probe", tracked)
    return sent


def test_sql_flows_compare_double_and_decimal_columns_as_spark(
        project: Any, operand_probes: list[str]) -> None:
    project.write_spec()
    project.write("transformations/a.sql", TABLES + FLOWS)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    # NaN is above every value in Spark, Infinity too; 0.9000000000000001 > 0.90 in DOUBLE
    assert [r["id"] for r in project.rows("above", order_by="id")] == [1, 4, 5, 7, 8]
    assert project.rows("equal", order_by="id") == [{"id": 2, "same": True}]
    assert project.rows("inside", order_by="id") == [
        {"id": 1, "between_limits": True, "at_a_limit": False, "band": "ok"},
        {"id": 2, "between_limits": True, "at_a_limit": True, "band": "ok"},
        {"id": 3, "between_limits": False, "at_a_limit": False, "band": "low"},
        {"id": 4, "between_limits": False, "at_a_limit": False, "band": "high"},
        {"id": 5, "between_limits": False, "at_a_limit": False, "band": "high"},
        {"id": 6, "between_limits": None, "at_a_limit": None, "band": "ok"},
        {"id": 7, "between_limits": False, "at_a_limit": False, "band": "high"},
        {"id": 8, "between_limits": True, "at_a_limit": False, "band": "ok"},
    ]
    # the operands are columns of pipeline tables: typed from their Delta logs, no probe
    assert operand_probes == []

    # new readings: the flows recompute with Spark's answers again
    project.write("transformations/a.sql", TABLES.replace(
        "(8, 1.5D)", "(8, 1.5D), (9, 2.0000000000000004D), (10, -0.0D)") + FLOWS)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert [r["id"] for r in project.rows("above", order_by="id")] == [1, 4, 5, 7, 8, 9]


def test_python_flows_compare_double_and_decimal_as_spark(project: Any) -> None:
    project.write_spec()
    project.write("transformations/a.sql", TABLES)
    project.write("transformations/b.py", """
        from decimal import Decimal

        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def listed():
            readings = spark.read.table("readings")
            return readings.filter(F.col("x").isin(Decimal("0.9"), Decimal("2"))).select("id")

        @dp.materialized_view
        def joined():
            readings, limits = spark.read.table("readings"), spark.read.table("limits")
            return readings.join(limits, readings.x > limits.lo).select("id")

        @dp.materialized_view
        def filtered():
            readings, limits = spark.read.table("readings"), spark.read.table("limits")
            return readings.crossJoin(limits).filter("x >= lo AND x NOT IN (hi)") \\
                .selectExpr("id", "x BETWEEN lo AND hi AS inside")
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("listed") == [{"id": 2}]
    assert [r["id"] for r in project.rows("joined", order_by="id")] == [1, 4, 5, 7, 8]
    assert project.rows("filtered", order_by="id") == [
        {"id": 1, "inside": True}, {"id": 2, "inside": True}, {"id": 4, "inside": False},
        {"id": 5, "inside": False}, {"id": 7, "inside": False}, {"id": 8, "inside": True}]
