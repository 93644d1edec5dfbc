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
    assert newest["operation"] == "OPTIMIZE" and newest["clusteredBy"] == '["kind"]'
    assert sorted((r["id"], r["kind"]) for r in project.rows("events")) == \
        [(0, "k0"), (1, "k1"), (2, "k2")]

    # A third update keeps the chosen columns (the definition does not reset them).
    assert project.run().state == UpdateState.COMPLETED
    assert properties(project, "events")["clusteringColumns"] == '["kind"]'


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
