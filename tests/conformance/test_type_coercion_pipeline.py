"""Spark's types and numbers in real pipelines: CASE / if / when branches and UNION sides get
their common type, wide DECIMAL arithmetic is exact and checked, doubles are written as text
the Java way and `bround` rounds HALF_EVEN — in SQL and Python flows, in the Delta tables they
write; a CASE whose branch types cannot be found is refused at dry-run with the flow and file
line; a value Spark refuses fails the flow and commits nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from deltalake import DeltaTable

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

SOURCE = """
    CREATE MATERIALIZED VIEW src AS SELECT * FROM VALUES
      (1, 1.015D, CAST(1.25 AS DECIMAL(10,2)), 'a'),
      (2, 12345678.9D, CAST(2.35 AS DECIMAL(10,2)), 'b'),
      (3, 0.00001D, CAST(-1.25 AS DECIMAL(10,2)), 'c')
    AS t(id, d, m, s);
"""


def _types(project, table: str) -> dict[str, str]:
    schema = DeltaTable(str(project.table_path(table))).schema()
    return {f.name: str(f.type) for f in schema.fields}


def test_sql_pipeline_gets_sparks_types_and_numbers(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW answers AS
        SELECT id,
               CASE WHEN id = 1 THEN 1 WHEN id = 2 THEN 2.5 END AS branch,
               if(id = 1, m, 0) AS chosen,
               CAST(m AS DECIMAL(38,18)) * CAST(2 AS DECIMAL(38,18)) AS wide,
               CAST(d AS STRING) AS text,
               concat('d=', d) AS labelled,
               bround(m, 1) AS banker,
               bround(d, 2) AS banker_double
        FROM src;

        CREATE MATERIALIZED VIEW unioned AS
        WITH both AS (SELECT id AS v FROM src UNION ALL SELECT d FROM src WHERE id = 1)
        SELECT v FROM both;
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("answers", order_by="id") == [
        {"id": 1, "branch": Decimal("1.0"), "chosen": Decimal("1.25"),
         "wide": Decimal("2.500000"), "text": "1.015", "labelled": "d=1.015", "banker": Decimal("1.2"),
         "banker_double": 1.02},
        {"id": 2, "branch": Decimal("2.5"), "chosen": Decimal("0.00"),
         "wide": Decimal("4.700000"), "text": "1.23456789E7", "labelled": "d=1.23456789E7",
         "banker": Decimal("2.4"),
         "banker_double": 12345678.9},
        {"id": 3, "branch": None, "chosen": Decimal("0.00"), "wide": Decimal("-2.500000"),
         "text": "1.0E-5", "labelled": "d=1.0E-5", "banker": Decimal("-1.2"), "banker_double": 0.0},
    ]
    types = _types(project, "answers")
    assert (types["branch"], types["chosen"], types["wide"], types["banker"]) == (
        "PrimitiveType(\"decimal(11,1)\")", "PrimitiveType(\"decimal(12,2)\")",
        "PrimitiveType(\"decimal(38,6)\")", "PrimitiveType(\"decimal(10,1)\")")
    assert sorted(r["v"] for r in project.rows("unioned")) == [1.0, 1.015, 2.0, 3.0]
    assert _types(project, "unioned") == {"v": "PrimitiveType(\"double\")"}


def test_python_pipeline_gets_sparks_types(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def answers():
            src = spark.read.table("src")
            return src.select(
                "id",
                F.when(F.col("id") == 1, 1).otherwise(2.5).alias("branch"),
                (F.col("d") * 1e7).cast("string").alias("text"),
                F.bround("m", 1).alias("banker"))

        @dp.materialized_view
        def unioned():
            src = spark.read.table("src")
            return src.select("id", "m").unionByName(src.select(F.col("d").alias("m"), "id"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("answers", order_by="id") == [
        {"id": 1, "branch": 1.0, "text": "1.0149999999999998E7", "banker": Decimal("1.2")},
        {"id": 2, "branch": 2.5, "text": "1.23456789E14", "banker": Decimal("2.4")},
        {"id": 3, "branch": 2.5, "text": "100.00000000000001", "banker": Decimal("-1.2")},
    ]
    assert _types(project, "unioned") == {"id": "PrimitiveType(\"integer\")",
                                          "m": "PrimitiveType(\"double\")"}
    assert sorted(r["m"] for r in project.rows("unioned")) == [
        -1.25, 1e-05, 1.015, 1.25, 2.35, 12345678.9]


def test_case_of_unknown_branch_types_is_refused_at_dry_run_with_file_and_line(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW lateral AS
        SELECT aggregate(array(id), 0D, (acc, x) -> CASE WHEN x = 1 THEN acc ELSE 0.5D END) AS v
        FROM src;
    """)
    with pytest.raises(GraphValidationError) as info:
        with project.open() as pipeline:
            pipeline.analyze()
    message = str(info.value)
    assert "flow 'lateral'" in message and "a.sql:" in message, message
    assert "CASE WHEN x = 1 THEN acc ELSE 0.5D END" in message
    assert "could not find the types of the values of this CASE" in message


def test_values_spark_refuses_fail_the_flow_and_commit_nothing(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW labels AS
        SELECT id, CASE WHEN id = 3 THEN s ELSE id END AS v FROM src;

        CREATE MATERIALIZED VIEW too_wide AS
        SELECT CAST(99999999999999999999999999999999999999 AS DECIMAL(38,0)) + id AS v FROM src;
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    errors = {f.planned.flow.name: str(f.error) for f in result.failed_flows}
    # Spark casts 'c' to BIGINT (the common type of STRING and INT) and fails
    assert "'c'" in errors["labels"] and "Int64" in errors["labels"], errors
    assert "too large" in errors["too_wide"] or "overflow" in errors["too_wide"].lower(), errors
    assert not project.table_path("labels").exists()
    assert not project.table_path("too_wide").exists()


def test_case_of_literals_in_sql_sqlglot_cannot_parse_gets_sparks_type(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", """
        CREATE MATERIALIZED VIEW sales AS SELECT * FROM VALUES
          (' east', 1), ('east ', NULL), ('west', 3) AS t(region, qty);

        CREATE MATERIALIZED VIEW cube AS
        SELECT upper(trim(region)) AS r, qty IS NULL AS missing,
               CASE WHEN count(*) > 1 THEN 1 ELSE 0.5 END AS weight
        FROM sales GROUP BY CUBE(upper(trim(region)), qty IS NULL);
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert _types(project, "cube")["weight"] == "PrimitiveType(\"decimal(11,1)\")"
    weights = sorted(r["weight"] for r in project.rows("cube"))
    assert weights == [Decimal("0.5")] * 5 + [Decimal("1.0")] * 3


def test_gold_grouped_by_date_trunc_of_a_date_is_a_timestamp_column(project) -> None:
    """`date_trunc('MONTH', order_date)` of a DATE: Spark writes a TIMESTAMP column (the engine
    alone a TIMESTAMP_NTZ); the same for a Python flow, and `concat_ws` of a DOUBLE is written
    the Java way."""
    project.write_spec()
    project.write("transformations/a.sql", """
        CREATE MATERIALIZED VIEW orders AS SELECT * FROM VALUES
          (DATE'2024-03-15', 10.0D), (DATE'2024-03-20', 5.0D), (DATE'2024-04-02', 1e20D)
        AS t(order_date, amount);

        CREATE MATERIALIZED VIEW monthly AS
        SELECT date_trunc('MONTH', order_date) AS month, count(*) AS n,
               concat_ws('/', 'max', max(amount)) AS top
        FROM orders GROUP BY date_trunc('MONTH', order_date);
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def monthly_py():
            return spark.read.table("orders").select(
                F.date_trunc("month", "order_date").alias("month")).distinct()
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert _types(project, "monthly")["month"] == "PrimitiveType(\"timestamp\")"
    assert _types(project, "monthly_py") == {"month": "PrimitiveType(\"timestamp\")"}
    rows = project.rows("monthly", order_by="month")
    assert [(r["month"].strftime("%Y-%m-%d %H:%M"), r["n"], r["top"]) for r in rows] == [
        ("2024-03-01 00:00", 2, "max/10.0"), ("2024-04-01 00:00", 1, "max/1.0E20")]
