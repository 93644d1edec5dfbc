"""SQL sources end to end, and the project `spark-pipelines init` creates, unchanged."""

from __future__ import annotations

import pytest
from deltalake import DeltaTable

from lakesmith.errors import SqlDefinitionError
from lakesmith.runtime.events import UpdateState


def test_spark_pipelines_init_project_runs_unchanged(tmp_path, sail_url, monkeypatch) -> None:
    from pyspark.pipelines.init_cli import init

    monkeypatch.chdir(tmp_path)
    init("sdp_project")  # Spark's own `spark-pipelines init --name sdp_project`
    root = tmp_path / "sdp_project"
    from lakesmith.pipeline import open_pipeline

    with open_pipeline(root / "spark-pipeline.yml", remote=sail_url) as pipeline:
        result = pipeline.run(pipeline.plan())
    assert result.state == UpdateState.COMPLETED
    warehouse = root / "warehouse" / "spark_catalog" / "default"
    python_mv = DeltaTable(str(warehouse / "example_python_materialized_view"))
    sql_mv = DeltaTable(str(warehouse / "example_sql_materialized_view"))
    assert sorted(python_mv.to_pyarrow_table().column("id").to_pylist()) == list(range(10))
    assert sorted(sql_mv.to_pyarrow_table().column("id").to_pylist()) == [0, 2, 4, 6, 8]


def test_sql_definitions_with_clauses_views_and_substitution(project) -> None:
    project.write_spec(configuration={"min_amount": "20"})
    project.write("transformations/raw.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def raw_orders():
            return spark.range(6).selectExpr(
                "id AS order_id", "CASE WHEN id % 2 = 0 THEN 'eu' ELSE 'us' END AS region",
                "id * 10 AS amount")
    """)
    project.write("transformations/model.sql", """
        -- several statements, a comment with a ; in it
        CREATE TEMPORARY VIEW big_orders AS
          SELECT * FROM raw_orders WHERE amount >= ${min_amount};

        CREATE OR REFRESH MATERIALIZED VIEW orders_by_region (
          region STRING COMMENT 'sales region',
          total BIGINT,
          orders INT
        )
        COMMENT 'Totals per region'
        TBLPROPERTIES ('quality' = 'gold')
        PARTITIONED BY (region)
        AS SELECT region, sum(amount) AS total, CAST(count(*) AS INT) AS orders
           FROM LIVE.big_orders GROUP BY region;

        CREATE MATERIALIZED VIEW renamed (r, n) AS SELECT region, orders FROM orders_by_region
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]
    # amounts 20..50: eu has 20, 40 -> 60 (2 orders); us has 30, 50 -> 80 (2 orders)
    assert project.rows("orders_by_region", order_by="region") == [
        {"region": "eu", "total": 60, "orders": 2}, {"region": "us", "total": 80, "orders": 2}]
    assert project.rows("renamed", order_by="r") == [{"r": "eu", "n": 2}, {"r": "us", "n": 2}]
    table = DeltaTable(str(project.table_path("orders_by_region")))
    assert table.metadata().description == "Totals per region"
    assert table.metadata().configuration["quality"] == "gold"
    assert table.metadata().partition_columns == ["region"]
    assert {f.name: f.type.type for f in table.schema().fields} == {
        "region": "string", "total": "long", "orders": "integer"}
    assert {f.name: f.metadata.get("comment") for f in table.schema().fields} == {
        "region": "sales region", "total": None, "orders": None}


def test_sql_syntax_errors_name_file_and_line(project) -> None:
    project.write_spec()
    project.write("transformations/bad.sql", """
        CREATE MATERIALIZED VIEW ok AS SELECT 1 AS one;

        CREATE MATERIALIZED VIEW broken (a INT)
        SELEC 1
    """)
    with pytest.raises(SqlDefinitionError) as info:
        with project.open():
            pass
    assert "transformations/bad.sql:4" in str(info.value)
    assert "SELEC" in str(info.value)


def test_sql_unknown_table_is_reported_against_the_statement(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", """
        CREATE MATERIALIZED VIEW a AS SELECT 1 AS x;

        CREATE MATERIALIZED VIEW b AS
        SELECT * FROM a JOIN nowhere USING (x)
    """)
    from lakesmith.errors import GraphValidationError

    with pytest.raises(GraphValidationError) as info:
        with project.open():
            pass
    assert "flow 'b' reads 'nowhere'" in str(info.value)
    assert "a.sql:3" in str(info.value)
