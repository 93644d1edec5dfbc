"""CLUSTER BY AUTO in pipeline definitions (SQL `CLUSTER BY AUTO`, Python `cluster_by_auto=True`):
recorded on the table, the filters of the pipeline's own flows counted, and the columns chosen
by predictive optimization; exact rows, table properties, the filter counts and the event log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from conftest import Project
from lakesmith.runtime.eventlog_queries import read_events
from lakesmith.runtime.events import UpdateState

PYTHON = """
from pyspark import pipelines as dp
from pyspark.sql import functions as F

@dp.table
def raw():
    return spark.readStream.format("delta").load(spark.conf.get("source"))

@dp.materialized_view(cluster_by_auto=True)
def py_auto():
    return spark.read.table("raw")

@dp.materialized_view
def py_filtered():
    return spark.read.table("py_auto").where(F.col("id") > 0)

dp.create_streaming_table("declared_auto", cluster_by_auto=True, cluster_by=["id"])

@dp.append_flow(target="declared_auto")
def into_declared():
    return spark.readStream.table("raw")
"""

SQL = """
CREATE OR REFRESH STREAMING TABLE events CLUSTER BY AUTO
AS SELECT * FROM STREAM(raw);

CREATE OR REFRESH MATERIALIZED VIEW k1 AS SELECT id FROM events WHERE kind = 'k1';

CREATE OR REFRESH MATERIALIZED VIEW sql_auto CLUSTER BY AUTO AS SELECT id, kind FROM raw;
"""


def append(spark: Any, path: Path, i: int) -> None:
    spark.createDataFrame([(i, f"k{i}")], "id BIGINT, kind STRING").write.format("delta") \
        .mode("append").save(str(path))


def properties(project: Project, table: str) -> dict[str, str]:
    configuration = DeltaTable(str(project.table_path(table))).metadata().configuration
    return {k: v for k, v in configuration.items() if k in ("clusteringColumns", "clusterByAuto")}


def filters(project: Project, table: str) -> dict[str, Any]:
    path = project.table_path(table) / "_lakesmith" / "query_filters.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_cluster_by_auto_definitions_count_flow_filters_and_choose_columns(
        project: Project, tmp_path: Path, spark: Any) -> None:
    source = tmp_path / "source"
    project.write_spec(configuration={
        "source": str(source), "spark.databricks.delta.autoCompact.minNumFiles": "2"})
    project.write("transformations/a.py", PYTHON)
    project.write("transformations/b.sql", SQL)
    append(spark, source, 0)
    append(spark, source, 1)
    assert project.run().state == UpdateState.COMPLETED

    auto_no_columns = {"clusterByAuto": "true", "clusteringColumns": "[]"}
    assert properties(project, "events") == auto_no_columns
    assert properties(project, "sql_auto") == auto_no_columns
    assert properties(project, "py_auto") == auto_no_columns
    # cluster_by with cluster_by_auto: the first columns, until queries say otherwise.
    assert properties(project, "declared_auto") == {"clusterByAuto": "true",
                                                    "clusteringColumns": '["id"]'}
    assert properties(project, "raw") == {}
    # The flows' own filters: k1's SQL WHERE on events, py_filtered's DataFrame filter on py_auto.
    assert filters(project, "events") == {"queries": 1, "columns": {"kind": 1}}
    assert filters(project, "py_auto") == {"queries": 1, "columns": {"id": 1}}
    assert filters(project, "sql_auto") == {}
    assert [r["id"] for r in project.rows("k1")] == [1]
    assert sorted(r["id"] for r in project.rows("py_filtered")) == [1]

    append(spark, source, 2)
    assert project.run().state == UpdateState.COMPLETED
    assert filters(project, "events") == {"queries": 2, "columns": {"kind": 2}}
    # events now has 2 small files: predictive optimization clusters by the chosen column.
    assert properties(project, "events") == {"clusterByAuto": "true",
                                             "clusteringColumns": '["kind"]'}
    events = [json.loads(e["details"])["maintenance"]
              for e in read_events(_spec(project).storage)
              if e["event_type"] == "maintenance" and e["origin"]["dataset_name"] == "events"]
    assert len(events) == 1
    assert events[0]["metrics"]["outcome"].startswith(
        "CLUSTER BY AUTO chose kind: the most filtered columns (kind in 2 of 2 recorded queries)")
    newest = DeltaTable(str(project.table_path("events"))).history(1)[0]
    assert newest["clusteredBy"] == '["kind"]'
    (add_count, remove_count) = _actions(project.table_path("events"), newest["version"])
    assert (add_count, remove_count) == (1, 2)
    assert sorted((r["id"], r["kind"]) for r in project.rows("events")) == \
        [(0, "k0"), (1, "k1"), (2, "k2")]

    # A third update keeps the chosen columns (the definition does not reset them).
    assert project.run().state == UpdateState.COMPLETED
    assert properties(project, "events")["clusteringColumns"] == '["kind"]'


def _actions(path: Path, version: int) -> tuple[int, int]:
    """Adds and removes of one commit, each with dataChange = false (a clustering)."""
    lines = [json.loads(line) for line in
             (path / "_delta_log" / f"{version:020d}.json").read_text().splitlines()]
    changes = [a.get("add") or a.get("remove") for a in lines if "add" in a or "remove" in a]
    assert changes and all(c["dataChange"] is False for c in changes)
    return (sum("add" in a for a in lines), sum("remove" in a for a in lines))


def _spec(project: Project) -> Any:
    from lakesmith.project import load_spec

    return load_spec(project.spec_path)


def test_tables_with_their_own_location_resolve_by_name_in_a_session(
        project: Project, tmp_path: Path) -> None:
    import lakesmith

    elsewhere = tmp_path / "elsewhere"
    project.write_spec()
    project.write("transformations/a.py", f"""
        import dlt

        @dlt.table(path={str(elsewhere / "bronze")!r})
        def bronze():
            return spark.range(3).selectExpr("id", "'b' AS kind")
    """)
    project.write("transformations/b.sql", f"""
        CREATE OR REFRESH MATERIALIZED VIEW gold LOCATION '{elsewhere / "gold"}'
        AS SELECT count(*) AS n FROM bronze;
    """)
    assert project.run().state == UpdateState.COMPLETED
    assert not project.table_path("bronze").exists()
    session = lakesmith.session(project.root, remote=project.sail_url)
    try:
        assert sorted(r["id"] for r in session.sql("SELECT id FROM bronze").collect()) == \
            [0, 1, 2]
        assert [r["n"] for r in session.table("default.gold").collect()] == [3]
        (detail,) = session.sql("DESCRIBE DETAIL gold").collect()
        assert detail["location"].rstrip("/").endswith(str(elsewhere / "gold"))
        assert session.sql("DESCRIBE HISTORY bronze").count() >= 1
    finally:
        session.stop()


def test_materialized_views_are_clustered_when_refreshed(project: Project, tmp_path: Path,
                                                         spark: Any) -> None:
    from lakesmith.locations import Location
    from lakesmith.tables.clustering import clustering_state

    source = tmp_path / "source"
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/a.py", """
        import dlt

        @dlt.table(cluster_by=["kind"])
        def by_kind():
            return spark.read.format("delta").load(spark.conf.get("source"))

        @dlt.table
        def plain():
            return spark.read.format("delta").load(spark.conf.get("source"))
    """)
    project.write("transformations/b.sql", """
        CREATE OR REFRESH MATERIALIZED VIEW by_id CLUSTER BY (id)
        AS SELECT id, upper(kind) AS kind FROM by_kind;
    """)
    for i in range(3):
        append(spark, source, i)
    for refresh in range(2):
        append(spark, source, 3 + refresh)
        assert project.run().state == UpdateState.COMPLETED
        expected = [(i, f"k{i}") for i in range(4 + refresh)]
        assert sorted((r["id"], r["kind"]) for r in project.rows("by_kind")) == expected
        assert sorted((r["id"], r["kind"]) for r in project.rows("by_id")) == \
            [(i, k.upper()) for i, k in expected]
        for view, columns in (("by_kind", '["kind"]'), ("by_id", '["id"]')):
            path = project.table_path(view)
            newest = DeltaTable(str(path)).history(1)[0]
            assert newest["clusteredBy"] == columns
            assert clustering_state(Location.local(path)).endswith(": clustered")
        assert "clusteredBy" not in DeltaTable(str(project.table_path("plain"))).history(1)[0]


def test_a_clustering_column_the_view_lacks_fails_before_writing(project: Project) -> None:
    project.write_spec()
    project.write("transformations/b.sql", """
        CREATE OR REFRESH MATERIALIZED VIEW v CLUSTER BY (nope) AS SELECT 1 AS id;
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    (failure,) = [f for f in result.failed_flows]
    message = str(failure.error)
    assert "[DELTA_COLUMN_NOT_FOUND_IN_SCHEMA]" in message and "b.sql:1" in message
    assert "CLUSTER BY of 'v' names nope, not a column of its query (columns: id)" in message
    assert not (project.table_path("v") / "_delta_log").exists() or \
        DeltaTable(str(project.table_path("v"))).version() == 0


def test_definitions_with_cluster_by_auto_keep_their_source_location(
        project: Project, tmp_path: Path, spark: Any) -> None:
    from lakesmith.graph.identifiers import TableName

    append(spark, tmp_path / "source", 0)
    project.write_spec(configuration={"source": str(tmp_path / "source")})
    project.write("transformations/a.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view(cluster_by_auto=True)
        def auto():
            return spark.range(1)

        @dp.materialized_view
        def plain():
            return spark.range(1)

        dp.create_streaming_table("declared", cluster_by_auto=True)

        @dp.append_flow(target="declared")
        def into_declared():
            return spark.readStream.format("delta").load(spark.conf.get("source"))
    """)
    project.write("transformations/b.py", """
        import dlt

        @dlt.table(cluster_by_auto=True, cluster_by=["id"])
        def dlt_auto():
            return spark.range(1)
    """)
    with project.open() as pipeline:
        def dataset(name: str) -> Any:
            return pipeline.graph.dataset(TableName("spark_catalog", "default", name))

        assert [(dataset(n).location.line, dataset(n).cluster_by_auto)
                for n in ("auto", "plain", "declared")] == [(3, True), (7, False), (11, True)]
        assert dataset("auto").location.path.endswith("transformations/a.py")
        assert (dataset("dlt_auto").kind.label, dataset("dlt_auto").cluster_by,
                dataset("dlt_auto").cluster_by_auto) == ("materialized view", ("id",), True)
