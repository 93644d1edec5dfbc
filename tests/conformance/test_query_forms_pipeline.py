"""Query forms the engine cannot parse or resolve (QUALIFY, `* EXCEPT`, lateral column aliases,
PIVOT) and batch `spark.read.csv/json`, in real pipelines: the tables get Apache Spark 4.3's
rows, and what Spark refuses is refused at analysis (dry-run) with the flow and file line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

EVENTS = """
    CREATE MATERIALIZED VIEW events AS SELECT * FROM VALUES
      (1, 'a', DATE'2024-01-01', 10, 'x'),
      (1, 'b', DATE'2024-01-03', 20, 'y'),
      (2, 'c', DATE'2024-01-02', 5, 'x'),
      (2, 'd', DATE'2024-01-02', 7, 'y'),
      (3, 'e', DATE'2024-01-05', 1, 'x')
    AS t(id, status, day, qty, channel);
"""


def test_sql_pipeline_with_qualify_star_except_lateral_aliases_and_pivot(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", EVENTS + """
        -- the latest event per id (ties broken by qty), without the channel column
        CREATE MATERIALIZED VIEW latest AS
        SELECT * EXCEPT (channel)
        FROM events
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY day DESC, qty DESC) = 1;

        CREATE MATERIALIZED VIEW totals AS
        SELECT id, sum(qty) AS total, total * 2 AS doubled, doubled + 1 AS plus_one
        FROM events GROUP BY id;

        CREATE MATERIALIZED VIEW by_channel AS
        SELECT * FROM (SELECT id, channel, qty FROM events)
        PIVOT (sum(qty) FOR channel IN ('x' AS x, 'y' AS y));
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    assert project.rows("latest", order_by="id") == [
        {"id": 1, "status": "b", "day": dt.date(2024, 1, 3), "qty": 20},
        {"id": 2, "status": "d", "day": dt.date(2024, 1, 2), "qty": 7},
        {"id": 3, "status": "e", "day": dt.date(2024, 1, 5), "qty": 1},
    ]
    assert project.rows("totals", order_by="id") == [
        {"id": 1, "total": 30, "doubled": 60, "plus_one": 61},
        {"id": 2, "total": 12, "doubled": 24, "plus_one": 25},
        {"id": 3, "total": 1, "doubled": 2, "plus_one": 3},
    ]
    assert project.rows("by_channel", order_by="id") == [
        {"id": 1, "x": 10, "y": 20}, {"id": 2, "x": 5, "y": 7}, {"id": 3, "x": 1, "y": None},
    ]


def test_python_pipeline_reads_csv_and_json_as_spark_does(project) -> None:
    project.write_spec()
    project.write("data/orders.csv", '''\
        id,customer,amount,note
        1,ann,1.005,"plain"
        2,bob,2.675,"say ""hi"""
        3,cy,3,
    ''')
    project.write("data/events/day=2024-01-01/a.json", '{"id":1,"kind":"click","extra":null}\n')
    project.write("data/events/day=2024-01-02/b.json", '{"id":2,"kind":"view","score":1.5}\n')
    project.write("transformations/a.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def orders():
            df = spark.read.option("header", True).option("inferSchema", True).csv("data/orders.csv")
            # the columns a query function sees while the graph is built are Spark's too
            assert df.dtypes[:3] == [("id", "int"), ("customer", "string"),
                                     ("amount", "double")], df.dtypes
            return df

        @dp.materialized_view
        def typed_orders():
            return (spark.read.schema("id INT, customer STRING, amount DECIMAL(10,2), note STRING")
                    .option("header", True).csv("data/orders.csv"))

        @dp.materialized_view
        def events():
            return spark.read.json("data/events")
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    with project.open() as pipeline:
        schemas = {name: [(f.name, f.dataType.simpleString()) for f in
                          pipeline.spark.read.format("delta").load(
                              str(project.table_path(name))).schema.fields]
                   for name in ("orders", "events")}
    assert schemas["orders"] == [("id", "int"), ("customer", "string"), ("amount", "double"),
                                 ("note", "string")]
    # Spark sorts inferred JSON fields, types an all-NULL field STRING and infers the type of
    # a key=value folder's partition column
    assert schemas["events"] == [("extra", "string"), ("id", "bigint"), ("kind", "string"),
                                 ("score", "double"), ("day", "date")]
    # Spark's default CSV escape is a backslash: a doubled quote stays as written
    assert project.rows("orders", order_by="id") == [
        {"id": 1, "customer": "ann", "amount": 1.005, "note": "plain"},
        {"id": 2, "customer": "bob", "amount": 2.675, "note": '"say ""hi"""'},
        {"id": 3, "customer": "cy", "amount": 3.0, "note": None},
    ]
    # DECIMAL values are rounded HALF_UP, as Spark's CSV reader does
    assert [r["amount"] for r in project.rows("typed_orders", order_by="id")] == [
        Decimal("1.01"), Decimal("2.68"), Decimal("3.00")]
    assert project.rows("events", order_by="id") == [
        {"extra": None, "id": 1, "kind": "click", "score": None, "day": dt.date(2024, 1, 1)},
        {"extra": None, "id": 2, "kind": "view", "score": 1.5, "day": dt.date(2024, 1, 2)},
    ]


def test_python_pipeline_with_select_expr_aliases_and_spark_sql_qualify(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", EVENTS)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def priced():
            return (spark.read.table("events")
                    .selectExpr("* EXCEPT (status, day)", "qty * 2 AS doubled",
                                "doubled + 1 AS plus_one"))

        @dp.materialized_view
        def first_per_channel():
            return spark.sql(
                "SELECT channel, id, row_number() OVER (PARTITION BY channel ORDER BY qty) AS rn "
                "FROM events QUALIFY rn = 1")
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    assert project.rows("priced", order_by="qty") == [
        {"id": 3, "qty": 1, "channel": "x", "doubled": 2, "plus_one": 3},
        {"id": 2, "qty": 5, "channel": "x", "doubled": 10, "plus_one": 11},
        {"id": 2, "qty": 7, "channel": "y", "doubled": 14, "plus_one": 15},
        {"id": 1, "qty": 10, "channel": "x", "doubled": 20, "plus_one": 21},
        {"id": 1, "qty": 20, "channel": "y", "doubled": 40, "plus_one": 41},
    ]
    assert project.rows("first_per_channel", order_by="channel") == [
        {"channel": "x", "id": 3, "rn": 1}, {"channel": "y", "id": 2, "rn": 1}]


def test_lateral_alias_inside_an_aggregate_is_refused_at_analysis_as_spark_does(project) -> None:
    message = _refusal_of(project, "SELECT qty * 2 AS doubled, sum(doubled) AS total FROM events")
    assert "LATERAL_COLUMN_ALIAS_IN_AGGREGATE_FUNC" in message and "sum(doubled)" in message


def test_star_except_of_a_missing_column_is_refused_at_analysis(project) -> None:
    message = _refusal_of(project, "SELECT * EXCEPT (chanel) FROM events")
    assert "EXCEPT_UNRESOLVED_COLUMN" in message and "'chanel'" in message


def _refusal_of(project, query: str) -> str:
    """The dry-run error of a materialized view 'bad' defined by `query` (over EVENTS), which
    must name the flow and the file line."""
    project.write_spec()
    project.write("transformations/a.sql", EVENTS + f"""
        CREATE MATERIALIZED VIEW bad AS
        {query};
    """)
    with pytest.raises(GraphValidationError) as info:
        with project.open() as pipeline:
            pipeline.analyze()
    message = str(info.value)
    assert "flow 'bad'" in message and "a.sql:" in message
    return message


def test_lakesmith_sql_runs_qualify_and_star_except(project) -> None:
    import json
    import os
    import subprocess
    import sys

    project.write_spec()
    project.write("transformations/a.sql", EVENTS)
    assert project.run().state == UpdateState.COMPLETED
    result = subprocess.run(
        [sys.executable, "-m", "lakesmith", "sql", "--format", "json",
         "SELECT * EXCEPT (day, channel) FROM events "
         "QUALIFY row_number() OVER (PARTITION BY id ORDER BY qty DESC) = 1 ORDER BY id"],
        cwd=project.root, text=True, capture_output=True, env=dict(os.environ), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == [
        {"id": 1, "status": "b", "qty": 20}, {"id": 2, "status": "d", "qty": 7},
        {"id": 3, "status": "e", "qty": 1}]
