"""End-to-end runs of materialized views and temporary views, checked row by row in Delta."""

from __future__ import annotations

import json

import pytest
from deltalake import DeltaTable

from lakesmith.runtime.events import FlowStatus, UpdateState


def statuses(result) -> dict[str, FlowStatus]:
    return {r.planned.flow.name: r.status for r in result.flows}


def test_chain_of_materialized_views_with_a_temporary_view(project) -> None:
    project.write_spec()
    project.write("transformations/orders.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def orders():
            return spark.range(0, 10).select(
                F.col("id").alias("order_id"), (F.col("id") % 3).alias("customer_id"),
                (F.col("id") * 10).alias("amount"))

        @dp.temporary_view
        def big_orders():
            return spark.read.table("orders").where("amount >= 50")

        @dp.materialized_view(name="revenue_by_customer")
        def revenue():
            return (spark.read.table("big_orders").groupBy("customer_id")
                    .agg(F.sum("amount").alias("revenue"), F.count("*").alias("orders")))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert statuses(result) == {"orders": FlowStatus.COMPLETED, "big_orders": FlowStatus.COMPLETED,
                                "revenue_by_customer": FlowStatus.COMPLETED}
    assert project.rows("orders", order_by="order_id") == [
        {"order_id": i, "customer_id": i % 3, "amount": i * 10} for i in range(10)]
    # orders 5..9: customer 0 -> 6, 9; 1 -> 7; 2 -> 5, 8
    assert project.rows("revenue_by_customer", order_by="customer_id") == [
        {"customer_id": 0, "revenue": 150, "orders": 2},
        {"customer_id": 1, "revenue": 70, "orders": 1},
        {"customer_id": 2, "revenue": 130, "orders": 2},
    ]
    assert not project.table_path("big_orders").exists()  # views are not stored
    metrics = {r.planned.flow.name: r.metrics.num_output_rows for r in result.flows}
    assert metrics["orders"] == 10 and metrics["revenue_by_customer"] == 3


def test_rerun_recomputes_in_one_commit_per_view_with_a_marker(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def numbers():
            return spark.range(int(spark.conf.get("numbers.count")))
    """)
    project.write_spec(configuration={"numbers.count": "3"})
    project.run()
    project.write_spec(configuration={"numbers.count": "5"})
    result = project.run()
    assert project.rows("numbers", order_by="id") == [{"id": i} for i in range(5)]
    history = DeltaTable(str(project.table_path("numbers"))).history()
    assert [h["version"] for h in history] == [1, 0]
    marker = json.loads(history[0]["userMetadata"])["lakesmith"]
    assert marker == {"format": 1, "kind": "refresh", "pipeline": "test_pipeline",
                      "update_id": result.update_id, "flow": "numbers"}
    # How many flows run at once changes no result: the view is up to date.
    project.write_spec(configuration={"numbers.count": "5", "lakesmith.maxConcurrentFlows": "1"})
    (flow,) = project.run().flows
    assert flow.metrics.details["technique"] == "NO_OP"


def test_explicit_schema_comment_properties_and_partitions(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view(
            comment="Typed events",
            table_properties={"quality": "silver", "owner": "data-eng"},
            partition_cols=["day"],
            schema="day STRING, id INT, score DOUBLE",
        )
        def events():
            return spark.range(4).selectExpr(
                "CAST(id * 1.5 AS DOUBLE) AS score", "CAST(id AS INT) AS id",
                "CASE WHEN id < 2 THEN 'mon' ELSE 'tue' END AS day")
    """)
    assert project.run().state == UpdateState.COMPLETED
    table = DeltaTable(str(project.table_path("events")))
    metadata = table.metadata()
    assert metadata.description == "Typed events"
    assert metadata.configuration["quality"] == "silver"
    assert metadata.configuration["owner"] == "data-eng"
    assert metadata.partition_columns == ["day"]
    fields = {f.name: str(f.type) for f in table.schema().fields}
    assert fields == {"day": 'PrimitiveType("string")', "id": 'PrimitiveType("integer")',
                      "score": 'PrimitiveType("double")'}
    assert project.rows("events", order_by="id") == [
        {"day": "mon", "id": 0, "score": 0.0}, {"day": "mon", "id": 1, "score": 1.5},
        {"day": "tue", "id": 2, "score": 3.0}, {"day": "tue", "id": 3, "score": 4.5}]
    # An unchanged definition over unchanged inputs is up to date: the next run commits nothing.
    version = table.version()
    project.run()
    assert DeltaTable(str(project.table_path("events"))).version() == version


def test_schema_mismatch_is_reported_before_anything_runs(project) -> None:
    from lakesmith.errors import GraphValidationError

    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def good():
            return spark.range(3)

        @dp.materialized_view(schema="id BIGINT, missing STRING")
        def bad():
            return spark.range(3).selectExpr("id", "id AS extra")
    """)
    with pytest.raises(GraphValidationError) as info:
        project.run()
    message = str(info.value)
    assert "flow 'bad'" in message and "t.py:7" in message
    assert "declared but not produced by the query: missing" in message
    assert "produced by the query but not declared: extra" in message
    assert not project.table_path("good").exists()


def test_failed_flow_skips_downstream_and_independent_flows_complete(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def source():
            return spark.range(3)

        @dp.materialized_view
        def broken():
            # Passes analysis, fails while running: the assertion is false for id >= 1.
            return spark.read.table("source").selectExpr("CAST(assert_true(id < 1) AS STRING) AS ok")

        @dp.materialized_view
        def after_broken():
            return spark.read.table("broken")

        @dp.materialized_view
        def independent():
            return spark.read.table("source").selectExpr("id * 2 AS doubled")
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    assert statuses(result) == {
        "source": FlowStatus.COMPLETED, "broken": FlowStatus.FAILED,
        "after_broken": FlowStatus.SKIPPED, "independent": FlowStatus.COMPLETED}
    (failed,) = result.failed_flows
    assert "Flow 'broken'" in str(failed.error) and "t.py:7" in str(failed.error)
    assert project.rows("independent", order_by="doubled") == [
        {"doubled": 0}, {"doubled": 2}, {"doubled": 4}]
    assert not project.table_path("broken").exists()
    assert not project.table_path("after_broken").exists()


def test_refresh_selection_updates_only_named_datasets(project) -> None:
    project.write_spec(configuration={"n": "2"})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def a():
            return spark.range(int(spark.conf.get("n")))

        @dp.materialized_view
        def b():
            return spark.read.table("a").selectExpr("count(*) AS n")
    """)
    project.run()
    project.write_spec(configuration={"n": "4"})
    result = project.run(refresh=["b"])
    assert statuses(result) == {"b": FlowStatus.COMPLETED}
    assert project.rows("a") == [{"id": 0}, {"id": 1}]  # not refreshed
    assert project.rows("b") == [{"n": 2}]
    project.run(full_refresh=["a"])
    assert len(project.rows("a")) == 4 and project.rows("b") == [{"n": 2}]


def test_refresh_of_unknown_dataset_is_an_error(project) -> None:
    from lakesmith.errors import LakesmithError

    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def a():
            return spark.range(1)
    """)
    with pytest.raises(LakesmithError, match="--refresh: 'nope' is not a dataset"):
        project.run(refresh=["nope"])


def test_selected_flow_reading_a_never_materialized_dataset_fails_clearly(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def a():
            return spark.range(1)

        @dp.materialized_view
        def b():
            return spark.read.table("a")
    """)
    result = project.run(refresh=["b"])
    assert result.state == UpdateState.FAILED
    assert "'a' has no data yet" in str(result.failed_flows[0].error)


def test_flows_read_tables_through_sql_and_qualified_names(project) -> None:
    project.write_spec(database="sales")
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def raw():
            return spark.range(4)

        @dp.materialized_view(name="reporting.summary")
        def summary():
            return spark.sql("SELECT count(*) AS n, sum(id) AS total FROM sales.raw")

        @dp.materialized_view
        def from_three_part_name():
            return spark.read.table("spark_catalog.reporting.summary").selectExpr("n * 10 AS n10")
    """)
    assert project.run().state == UpdateState.COMPLETED
    assert project.rows("summary", schema="reporting") == [{"n": 4, "total": 6}]
    assert project.rows("from_three_part_name", schema="sales") == [{"n10": 40}]
