"""DECIMAL sums beyond 38 digits in real pipelines: a materialized view whose `sum` of
DECIMAL(38, 0) passes 38 digits fails its flow with Spark's ARITHMETIC_OVERFLOW, naming the
flow, and writes nothing (the engine alone would land a 39-digit value in a DECIMAL(38, 0)
column); totals that fit land exact, with avg rounded HALF_UP and try_avg NULL where avg fails,
as Spark does, from SQL and from DataFrame code."""

from __future__ import annotations

from decimal import Decimal

from lakesmith.runtime.events import UpdateState

BIG = "99999999999999999999999999999999999999"
SOURCE = f"""
    CREATE MATERIALIZED VIEW ledger AS SELECT CAST(k AS STRING) AS k, CAST(x AS DECIMAL(38,0)) AS x
    FROM VALUES ('a', 99999999999999999999999999999999999990), ('a', 9), ('b', 1), ('b', 2),
                ('b', 2), ('big', {BIG}), ('big', 1)
    AS t(k, x);
"""


def test_sums_that_fit_land_exact_from_sql_and_python(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW totals AS
        SELECT k, sum(x) AS s FROM ledger WHERE k <> 'big' GROUP BY k;

        CREATE MATERIALIZED VIEW mean AS SELECT avg(x) AS a FROM ledger WHERE k = 'b';
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        @dp.materialized_view
        def running():
            ledger = spark.read.table("ledger").where("k <> 'big'")
            return ledger.select("k", "x", F.sum("x").over(
                Window.partitionBy("k").orderBy("x")).alias("s"))

        @dp.materialized_view
        def grouped():
            return spark.read.table("ledger").where("k <> 'big'").groupBy("k").agg(
                F.sum("x").alias("s"), F.try_avg("x").alias("a"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("totals", order_by="k") == [
        {"k": "a", "s": Decimal("99999999999999999999999999999999999999")},
        {"k": "b", "s": Decimal("5")},
    ]
    assert project.rows("mean") == [{"a": Decimal("1.6667")}]
    # try_avg: a mean of 38 integral digits does not fit DECIMAL(38, 4): NULL, as in Spark
    assert project.rows("grouped", order_by="k") == [
        {"k": "a", "s": Decimal("99999999999999999999999999999999999999"), "a": None},
        {"k": "b", "s": Decimal("5"), "a": Decimal("1.6667")},
    ]
    assert project.rows("running", order_by=["k", "x"]) == [
        {"k": "a", "x": Decimal(9), "s": Decimal(9)},
        {"k": "a", "x": Decimal("99999999999999999999999999999999999990"),
         "s": Decimal("99999999999999999999999999999999999999")},
        {"k": "b", "x": Decimal(1), "s": Decimal(1)},
        {"k": "b", "x": Decimal(2), "s": Decimal(5)},
        {"k": "b", "x": Decimal(2), "s": Decimal(5)},
    ]


def test_a_sum_beyond_38_digits_fails_the_flow_and_writes_nothing(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW totals AS SELECT k, sum(x) AS s FROM ledger GROUP BY k;
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    failed = [r for r in result.flows if r.planned.flow.name == "totals"][0]
    message = str(failed.error)
    assert "ARITHMETIC_OVERFLOW" in message and "Overflow in sum of decimals" in message
    assert "Flow 'totals'" in message and "a.sql:" in message, message
    # no 39-digit total was committed (the engine may have left a part file: no table)
    assert not (project.table_path("totals") / "_delta_log").exists()
    assert len(project.rows("ledger")) == 7

    # the fixed query lands only its own rows
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW totals AS
        SELECT k, sum(x) AS s FROM ledger WHERE k <> 'big' GROUP BY k;
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("totals", order_by="k") == [
        {"k": "a", "s": Decimal("99999999999999999999999999999999999999")},
        {"k": "b", "s": Decimal("5")},
    ]
