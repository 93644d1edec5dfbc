"""The keys a streaming deduplication has seen are compacted every few batches (each batch appends
a file or two, and every batch reads them all): a real pipeline over four runs, compacting before
its third and fifth batches, keeps its rows, its state and Spark's counts exact, still drops a
late duplicate of a key seen in the first run, and, killed at each point of a compacting batch
and run again, lands it once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, write_deltalake

from conftest import Project, read_rows
from lakesmith.cdc import upkeep
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint.crash import CRASH_ENV
from lakesmith.runtime.eventlog_queries import quality, read_events
from lakesmith.runtime.events import UpdateState
from lakesmith.runtime.streaming.operators import deduplicate

Row = tuple[int | None, float, str]

RUNS: list[list[Row]] = [
    [(1, 1.0, "a"), (2, -2.0, "b-negative"), (3, 3.0, "c")],
    [(4, 4.0, "d"), (1, 10.0, "a-again"), (5, 5.0, "e")],
    # compacted before this batch: 2 is a late duplicate of a key dropped by the rule in run 1
    [(2, 20.0, "b-late"), (6, 6.0, "f"), (6, 60.0, "f-dup"), (7, -7.0, "g-negative")],
    [(8, 8.0, "h"), (3, 30.0, "c-late")],
]
OUTPUT = [(1, "a"), (3, "c"), (4, "d"), (5, "e"), (6, "f"), (8, "h")]
STATE = [(1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, 2), (7, 2), (8, 3)]  # key, batch that saw it
# The third batch (the one compacting): 4 rows in, 2 keys added, 2 duplicates dropped.
PROGRESS_3 = {"numRowsTotal": 7, "numRowsUpdated": 2, "numRowsRemoved": 0,
              "numRowsDroppedByWatermark": 0, "customMetrics": {"numDroppedDuplicateRows": 2}}
CODE = """
import dlt


@dlt.table
@dlt.expect_or_drop("positive", "amount > 0")
def orders():
    return (spark.readStream.format("delta").load(spark.conf.get("source"))
            .select("order_id", "amount", "note").dropDuplicates(["order_id"]))
"""
# The CLI with compaction every 2 batches, for runs in a process of their own.
RUNNER = """
import sys
from lakesmith.cdc import upkeep
from lakesmith.runtime.streaming.operators import deduplicate
from lakesmith.cli import main

upkeep.EVERY_BATCHES = deduplicate.EVERY_BATCHES = 2
sys.argv = ["lakesmith", *sys.argv[1:]]
main()
"""
# The batch compacts before its offsets are recorded, and must not once its keys have landed:
# those two points by default; every point with -m slow (each case starts four processes).
POINTS = [pytest.param("before_offsets", marks=pytest.mark.slow), "after_offsets",
          pytest.param("after_output", marks=pytest.mark.slow), "after_state",
          pytest.param("after_commit", marks=pytest.mark.slow)]


def land(source: Path, rows: list[Row]) -> None:
    write_deltalake(str(source), pa.table({
        "order_id": pa.array([r[0] for r in rows], pa.int64()),
        "amount": pa.array([r[1] for r in rows], pa.float64()),
        "note": pa.array([r[2] for r in rows], pa.string())}), mode="append")


def state_table(project: Project) -> Path:
    folder = project.root / "storage/checkpoints/spark_catalog.default.orders/orders/state"
    (state,) = [d for d in folder.iterdir() if d.name.startswith("dedup-")]
    return state


def state_rows(project: Project) -> list[tuple]:
    return sorted((r["order_id"], r["__lakesmith_batch"]) for r in read_rows(state_table(project)))


def output(project: Project) -> list[tuple]:
    return sorted((r["order_id"], r["note"]) for r in read_rows(project.table_path("orders")))


def batch_files(project: Project) -> list[tuple[int, int]]:
    """The state's files, each as the (lowest, highest) batch of its keys."""
    table = DeltaTable(str(state_table(project)))
    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    return sorted((a["min.__lakesmith_batch"], a["max.__lakesmith_batch"]) for a in actions)


def progress(project: Project, update_id: str) -> dict:
    events = read_events(Location.local(project.root / "storage"))
    (event,) = [e for e in events if e["event_type"] == "flow_progress"
                and e["origin"]["update_id"] == update_id
                and e["details_json"]["flow_progress"]["status"] == "COMPLETED"]
    (operator,) = event["details_json"]["flow_progress"]["metrics"]["stateOperators"]
    return {k: v for k, v in operator.items() if k != "operatorName"}


def expectations(project: Project, update_id: str) -> tuple[int, int]:
    (rule,) = quality(read_events(Location.local(project.root / "storage")), update_id)
    return rule.passed, rule.failed


@pytest.fixture
def source(project: Project, tmp_path: Path) -> Path:
    project.write_spec(configuration={"source": str(tmp_path / "source")})
    project.write("transformations/orders.py", CODE)
    return tmp_path / "source"


def test_state_compacted_every_few_batches_keeps_rows_and_counts(
        project: Project, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(upkeep, "EVERY_BATCHES", 2)
    monkeypatch.setattr(deduplicate, "EVERY_BATCHES", 2)
    results = []
    for rows in RUNS[:2]:
        land(source, rows)
        results.append(project.run())
    assert all(r.state == UpdateState.COMPLETED for r in results)
    appended = batch_files(project)
    assert appended[0] == (0, 0) and appended[-1] == (1, 1)

    land(source, RUNS[2])
    third = project.run()
    assert third.state == UpdateState.COMPLETED
    # batches 0 and 1 in one uncompressed file, then batch 2's own
    assert set(batch_files(project)) == {(0, 1), (2, 2)}
    table = DeltaTable(str(state_table(project)))
    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    (compacted,) = [a["path"] for a in actions if a["max.__lakesmith_batch"] == 1]
    metadata = pq.ParquetFile(state_table(project) / compacted).metadata
    assert metadata.row_group(0).column(0).compression == "UNCOMPRESSED"
    on_disk = {p.name for p in state_table(project).glob("*.parquet")}
    assert on_disk == {a["path"] for a in actions}  # the replaced files dropped
    assert progress(project, third.update_id) == PROGRESS_3
    assert expectations(project, third.update_id) == (1, 1)  # f kept, g dropped

    land(source, RUNS[3])
    fourth = project.run()
    assert fourth.state == UpdateState.COMPLETED
    assert output(project) == OUTPUT
    assert state_rows(project) == STATE
    assert progress(project, fourth.update_id)["numRowsTotal"] == 8


@pytest.mark.parametrize("point", POINTS)
def test_a_compacting_batch_killed_at_each_point_lands_once(
        project: Project, source: Path, tmp_path: Path, point: str) -> None:
    runner = tmp_path / "run_compacting.py"
    runner.write_text(RUNNER)

    def run(crash: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash:
            env[CRASH_ENV] = crash
        return subprocess.run(
            [sys.executable, str(runner), "run", "--spec", str(project.spec_path)],
            cwd=project.root, env=env, capture_output=True, text=True, timeout=120)

    for rows in RUNS[:2]:
        land(source, rows)
        assert run().returncode == 0
    land(source, RUNS[2])
    crashed = run(f"{point}:orders:2")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    assert run().returncode == 0
    land(source, RUNS[3])
    assert run().returncode == 0
    assert output(project) == OUTPUT
    assert state_rows(project) == STATE
    assert set(batch_files(project)) == {(0, 1), (2, 2), (3, 3)}
