"""Bounded growth: checkpoints keep a bounded number of records, an idle continuous update writes
nothing, and materialized views' replaced files are vacuumed under the table's retention."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable

from conftest import read_rows
from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import read_events
from lakesmith.runtime.events import FlowStatus, UpdateState
from lakesmith.stopping import StopRequest

COPY = """
from pyspark import pipelines as dp

@dp.table
def copy():
    return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
            .load(spark.conf.get("source")).dropDuplicates(["id"]))

@dp.materialized_view(table_properties={"delta.deletedFileRetentionDuration": "interval 0 hours"})
def total():
    return spark.read.table("copy").groupBy().count()
"""


def append(spark, path, ids: list[int]) -> None:
    spark.createDataFrame([(i,) for i in ids], "id BIGINT").write.format("delta") \
        .mode("append").save(str(path))


def files(folder: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(folder))


def test_checkpoint_logs_keep_min_batches_to_retain(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    for i in range(8):
        append(spark, source, [i, i])
    project.write_spec(configuration={"source": str(source),
                                      "spark.sql.streaming.minBatchesToRetain": "3"})
    project.write("transformations/t.py", COPY)
    assert project.run().state == UpdateState.COMPLETED
    checkpoint = project.root / "storage/checkpoints/spark_catalog.default.copy/copy"
    assert sorted(int(p.name) for p in (checkpoint / "offsets").iterdir()) == [5, 6, 7]
    assert sorted(int(p.name) for p in (checkpoint / "commits").iterdir()) == [5, 6, 7]
    append(spark, source, [8, 1])
    assert project.run().state == UpdateState.COMPLETED
    assert sorted(r["id"] for r in project.rows("copy")) == list(range(9))
    assert sorted(int(p.name) for p in (checkpoint / "offsets").iterdir()) == [6, 7, 8]


def test_materialized_view_files_are_vacuumed_under_their_retention(project, tmp_path,
                                                                   spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [1])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", COPY)
    for i in range(11):  # new input each run, so each run refreshes the view
        append(spark, source, [i + 2])
        assert project.run().state == UpdateState.COMPLETED
    table = DeltaTable(str(project.table_path("total")))
    assert table.version() >= 10
    parquet = [p for p in project.table_path("total").rglob("*.parquet")
               if "_delta_log" not in p.parts]
    assert len(parquet) <= 3  # not one per refresh
    assert read_rows(project.table_path("total")) == [{"count": 12}]


def settled(*folders: Path) -> tuple[int, ...]:
    """The folders' file counts once the cycle that wrote them is over: the same for 2 s (a
    loaded machine can take longer than a fixed wait to finish a cycle's writes)."""
    deadline = time.monotonic() + 60
    counts = tuple(files(f) for f in folders)
    while time.monotonic() < deadline:
        time.sleep(2)
        now = tuple(files(f) for f in folders)
        if now == counts:
            return counts
        counts = now
    raise AssertionError(f"files under {folders} kept changing for 60 s")


def test_an_idle_continuous_update_writes_nothing(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [1, 2])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", COPY)
    process = subprocess.Popen(
        [sys.executable, "-m", "lakesmith", "run", "--continuous", "--trigger-interval", "200ms"],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    storage, warehouse = project.root / "storage", project.root / "warehouse"
    try:
        deadline = time.monotonic() + 60
        while not (warehouse / "spark_catalog/default/total").exists():
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        counts = settled(storage, warehouse)
        time.sleep(2)  # about ten idle cycles
        assert (files(storage), files(warehouse)) == counts
        append(spark, source, [3])
        deadline = time.monotonic() + 30
        while read_rows(warehouse / "spark_catalog/default/total") != [{"count": 3}]:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        counts = settled(storage, warehouse)
        time.sleep(1.5)
        assert (files(storage), files(warehouse)) == counts
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.count("Flow 'copy' is COMPLETED") == 2  # idle cycles are not logged
    # Each stretch of idle cycles is one line, and the summary covers the whole run.
    assert out.count("no new data; waiting for more.") == 2, out
    summary = out[out.rindex("dataset "):]
    copy = next(line.split() for line in summary.splitlines() if line.startswith("copy "))
    # The stop lands in an idle cycle: before the flow starts (it shows its latest outcome) or
    # while it checks for data (STOPPED); either way the counts are the whole run's.
    assert copy[4] in ("COMPLETED", "STOPPED") and copy[5:8] == ["2", "3", "3"], summary
    total = next(line.split() for line in summary.splitlines() if line.startswith("total "))
    assert total[5] == "1", summary  # a materialized view shows its latest refresh: one row
    assert "cycles)." in summary


class StopWhenQueued:
    """Requests the update's stop when `flow` is queued for the `cycle`-th time: the stop lands
    between two cycles' starts, before any flow of that cycle runs."""

    def __init__(self, stop: StopRequest, flow: str, cycle: int) -> None:
        self.stop, self.flow, self.cycle, self.queued = stop, flow, cycle, 0

    def update_progress(self, state, error=None) -> None:
        pass

    def flow_progress(self, flow, status, metrics=None, error=None) -> None:
        if flow.name == self.flow and status == FlowStatus.QUEUED:
            self.queued += 1
            if self.queued == self.cycle:
                self.stop.request("test")


def test_a_continuous_update_stopped_between_cycles_reports_the_whole_run(project, tmp_path,
                                                                           spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [1, 2])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", COPY)
    stop = StopRequest()
    with project.open() as pipeline:
        result = pipeline.run(pipeline.plan(), StopWhenQueued(stop, "copy", cycle=3),
                              continuous=True, trigger_interval=0.05, stop=stop)
    assert result.state == UpdateState.CANCELED and result.cycles == 3
    flows = {r.planned.name: r for r in result.flows}
    # Cycle 3 never started its flows: the summary shows how each flow's latest run ended, and
    # the streaming flow's counts over cycles 1-2 (one batch of the one file), not an empty SKIPPED.
    assert flows["copy"].status == FlowStatus.COMPLETED
    assert (flows["copy"].metrics.batches, flows["copy"].metrics.num_output_rows) == (1, 2)
    assert flows["copy"].metrics.details["num_input_rows"] == 2
    assert flows["total"].status == FlowStatus.COMPLETED
    assert read_rows(project.table_path("total")) == [{"count": 2}]
    # The event log still says what happened in cycle 3: both flows were skipped by the stop.
    last = {e["origin"]["flow_name"]: json.loads(e["details"])["flow_progress"]["status"]
            for e in read_events(Location.local(project.root / "storage"))
            if e["event_type"] == "flow_progress"}
    assert last == {"copy": "SKIPPED", "total": "SKIPPED"}


@pytest.mark.slow
def test_soak_continuous_updates_keep_checkpoints_bounded(project, tmp_path, spark) -> None:
    """Two minutes of continuous mode at 1 s triggers with data arriving: the checkpoint keeps
    at most minBatchesToRetain records per log, whatever the number of batches."""
    source = tmp_path / "source"
    append(spark, source, [0])
    project.write_spec(configuration={"source": str(source),
                                      "spark.sql.streaming.minBatchesToRetain": "10"})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table
        def copy():
            return spark.readStream.format("delta").load(spark.conf.get("source"))
    """)
    process = subprocess.Popen(
        [sys.executable, "-m", "lakesmith", "run", "--continuous", "--trigger-interval", "1s"],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoint = project.root / "storage/checkpoints/spark_catalog.default.copy/copy"
    counts = []
    try:
        started = time.monotonic()
        next_id = 1
        while time.monotonic() - started < 120:
            append(spark, source, [next_id])
            next_id += 1
            time.sleep(1.5)
            assert process.poll() is None, process.communicate()
            if (checkpoint / "offsets").exists():
                counts.append(files(checkpoint))
        deadline = time.monotonic() + 30
        while sorted(r["id"] for r in read_rows(project.table_path("copy"))) \
                != list(range(next_id)):
            assert time.monotonic() < deadline
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
    assert process.returncode == 0
    assert max(counts) <= 2 * 10 + 1  # offsets + commits + metadata.json
    assert len(list((checkpoint / "offsets").iterdir())) <= 10
