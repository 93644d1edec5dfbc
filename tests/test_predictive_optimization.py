"""Predictive optimization after updates, and streams reading tables across maintenance: exact
rows, the Delta log and the event log's `maintenance` events."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from deltalake import DeltaTable

import lakesmith
from conftest import Project, read_rows
from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import read_events
from lakesmith.runtime.events import UpdateState
from lakesmith.tables import operations

PIPELINE = """
from pyspark import pipelines as dp

@dp.table(cluster_by=["id"])
def managed_copy():
    return spark.readStream.format("delta").load(spark.conf.get("tiny"))

@dp.table(table_properties={"pipelines.autoOptimize.managed": "false"})
def unmanaged_copy():
    return spark.readStream.format("delta").load(spark.conf.get("tiny"))

# Files under a quarter of the target size count as small: 25 KB here, so 5000-row files are not.
@dp.table(table_properties={"delta.targetFileSize": "100000"})
def large_copy():
    return spark.readStream.format("delta").load(spark.conf.get("large"))

@dp.table
def downstream():
    return spark.readStream.table("managed_copy")
"""


def append_tiny(spark: Any, path: Path, i: int) -> None:
    spark.createDataFrame([(i, f"k{i}")], "id BIGINT, kind STRING").write.format("delta") \
        .mode("append").save(str(path))


def append_large(spark: Any, path: Path, i: int) -> None:
    spark.range(i * 5000, (i + 1) * 5000).selectExpr(
        "id", "sha2(cast(id AS STRING), 256) AS kind").write.format("delta").mode("append") \
        .save(str(path))


def maintenance_events(project: Project) -> list[dict]:
    from lakesmith.project import load_spec

    events = read_events(load_spec(project.spec_path).storage)
    return [e for e in events if e["event_type"] == "maintenance"]


def files(project: Project, table: str) -> int:
    return len(DeltaTable(str(project.table_path(table))).file_uris())


def test_compaction_after_many_small_appends_not_after_few_large_ones(
        project: Project, tmp_path: Path, spark: Any) -> None:
    tiny, large = tmp_path / "tiny", tmp_path / "large"
    project.write_spec(configuration={
        "tiny": str(tiny), "large": str(large),
        "spark.databricks.delta.autoCompact.minNumFiles": "3"})
    project.write("transformations/t.py", PIPELINE)
    for i in range(2):
        append_tiny(spark, tiny, i)
        append_large(spark, large, i)
        assert project.run().state == UpdateState.COMPLETED
    assert maintenance_events(project) == []
    assert files(project, "managed_copy") == 2

    append_tiny(spark, tiny, 2)
    append_large(spark, large, 2)
    assert project.run().state == UpdateState.COMPLETED
    events = maintenance_events(project)
    assert [(e["origin"]["dataset_name"], json.loads(e["details"])["maintenance"]["operation"])
            for e in events] == [("managed_copy", "CLUSTER"), ("downstream", "OPTIMIZE")]
    details = json.loads(events[0]["details"])["maintenance"]
    assert details["reason"] == "3 of 3 files are not clustered by id (threshold 3)"
    assert details["metrics"] == {"numFilesAdded": 1, "numFilesRemoved": 3,
                                  "outcome": "clustered 3 file(s) not yet clustered"}
    assert json.loads(events[1]["details"])["maintenance"]["reason"] == \
        "3 of 3 files are smaller than 32 MiB (threshold 3)"
    assert files(project, "managed_copy") == 1
    assert files(project, "unmanaged_copy") == 3  # pipelines.autoOptimize.managed = false
    assert files(project, "large_copy") == 3  # large files: nothing to compact
    # Clustered in the engine: a delta-rs transaction (WRITE in the log) that DESCRIBE HISTORY
    # shows as the OPTIMIZE it is.
    newest = DeltaTable(str(project.table_path("managed_copy"))).history(1)[0]
    assert newest["clusteredBy"] == '["id"]'
    assert operations.history(Location.local(project.table_path("managed_copy")), "managed_copy",
                              1)[0]["operation"] == "OPTIMIZE"

    # The downstream stream skips the compaction commit: no failure, no duplicate.
    append_tiny(spark, tiny, 3)
    assert project.run().state == UpdateState.COMPLETED
    assert [r["id"] for r in project.rows("downstream", order_by="id")] == [0, 1, 2, 3]
    assert [r["id"] for r in project.rows("managed_copy", order_by="id")] == [0, 1, 2, 3]


def test_zorder_cols_property_is_honoured(project: Project, tmp_path: Path, spark: Any) -> None:
    tiny = tmp_path / "tiny"
    project.write_spec(configuration={
        "tiny": str(tiny), "spark.databricks.delta.autoCompact.minNumFiles": "2"})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table(table_properties={"pipelines.autoOptimize.zOrderCols": "kind"})
        def z():
            return spark.readStream.format("delta").load(spark.conf.get("tiny"))
    """)
    for i in range(2):
        append_tiny(spark, tiny, i)
        project.run()
    (event,) = maintenance_events(project)
    assert json.loads(event["details"])["maintenance"]["operation"] == "CLUSTER"
    newest = DeltaTable(str(project.table_path("z"))).history(1)[0]
    assert newest["operation"] == "OPTIMIZE" and newest["clusteredBy"] == '["kind"]'


def test_vacuum_keeps_files_a_lagging_stream_still_reads(project: Project, tmp_path: Path,
                                                         spark: Any) -> None:
    tiny = tmp_path / "tiny"
    project.write_spec(configuration={
        "tiny": str(tiny), "spark.databricks.delta.autoCompact.minNumFiles": "2"})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table(table_properties={"delta.deletedFileRetentionDuration": "interval 0 hours"})
        def copy():
            return spark.readStream.format("delta").load(spark.conf.get("tiny"))

        @dp.table
        def downstream():
            return spark.readStream.table("copy")
    """)
    append_tiny(spark, tiny, 0)
    project.run()  # downstream has read copy's version with row 0
    for i in range(1, 4):  # only `copy` is refreshed: downstream's checkpoint lags behind
        append_tiny(spark, tiny, i)
        project.run(refresh=["copy"])
    operations = [json.loads(e["details"])["maintenance"]["operation"]
                  for e in maintenance_events(project)]
    # Compaction removed files downstream has not read yet: with a retention of 0 hours VACUUM
    # would delete them, but downstream's checkpoint still needs them.
    assert operations == ["OPTIMIZE"] * 3  # one per refresh of `copy`
    copy = project.table_path("copy")
    on_disk = len(list(copy.glob("*.parquet")))
    assert on_disk > len(DeltaTable(str(copy)).file_uris())
    # A VACUUM by hand in a lakesmith session keeps them too.
    session = lakesmith.session(project.root, remote=project.sail_url)
    try:
        assert session.sql("VACUUM copy RETAIN 0 HOURS DRY RUN").collect() == []
        session.sql("VACUUM copy RETAIN 0 HOURS")
    finally:
        session.stop()
    assert len(list(copy.glob("*.parquet"))) == on_disk
    assert project.run().state == UpdateState.COMPLETED
    assert [r["id"] for r in project.rows("downstream", order_by="id")] == [0, 1, 2, 3]
    # Caught up: now the removed files go.
    vacuums = [json.loads(e["details"])["maintenance"] for e in maintenance_events(project)
               if e["origin"]["dataset_name"] == "copy"
               and json.loads(e["details"])["maintenance"]["operation"] == "VACUUM"]
    assert len(vacuums) == 1 and vacuums[0]["metrics"]["numDeletedFiles"] == \
        on_disk - 1
    assert len(list(copy.glob("*.parquet"))) == len(DeltaTable(str(copy)).file_uris())
    assert [r["id"] for r in read_rows(project.table_path("copy"), order_by="id")] == \
        [0, 1, 2, 3]


def test_cluster_by_auto_pipeline_table_clusters_by_queried_columns(
        project: Project, tmp_path: Path, spark: Any) -> None:
    tiny = tmp_path / "tiny"
    project.write_spec(configuration={
        "tiny": str(tiny), "spark.databricks.delta.autoCompact.minNumFiles": "2"})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table(table_properties={"clusterByAuto": "true"})
        def auto():
            return spark.readStream.format("delta").load(spark.conf.get("tiny"))
    """)
    append_tiny(spark, tiny, 0)
    project.run()
    session = lakesmith.session(project.root, remote=project.sail_url)
    try:
        session.sql("SELECT * FROM auto WHERE kind = 'k0'").collect()
    finally:
        session.stop()
    append_tiny(spark, tiny, 1)
    project.run()
    (event,) = maintenance_events(project)
    details = json.loads(event["details"])["maintenance"]
    assert details["metrics"]["outcome"].startswith(
        "CLUSTER BY AUTO chose kind: the most filtered columns (kind in 1 of 1 recorded queries)")
    configuration = DeltaTable(str(project.table_path("auto"))).metadata().configuration
    assert configuration["clusteringColumns"] == '["kind"]'


def test_maintain_is_refused_while_an_update_holds_the_pipeline(project: Project) -> None:
    from lakesmith.project import load_spec
    from lakesmith.runtime.storage import PipelineStorage

    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def numbers():
            return spark.range(3)
    """)
    project.run()
    spec = load_spec(project.spec_path)
    maintain = [sys.executable, "-m", "lakesmith", "maintain", "--spec", str(project.spec_path),
                "--remote", project.sail_url]
    with PipelineStorage(spec.storage, spec.name).lock():  # as a running update holds it
        refused = subprocess.run(maintain, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert "is already running" in refused.stderr
    versions = DeltaTable(str(project.table_path("numbers"))).version()
    ok = subprocess.run(maintain, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "No maintenance is due." in ok.stdout, ok.stderr
    assert DeltaTable(str(project.table_path("numbers"))).version() == versions


def test_stream_continues_after_optimize_and_zorder_of_its_source(project: Project,
                                                                   tmp_path: Path,
                                                                   spark: Any) -> None:
    source = tmp_path / "source"
    project.write_spec(configuration={"tiny": str(source)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table
        def copy():
            return spark.readStream.format("delta").load(spark.conf.get("tiny"))
    """)
    for i in range(3):
        append_tiny(spark, source, i)
    project.run()
    session = lakesmith.session(project.root, remote=project.sail_url)
    try:
        session.sql(f"OPTIMIZE delta.`{source}`")
        append_tiny(spark, source, 3)
        session.sql(f"OPTIMIZE delta.`{source}` ZORDER BY (kind)")
        append_tiny(spark, source, 4)
    finally:
        session.stop()
    assert project.run().state == UpdateState.COMPLETED
    assert [r["id"] for r in project.rows("copy", order_by="id")] == [0, 1, 2, 3, 4]
