"""Legacy and alternative Databricks names, and the table arguments of real pipelines, map onto
the same graph; a setting lakesmith cannot honour is a warning naming it, never dropped silently."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from compat_helpers import completed, load_error, source_warnings
from deltalake import DeltaTable

from conftest import read_rows
from lakesmith.authoring.source_warnings import SourceWarning
from lakesmith.errors import GraphValidationError, LakesmithError, SourceLoadError
from lakesmith.graph.model import DatasetKind


def column_names(project, table: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.name for f in DeltaTable(str(project.table_path(table))).schema().fields]


def test_legacy_python_names_load_and_run(project, spark, tmp_path: Path) -> None:
    changes = tmp_path / "changes"
    spark.createDataFrame([(1, "a", 1), (2, "b", 1), (1, "c", 2)], "id BIGINT, v STRING, seq INT"
                          ).write.format("delta").save(str(changes))
    project.write_spec(configuration={"changes": str(changes)})
    project.write("transformations/legacy.py", """
        import dlt

        @dlt.create_table(comment="numbers")
        def numbers():
            return spark.range(4)

        @dlt.create_view
        def evens():
            return dlt.read("numbers").where("id % 2 = 0")

        @dlt.table(temporary=True)
        def evens_kept():
            return dlt.read("evens")

        @dlt.view(name="changes_feed")
        def changes():
            return spark.readStream.format("delta").load(spark.conf.get("changes"))

        dlt.create_target_table("target_a")
        dlt.apply_changes(target="target_a", source="changes_feed", keys=["id"],
                          sequence_by="seq")

        dlt.create_streaming_live_table("appended")

        @dlt.append_flow(target="appended")
        def into_appended():
            return dlt.read_stream("changes_feed").select("id")
    """)
    with project.open() as pipeline:
        kinds = {d.name: d.kind for d in pipeline.graph.datasets.values()}
        result = pipeline.run(pipeline.plan())
    completed(result)
    assert kinds == {
        "numbers": DatasetKind.MATERIALIZED_VIEW, "evens": DatasetKind.TEMPORARY_VIEW,
        "evens_kept": DatasetKind.MATERIALIZED_VIEW, "changes_feed": DatasetKind.TEMPORARY_VIEW,
        "target_a": DatasetKind.STREAMING_TABLE, "appended": DatasetKind.STREAMING_TABLE}
    assert project.rows("evens_kept", order_by="id") == [{"id": 0}, {"id": 2}]
    assert project.rows("target_a", order_by="id") == [
        {"id": 1, "v": "c", "seq": 2}, {"id": 2, "v": "b", "seq": 1}]
    assert project.rows("appended", order_by="id") == [{"id": 1}, {"id": 1}, {"id": 2}]


def test_table_arguments_of_real_pipelines(project) -> None:
    project.write_spec()
    path = project.write("transformations/t.py", """
        import dlt
        from pyspark.sql.types import StructType, StructField, LongType, StringType

        @dlt.table(
            table_properties={"quality": "silver", "delta.appendOnly": "true"},
            partition_cols=["region"],
            schema='''
                id BIGINT NOT NULL COMMENT 'the key',
                id_doubled BIGINT GENERATED ALWAYS AS (id * 2),
                label STRING,
                region STRING
            ''',
            spark_conf={"spark.sql.shuffle.partitions": "4",
                        "spark.databricks.delta.optimizeWrite.enabled": "true"},
            path="dbfs:/pipelines/legacy/orders",
        )
        def orders():
            return spark.range(3).selectExpr(
                "concat('r', id % 2) AS region", "concat('#', id) AS label", "id")

        @dlt.table(
            cluster_by=["id"],
            schema=StructType([StructField("name", StringType()), StructField("id", LongType())]),
        )
        def people():
            return spark.range(2).selectExpr("id", "concat('p', id) AS name")
    """)
    with pytest.warns(SourceWarning) as record:
        with project.open() as pipeline:
            flows = {f.name: f.flow for f in pipeline.graph.flows}
            result = pipeline.run(pipeline.plan())
    completed(result)
    assert source_warnings(record) == [
        f"{path}:4: path 'dbfs:/pipelines/legacy/orders' is on the Databricks file system, "
        "which does not exist here: the table is stored in the warehouse (the spec's "
        "`spark.sql.warehouse.dir`). Give a local path or an object-store URI to choose where it "
        "goes.",
        f"{path}:4: spark_conf 'spark.databricks.delta.optimizeWrite.enabled' configures a "
        "Databricks cluster; lakesmith's engine has no such setting, so it is ignored.",
    ]
    assert flows["orders"].spark_conf == {"spark.sql.shuffle.partitions": "4"}
    # Declared column order, not the query's; the generated column computed from the row.
    assert project.rows("orders", order_by="id") == [
        {"region": "r0", "id": 0, "id_doubled": 0, "label": "#0"},
        {"region": "r1", "id": 1, "id_doubled": 2, "label": "#1"},
        {"region": "r0", "id": 2, "id_doubled": 4, "label": "#2"}]
    # (The engine stores partition columns last whatever the declared order: region is last.)
    assert column_names(project, "orders") == ["id", "id_doubled", "label", "region"]
    orders = DeltaTable(str(project.table_path("orders")))
    assert orders.metadata().partition_columns == ["region"]
    assert orders.metadata().configuration["quality"] == "silver"
    assert project.rows("people", order_by="id") == [
        {"name": "p0", "id": 0}, {"name": "p1", "id": 1}]
    assert column_names(project, "people") == ["name", "id"]
    # Clustering columns stay on the definition and on the table, for OPTIMIZE.
    with pytest.warns(SourceWarning), project.open() as pipeline:
        (people,) = [d for d in pipeline.graph.datasets.values() if d.name == "people"]
        assert people.cluster_by == ("id",)
    assert DeltaTable(str(project.table_path("people"))).metadata().configuration[
        "clusteringColumns"] == '["id"]'


def test_sql_generated_columns_and_column_order(project) -> None:
    project.write_spec()
    project.write("transformations/t.sql", """
        CREATE OR REFRESH LIVE TABLE events (
          day DATE GENERATED ALWAYS AS (CAST(ts AS DATE)),
          id BIGINT,
          ts TIMESTAMP
        )
        AS SELECT TIMESTAMP '2024-01-02 10:00:00' + make_interval(0, 0, 0, id) AS ts, id
           FROM range(2)
    """)
    completed(project.run())
    utc = datetime.timezone.utc
    assert project.rows("events", order_by="id") == [
        {"day": datetime.date(2024, 1, 2), "id": 0, "ts": datetime.datetime(2024, 1, 2, 10, tzinfo=utc)},
        {"day": datetime.date(2024, 1, 3), "id": 1, "ts": datetime.datetime(2024, 1, 3, 10, tzinfo=utc)}]
    assert column_names(project, "events") == ["day", "id", "ts"]


def test_a_query_that_produces_a_generated_column_is_refused(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        import dlt

        @dlt.table(schema="id BIGINT, twice BIGINT GENERATED ALWAYS AS (id * 2)")
        def t():
            return spark.range(1).selectExpr("id", "id AS twice")
    """)
    with pytest.raises(LakesmithError, match="the query of 't' produces twice, declared as "
                                             "generated"):
        with project.open() as pipeline:
            pipeline.run(pipeline.plan())


def test_unknown_legacy_argument_names_file_and_line(project) -> None:
    project.write_spec()
    path = project.write("transformations/t.py", """
        import dlt

        @dlt.table(partition_by=["a"])
        def t():
            return spark.range(1)
    """)
    error = load_error(project, SourceLoadError)
    assert error.message == (
        f"{path}:3: error while loading pipeline source: TypeError: table() got an unexpected "
        "keyword argument 'partition_by'")


def test_bad_generated_column_in_a_schema_string_names_file_and_line(project) -> None:
    project.write_spec()
    path = project.write("transformations/t.py", """
        import dlt

        @dlt.table(schema="id BIGINT, n BIGINT GENERATED ALWAYS AS IDENTITY")
        def t():
            return spark.range(1)
    """)
    with pytest.raises(SourceLoadError, match=f"{path}:3: identity columns "):
        with project.open():
            pass


def test_settings_that_cannot_be_honoured_are_warnings(project, spark, tmp_path: Path) -> None:
    spark.range(2).write.format("delta").save(str(tmp_path / "src"))
    project.write_spec(configuration={"src": str(tmp_path / "src")})
    sql = project.write("transformations/t.sql", """
        SET spark.databricks.delta.schema.autoMerge.enabled = true;
        SET spark.sql.shuffle.partitions = 3;
        CREATE LIVE TABLE t AS SELECT 1 AS id
    """)
    py = project.write("transformations/p.py", """
        import dlt
        from pyspark.sql.types import StructType, StructField, LongType

        dlt.create_streaming_table("s", spark_conf={"spark.sql.shuffle.partitions": "2"})

        @dlt.table(schema=StructType([
            StructField("id", LongType()),
            StructField("next", LongType(), metadata={"delta.generationExpression": "id + 1"})]))
        def u():
            return spark.range(2)

        @dlt.append_flow(target="s")
        def into_s():
            return spark.readStream.format("delta").load(spark.conf.get("src"))
    """)
    with pytest.warns(SourceWarning) as record:
        with project.open() as pipeline:
            flows = {f.name: f.flow for f in pipeline.graph.flows}
            result = pipeline.run(pipeline.plan())
    assert sorted(source_warnings(record)) == sorted([
        f"{sql}:1: spark_conf 'spark.databricks.delta.schema.autoMerge.enabled' configures a "
        "Databricks cluster; lakesmith's engine has no such setting, so it is ignored.",
        f"{py}:4: spark_conf on create_streaming_table is not applied to the flows into the "
        "table yet; give it to each flow (append_flow(spark_conf=...)).",
    ])
    # The cluster-only key stays a ${key} variable but is not set while the flow runs.
    assert flows["t"].spark_conf == {"spark.sql.shuffle.partitions": "3"}
    completed(result)
    # A StructType field's delta.generationExpression makes a generated column.
    assert project.rows("u", order_by="id") == [{"id": 0, "next": 1}, {"id": 1, "next": 2}]
    assert project.rows("s", order_by="id") == [{"id": 0}, {"id": 1}]


def test_generated_columns_on_an_auto_cdc_target_are_refused(project) -> None:
    project.write_spec()
    path = project.write("transformations/p.py", """
        import dlt

        @dlt.view
        def feed():
            return spark.readStream.format("delta").load("/tmp/lakesmith-nowhere")

        dlt.create_streaming_table(
            "t", schema="id BIGINT, v STRING, seq INT, vv STRING GENERATED ALWAYS AS (upper(v))")
        dlt.apply_changes(target="t", source="feed", keys=["id"], sequence_by="seq")
    """)
    error = load_error(project, GraphValidationError)
    (problem,) = error.problems
    assert str(problem) == (
        f"{path}:7: streaming table 't' has generated columns (vv) and is the target of AUTO CDC "
        "flow 't'; generated columns on an AUTO CDC target are not supported yet.")


def test_table_paths_and_sql_locations_are_honoured(project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    project.write_spec(configuration={"silver.path": str(elsewhere / "silver")})
    project.write("transformations/p.py", """
        import dlt

        @dlt.table(path="tables/bronze")
        def bronze():
            return spark.range(3)

        @dlt.table(path=spark.conf.get("silver.path"))
        def silver():
            return dlt.read("bronze").where("id > 0")
    """)
    project.write("transformations/gold.sql", """
        CREATE LIVE TABLE gold
        LOCATION '${silver.path}_gold'
        AS SELECT count(*) AS n FROM LIVE.silver
    """)
    completed(project.run())
    assert read_rows(project.root / "tables" / "bronze", order_by="id") == [
        {"id": 0}, {"id": 1}, {"id": 2}]
    assert read_rows(elsewhere / "silver", order_by="id") == [{"id": 1}, {"id": 2}]
    assert read_rows(elsewhere / "silver_gold") == [{"n": 2}]
    assert not project.table_path("bronze").exists()
    # A second update finds the tables where it left them.
    completed(project.run())
    assert read_rows(elsewhere / "silver_gold") == [{"n": 2}]


def test_two_tables_at_one_path_are_refused(project) -> None:
    project.write_spec()
    path = project.write("transformations/p.py", """
        import dlt

        @dlt.table(path="tables/x")
        def a():
            return spark.range(1)

        @dlt.table(path="tables/x/")
        def b():
            return spark.range(1)
    """)
    error = load_error(project, LakesmithError)
    assert error.message.startswith(f"{path}:7: 'b' and 'a' are both stored at ")
