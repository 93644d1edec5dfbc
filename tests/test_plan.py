"""Plan, then apply: an update's plan says what each flow will do before anything runs; dry-run
prints it, the event log records it, and a run executes exactly it (sources outside the pipeline
are read up to where they were when the update started)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import read_events
from lakesmith.runtime.events import FlowStatus, UpdateState
from lakesmith.runtime.plan import INCREMENTAL, REFRESH, SKIP

PIPELINE = """
from pyspark import pipelines as dp

@dp.table
def bronze():
    return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
            .load(spark.conf.get("source")))

@dp.table
def silver():
    return spark.readStream.table("bronze").where("id > 0")

@dp.materialized_view
def gold():
    return spark.read.table("silver").groupBy().count()
"""


def append(spark, path, ids: list[int]) -> None:
    spark.createDataFrame([(i,) for i in ids], "id BIGINT").write.format("delta") \
        .mode("append").save(str(path))


def work_of(pipeline, **options):
    plan = pipeline.plan_work(pipeline.plan(**options))
    return {p.name: p.work for p in plan.flows}


def setup(project, tmp_path, spark):
    source = tmp_path / "source"
    append(spark, source, [1, 2])
    append(spark, source, [3])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE)
    return source


def test_plan_says_what_each_flow_will_do(project, tmp_path, spark) -> None:
    source = setup(project, tmp_path, spark)
    with project.open() as pipeline:
        work = work_of(pipeline)
    assert work["bronze"].action == INCREMENTAL
    (bronze_source,) = work["bronze"].sources
    assert (bronze_source.backlog.files, bronze_source.backlog.records) == (2, 3)
    assert bronze_source.backlog.versions == (1, 1)  # the snapshot of version 1
    assert bronze_source.end.to_json() == {"version": 1, "index": 0, "snapshot": False}
    assert not bronze_source.internal
    (silver_source,) = work["silver"].sources
    assert silver_source.internal and silver_source.end is None  # fixed when silver starts
    # A materialized view's refresh: the technique its planner would choose now.
    assert (work["gold"].action, work["gold"].technique) == (REFRESH, "COMPLETE_RECOMPUTE")
    assert work["gold"].describe() == "refresh: COMPLETE_RECOMPUTE: 'silver' has no data yet"
    assert not (project.root / "warehouse").exists() and not (project.root / "storage").exists()

    result = project.run()
    assert result.state == UpdateState.COMPLETED
    with project.open() as pipeline:
        assert work_of(pipeline)["bronze"].action == SKIP
        assert work_of(pipeline)["bronze"].reason == "no new data"
        assert work_of(pipeline)["gold"].describe() == (
            "refresh: NO_OP if its inputs do not change, else GROUP_AGGREGATE while 'silver' "
            "only gains rows (decided when the flow starts)")
        append(spark, source, [4])
        work = work_of(pipeline)
        assert work["bronze"].action == INCREMENTAL
        assert work["bronze"].sources[0].backlog.records == 1
        assert work["bronze"].sources[0].backlog.versions == (2, 2)
        reset = work_of(pipeline, full_refresh=["bronze"])
        assert reset["bronze"].reset and reset["bronze"].sources[0].backlog.records == 4
        assert "silver" not in reset  # only the selected dataset
        assert work_of(pipeline, full_refresh=["gold"])["gold"].describe() == (
            "reset (full refresh), then refresh: COMPLETE_RECOMPUTE: a full refresh was "
            "requested")

    # The update records its plan in the create_update event.
    result = project.run()
    events = [e for e in read_events(Location.local(project.root / "storage"))
              if e["event_type"] == "create_update" and e["origin"]["update_id"] == result.update_id]
    recorded = {p["flow"]: p for p in events[0]["details_json"]["create_update"]["plan"]}
    assert recorded["bronze"]["action"] == "incremental"
    assert recorded["bronze"]["sources"][0]["records"] == 1
    assert recorded["bronze"]["sources"][0]["end_fixed_at"] == "update start"
    assert recorded["silver"]["sources"][0]["end_fixed_at"] == "flow start"
    assert recorded["gold"]["action"] == "refresh"
    assert recorded["gold"]["technique"] == "NO_OP"  # planned before silver read bronze's rows
    ran = {f.planned.flow.name: f.metrics.details.get("technique") for f in result.flows}
    assert ran["gold"] == "GROUP_AGGREGATE"  # decided when the flow started
    # silver gained rows since gold's last refresh (a run of silver alone): previewed so.
    append(spark, source, [5])
    assert project.run(refresh=["bronze", "silver"]).state == UpdateState.COMPLETED
    with project.open() as pipeline:
        assert work_of(pipeline)["gold"].describe() == (
            "refresh: GROUP_AGGREGATE: 'silver' gained rows since the last refresh (decided "
            "when the flow starts)")


def test_dry_run_prints_the_plan_and_a_recovery(project, tmp_path, spark) -> None:
    setup(project, tmp_path, spark)
    env = {**os.environ, "LAKESMITH_CRASH_AT": "after_offsets:bronze:1"}
    crashed = subprocess.run([sys.executable, "-m", "lakesmith", "run"], cwd=project.root,
                             env=env, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    env.pop("LAKESMITH_CRASH_AT")
    dry = subprocess.run([sys.executable, "-m", "lakesmith", "dry-run"], cwd=project.root,
                         env=env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "Update plan:" in dry.stdout
    assert "recover batch 1, then incremental" in dry.stdout
    full = subprocess.run([sys.executable, "-m", "lakesmith", "dry-run", "--full-refresh-all"],
                          cwd=project.root, env=env, capture_output=True, text=True, timeout=120)
    assert full.returncode == 0, full.stderr
    assert full.stdout.count("reset (full refresh)") == 3
    rerun = subprocess.run([sys.executable, "-m", "lakesmith", "run"], cwd=project.root,
                           env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(r["id"] for r in project.rows("silver")) == [1, 2, 3]


def test_a_run_stops_at_what_its_sources_held_when_it_started(project, tmp_path, spark) -> None:
    """Trigger.AvailableNow: a writer that keeps appending cannot keep an update running."""
    source = setup(project, tmp_path, spark)
    appended = []

    class AppendWhileRunning:
        def update_progress(self, state, error=None) -> None:
            pass

        def flow_progress(self, flow, status, metrics=None, error=None) -> None:
            if flow.name == "bronze" and status == FlowStatus.RUNNING and metrics is not None:
                append(spark, source, [100 + len(appended)])  # after each of bronze's batches
                appended.append(metrics.batches)

    with project.open() as pipeline:
        result = pipeline.run(pipeline.plan(), AppendWhileRunning())
    assert result.state == UpdateState.COMPLETED
    assert appended == [1, 2]  # two batches: the two files there when the update started
    assert sorted(r["id"] for r in project.rows("bronze")) == [1, 2, 3]
    second = project.run()
    assert second.state == UpdateState.COMPLETED
    assert sorted(r["id"] for r in project.rows("bronze")) == [1, 2, 3, 100, 101]


def test_a_missing_data_file_fails_the_batch_and_loses_nothing(project, tmp_path, spark) -> None:
    """The engine skips a missing file of an explicit list silently; lakesmith must not."""
    source = setup(project, tmp_path, spark)
    assert project.run().state == UpdateState.COMPLETED
    append(spark, source, [7, 8])
    commit = (source / "_delta_log" / f"{2:020d}.json").read_text().splitlines()
    added = next(json.loads(line)["add"]["path"] for line in commit if '"add"' in line)
    shutil.move(source / added, tmp_path / "aside.parquet")
    failed = project.run()
    assert failed.state == UpdateState.FAILED
    message = str(failed.failed_flows[0].error)
    assert "FAILED_READ_FILE.FILE_NOT_EXIST" in message and added in message
    assert sorted(r["id"] for r in project.rows("bronze")) == [1, 2, 3]
    commits = project.root / "storage/checkpoints/spark_catalog.default.bronze/bronze/commits"
    assert sorted(p.name for p in commits.iterdir()) == ["0", "1"]
    shutil.move(tmp_path / "aside.parquet", source / added)
    assert project.run().state == UpdateState.COMPLETED
    assert sorted(r["id"] for r in project.rows("bronze")) == [1, 2, 3, 7, 8]
    assert sorted(r["id"] for r in project.rows("silver")) == [1, 2, 3, 7, 8]
