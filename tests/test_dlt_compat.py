"""Databricks-style sources (`import dlt`) load unchanged and map onto the same graph."""

from __future__ import annotations

import sys

import pytest

from lakesmith.errors import InvalidDefinition, NotSupportedYet
from lakesmith.graph.model import DatasetKind, ExpectationAction, OnceFlow, StreamingTable
from lakesmith.runtime.events import UpdateState


def test_dlt_project_runs_with_live_references(project) -> None:
    project.write_spec()
    project.write("transformations/pipeline.py", """
        import dlt
        from pyspark.sql.functions import col, sum as sum_

        @dlt.table(comment="raw", table_properties={"quality": "bronze"})
        def raw_sales():
            return spark.range(6).select(col("id").alias("sale_id"), (col("id") % 2).alias("store"),
                                         (col("id") * 100).alias("cents"))

        @dlt.view
        def sales_in_euros():
            return dlt.read("raw_sales").withColumn("euros", col("cents") / 100)

        @dlt.table
        def store_totals():
            return (spark.table("LIVE.sales_in_euros").groupBy("store")
                    .agg(sum_("euros").alias("total")))

        @dlt.table(name="top_store")
        def top():
            return spark.sql("SELECT store FROM live.store_totals ORDER BY total DESC LIMIT 1")
    """)
    assert "dlt" not in sys.modules
    with project.open() as pipeline:
        kinds = {d.name: d.kind for d in pipeline.graph.datasets.values()}
        assert kinds == {"raw_sales": DatasetKind.MATERIALIZED_VIEW,
                         "sales_in_euros": DatasetKind.TEMPORARY_VIEW,
                         "store_totals": DatasetKind.MATERIALIZED_VIEW,
                         "top_store": DatasetKind.MATERIALIZED_VIEW}
        result = pipeline.run(pipeline.plan())
    assert "dlt" not in sys.modules  # mapped only while sources load
    assert result.state == UpdateState.COMPLETED
    # store 0: ids 0,2,4 -> 0+2+4 = 6 euros; store 1: ids 1,3,5 -> 9 euros
    assert project.rows("store_totals", order_by="store") == [
        {"store": 0, "total": 6.0}, {"store": 1, "total": 9.0}]
    assert project.rows("top_store") == [{"store": 1}]


def test_dlt_read_stream_makes_a_streaming_table(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", """
        import dlt

        dlt.create_streaming_table("events_st")

        @dlt.append_flow(target="events_st")
        def events_from_delta():
            return spark.readStream.format("delta").load("/tmp/nowhere-lakesmith")

        @dlt.table
        def follows():
            return dlt.read_stream("events_st")
    """)
    with project.open() as pipeline:
        kinds = {d.name: d.kind for d in pipeline.graph.datasets.values()}
        classes = {d.name: type(d) for d in pipeline.graph.datasets.values()}
    assert kinds == {"events_st": DatasetKind.STREAMING_TABLE, "follows": DatasetKind.STREAMING_TABLE}
    # `@dlt.table` is resolved to the class of its kind when the graph is built.
    assert classes == {"events_st": StreamingTable, "follows": StreamingTable}


def test_dlt_expectations_attach_to_the_dataset(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", """
        import dlt

        @dlt.table
        @dlt.expect("positive", "id >= 0")
        @dlt.expect_or_drop("small", "id < 100")
        @dlt.expect_all_or_fail({"not_null": "id IS NOT NULL", "int": "id = floor(id)"})
        def checked():
            return spark.range(3)
    """)
    with project.open() as pipeline:
        (dataset,) = pipeline.graph.datasets.values()
    assert [(e.name, e.condition, e.action) for e in dataset.expectations] == [
        ("positive", "id >= 0", ExpectationAction.WARN),
        ("small", "id < 100", ExpectationAction.DROP),
        ("not_null", "id IS NOT NULL", ExpectationAction.FAIL),
        ("int", "id = floor(id)", ExpectationAction.FAIL),
    ]
    assert dataset.expectations[0].location.line == 4


def write_changes_table(spark, path) -> None:
    spark.range(3).selectExpr("id", "id AS seq").write.format("delta").save(str(path))


def test_dlt_auto_cdc_scd2_from_a_view(project, spark, tmp_path) -> None:
    write_changes_table(spark, tmp_path / "changes")
    project.write_spec(configuration={"changes.path": str(tmp_path / "changes")})
    project.write("transformations/p.py", """
        import dlt

        @dlt.table
        def base():
            return spark.range(3)

        @dlt.view
        def changes():
            return spark.readStream.format("delta").load(spark.conf.get("changes.path"))

        dlt.create_streaming_table("target")
        dlt.apply_changes(target="target", source="changes", keys=["id"], sequence_by="seq",
                          stored_as_scd_type=2)
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("target", order_by="id") == [
        {"id": i, "seq": i, "__START_AT": i, "__END_AT": None} for i in range(3)]
    assert project.rows("base", order_by="id") == [{"id": 0}, {"id": 1}, {"id": 2}]


def test_dlt_unsupported_options_fail_at_load(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", """
        import dlt

        @dlt.table(row_filter="ROW FILTER f ON (region)")
        def t():
            return spark.range(1)
    """)
    with pytest.raises(NotSupportedYet, match="p.py:3: the 'row_filter' option is not supported"):
        with project.open():
            pass


def test_expectation_above_the_dataset_decorator_is_explained(project) -> None:
    from lakesmith.errors import LakesmithError

    project.write_spec()
    project.write("transformations/p.py", """
        from pyspark import pipelines as dp
        from lakesmith import expect

        @expect("positive", "id > 0")
        @dp.materialized_view
        def t():
            return spark.range(1)
    """)
    with pytest.raises(LakesmithError, match="p.py:4: @expect must be placed below the dataset"):
        with project.open():
            pass


def test_pyspark_pipelines_with_lakesmith_expectations(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", """
        from pyspark import pipelines as dp
        from lakesmith import expect_or_drop

        @dp.materialized_view
        @expect_or_drop("positive", "id > 0")
        def t():
            return spark.range(1)
    """)
    with project.open() as pipeline:
        (dataset,) = pipeline.graph.datasets.values()
    assert [(e.name, e.action) for e in dataset.expectations] == [("positive", ExpectationAction.DROP)]


def test_spark_43_auto_cdc_signature_is_served(project, spark, tmp_path) -> None:
    write_changes_table(spark, tmp_path / "changes")
    project.write_spec(configuration={"changes.path": str(tmp_path / "changes")})
    project.write("transformations/p.py", """
        from pyspark import pipelines as dp

        @dp.temporary_view
        def changes():
            return spark.readStream.format("delta").load(spark.conf.get("changes.path"))

        dp.create_streaming_table("customers")
        dp.create_auto_cdc_flow(target="customers", source="changes", keys=["id"],
                                sequence_by="seq", stored_as_scd_type=2,
                                track_history_except_column_list=["seq"])
    """)
    with project.open() as pipeline:
        flow = pipeline.graph.flow("customers").flow
    assert flow.stored_as_scd_type == 2
    assert flow.track_history_except_column_list == ("seq",)


def test_python_auto_cdc_arguments_are_checked_at_their_line(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", """
        from pyspark import pipelines as dp

        dp.create_streaming_table("customers")
        dp.create_auto_cdc_flow(target="customers", source="changes", keys=["id"],
                                sequence_by="seq", stored_as_scd_type=3)
    """)
    with pytest.raises(InvalidDefinition) as info:
        with project.open():
            pass
    assert str(info.value).endswith(
        "p.py:4: AUTO CDC flow 'customers': stored_as_scd_type must be 1 or 2, got 3.")


def test_dlt_auto_cdc_options_and_once_flows(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", """
        import dlt

        @dlt.view
        def changes():
            return spark.readStream.format("delta").load("/tmp/changes")

        dlt.create_streaming_table("customers")
        dlt.apply_changes(target="customers", source="changes", keys=["id"], sequence_by="seq",
                          stored_as_scd_type="2", track_history_column_list=["name"])

        dlt.create_streaming_table("events")

        @dlt.append_flow(target="events", once=True)
        def backfill():
            return spark.range(3)
    """)
    with project.open() as pipeline:
        cdc = pipeline.graph.flow("customers").flow
        backfill = pipeline.graph.flow("backfill")
    assert (cdc.stored_as_scd_type, cdc.track_history_column_list) == (2, ("name",))
    assert type(backfill.flow) is OnceFlow and backfill.query_flow.once


def test_dlt_one_time_auto_cdc_flow_is_refused_at_load(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", """
        import dlt

        dlt.create_streaming_table("customers")
        dlt.create_auto_cdc_flow(target="customers", source="changes", keys=["id"],
                                 sequence_by="seq", once=True)
    """)
    with pytest.raises(NotSupportedYet, match=r"p.py:4: create_auto_cdc_flow\(once=True\) \(a "
                                              r"one-time AUTO CDC flow\) is not supported"):
        with project.open():
            pass
