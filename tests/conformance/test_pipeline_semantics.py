"""Spark's answers in real pipelines: the rewrites apply to pipeline SQL, to `spark.sql(...)`
and to DataFrame functions in Python flows, through views, and a construct lakesmith cannot
rewrite is refused at analysis (dry-run) with the flow, the file line and the reason."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

SOURCE = """
    CREATE MATERIALIZED VIEW src AS SELECT * FROM VALUES
      (1, 1.005D, CAST(0.01 AS DECIMAL(5,2)), DATE'2024-01-07', 2147483000),
      (2, 0.285D, CAST(0.01 AS DECIMAL(5,2)), DATE'2024-01-08', 10),
      (3, 2.675D, CAST(0.03 AS DECIMAL(5,2)), DATE'2024-01-09', 20)
    AS t(id, d, m, day, big);
"""


def test_sql_pipeline_gets_sparks_answers(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW answers AS
        SELECT id, 'it''s' AS quoted, round(d, 2) AS rounded, weekday(day) AS wd,
               try_to_date('2024-01-05', 'yyyy-MM-dd') AS parsed, to_timestamp(1700000000) AS ts,
               m / 3 AS third
        FROM src;

        CREATE MATERIALIZED VIEW averages AS
        SELECT avg(m) AS mean, percentile_approx(id, 0.5) AS median, round(d, 2) FROM src
        GROUP BY round(d, 2);
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    assert project.rows("answers", order_by="id") == [
        {"id": 1, "quoted": "it's", "rounded": 1.01, "wd": 6, "parsed": dt.date(2024, 1, 5),
         "ts": dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc),
         "third": Decimal("0.003333")},
        {"id": 2, "quoted": "it's", "rounded": 0.29, "wd": 0, "parsed": dt.date(2024, 1, 5),
         "ts": dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc),
         "third": Decimal("0.003333")},
        {"id": 3, "quoted": "it's", "rounded": 2.68, "wd": 1, "parsed": dt.date(2024, 1, 5),
         "ts": dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc),
         "third": Decimal("0.010000")},
    ]
    assert project.rows("averages", order_by="median") == [
        {"mean": Decimal("0.010000"), "median": 1, "round(d, 2)": 1.01},
        {"mean": Decimal("0.010000"), "median": 2, "round(d, 2)": 0.29},
        {"mean": Decimal("0.030000"), "median": 3, "round(d, 2)": 2.68},
    ]


def test_python_pipeline_gets_sparks_answers_through_a_view(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.temporary_view
        def rounded():
            return spark.read.table("src").select("id", F.round("d", 2).alias("r"), "m", "day")

        @dp.materialized_view
        def answers():
            return (spark.read.table("rounded")
                    .select("id", "r", F.weekday("day").alias("wd"),
                            F.expr("'it''s'").alias("quoted")))

        @dp.materialized_view
        def mean():
            return spark.read.table("src").agg(F.avg("m").alias("mean"))

        @dp.materialized_view
        def totals():  # rewritten aggregates keep the names Spark gives them
            return spark.read.table("src").groupBy("m").agg(F.sum("id"), F.round(F.avg("d"), 1))

        @dp.materialized_view
        def from_sql():
            return spark.sql("SELECT id, round(d, 2) AS r FROM src WHERE id = 2")
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    assert project.rows("answers", order_by="id") == [
        {"id": 1, "r": 1.01, "wd": 6, "quoted": "it's"},
        {"id": 2, "r": 0.29, "wd": 0, "quoted": "it's"},
        {"id": 3, "r": 2.68, "wd": 1, "quoted": "it's"},
    ]
    assert project.rows("mean") == [{"mean": Decimal("0.016667")}]
    assert project.rows("totals", order_by="m") == [
        {"m": Decimal("0.01"), "sum(id)": 3, "round(avg(d), 1)": 0.6},
        {"m": Decimal("0.03"), "sum(id)": 3, "round(avg(d), 1)": 2.7},
    ]
    assert project.rows("from_sql") == [{"id": 2, "r": 0.29}]


def test_integer_overflow_fails_the_flow_instead_of_wrapping(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW overflow AS SELECT id, big + 1000 AS v FROM src;
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    failed = [r for r in result.flows if r.planned.flow.name == "overflow"][0]
    assert "ARITHMETIC_OVERFLOW" in str(failed.error)
    assert not project.table_path("overflow").exists()  # nothing wrapped around was written


def test_round_of_an_unknown_type_is_refused_at_analysis_with_file_and_line(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW lambda AS
        SELECT aggregate(array(d), 0D, (acc, x) -> acc + round(x, 1)) AS r FROM src;
    """)
    with pytest.raises(GraphValidationError) as info:
        with project.open() as pipeline:
            pipeline.analyze()
    message = str(info.value)
    assert "flow 'lambda'" in message and "a.sql:" in message
    assert "round(x, 1)" in message and "could not find the type" in message


def test_sql_sqlglot_cannot_parse_runs_on_the_engines_analysis(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", """
        CREATE MATERIALIZED VIEW sales AS SELECT * FROM VALUES
          (' east', 1), ('east ', NULL), ('west', 3) AS t(region, qty);

        CREATE MATERIALIZED VIEW cube AS
        SELECT upper(trim(region)) AS r, qty IS NULL AS missing, count(*) AS n
        FROM sales GROUP BY CUBE(upper(trim(region)), qty IS NULL);
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    assert [f.planned.flow.name for f in result.flows] == ["sales", "cube"]  # the edge is known
    def key(row: dict) -> tuple[str, str]:
        return str(row["r"]), str(row["missing"])

    assert sorted(project.rows("cube"), key=key) == sorted([
        {"r": "EAST", "missing": False, "n": 1}, {"r": "EAST", "missing": True, "n": 1},
        {"r": "EAST", "missing": None, "n": 2}, {"r": "WEST", "missing": False, "n": 1},
        {"r": "WEST", "missing": None, "n": 1}, {"r": None, "missing": False, "n": 2},
        {"r": None, "missing": True, "n": 1}, {"r": None, "missing": None, "n": 3}], key=key)


def test_lakesmith_sql_gives_sparks_answers(project) -> None:
    import os
    import subprocess
    import sys

    project.write_spec()
    project.write("transformations/a.sql", SOURCE)
    result = subprocess.run(
        [sys.executable, "-m", "lakesmith", "sql",
         "SELECT 'it''s' AS quoted, round(1.005D, 2) AS rounded, weekday(DATE'2024-01-07') AS wd"],
        cwd=project.root, text=True, capture_output=True, env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "it's" in result.stdout and "1.01" in result.stdout and " 6 " in result.stdout
