"""A crash at each point of an AUTO CDC batch (before its offsets, after them, after the MERGE,
after the state, after its commit record), then a run to the end: the target and the flow's state
are exactly what a run without the crash leaves, the next batch applies exactly once, and the event
log reports each batch's counts once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from lakesmith.runtime.checkpoint.crash import CRASH_ENV
from test_auto_cdc import append

CODE = """
import dlt
from pyspark.sql.functions import expr

@dlt.table
def users():
    return spark.readStream.format("delta").load(spark.conf.get("changes.path"))

dlt.create_streaming_table("target")
dlt.apply_changes(target="target", source="users", keys=["userId"], sequence_by="sequenceNum",
                  apply_as_deletes=expr("operation = 'DELETE'"),
                  except_column_list=["operation"], ignore_null_updates=True)
"""

BATCHES = [
    [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1), (3, "c", "z", "INSERT", 2)],
    [(1, None, "x2", "UPDATE", 3), (2, None, None, "DELETE", 4), (3, "old", "old", "UPDATE", 1),
     (4, "d", None, "INSERT", 1), (4, None, "w", "UPDATE", 2)],
    [(2, "late", "late", "UPDATE", 3), (4, "d2", None, "UPDATE", 5), (5, "e", "v", "INSERT", 1)],
]
POINTS = ("before_offsets", "after_offsets", "after_output", "after_state", "after_commit")
# Batch 0 inserts new keys only (an append of the target and of the state), batch 1 MERGEs.
DEFAULT = {("after_offsets", 0), ("after_output", 0), ("after_output", 1), ("after_state", 1)}


class Pipeline:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "transformations").mkdir(parents=True)
        (root / "transformations" / "cdc.py").write_text(CODE)
        self.changes = root / "changes"
        (root / "spark-pipeline.yml").write_text(
            f"name: p\nstorage: storage\nconfiguration:\n  changes.path: {self.changes}\n"
            "  spark.sql.warehouse.dir: warehouse\n"
            "libraries:\n  - glob:\n      include: transformations/**\n")

    # The command that runs lakesmith in a fresh process.
    command: tuple[str, ...] = (sys.executable, "-m", "lakesmith")

    def run(self, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash_at:
            env[CRASH_ENV] = crash_at
        return subprocess.run([*self.command, "run", "--spec",
                               str(self.root / "spark-pipeline.yml")], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=120)

    def tables(self) -> tuple[list, list]:
        """The target's rows and the state's rows, sorted (the state without its times)."""
        target = self.root / "warehouse" / "spark_catalog" / "default" / "target"
        states = list((self.root / "storage").glob(
            "checkpoints/*target*/target/state/cdc-state"))
        state = DeltaTable(str(states[0])).to_pyarrow_table().to_pylist() if states else []
        return (sorted(tuple(r.values()) for r in DeltaTable(str(target))
                       .to_pyarrow_table().to_pylist()),
                sorted(tuple(v for k, v in r.items() if not k.endswith("deleted_at_ms"))
                       for r in state))


    def reported(self) -> dict[str, int]:
        """The AUTO CDC counts the event log reports for flow 'target', summed over updates."""
        events = DeltaTable(str(self.root / "storage" / "system" / "events")) \
            .to_pyarrow_table().to_pylist()
        totals: dict[str, int] = {}
        for event in events:
            if event["event_type"] != "flow_progress" or \
                    event["origin"]["flow_name"] != "target":
                continue
            metrics = json.loads(event["details"])["flow_progress"].get("metrics", {})
            for key, value in metrics.items():
                if key.startswith(("num_upserted", "num_deleted", "num_versions")):
                    totals[key] = totals.get(key, 0) + value
        return totals


    def recorded_counts(self, batch: int) -> dict[str, int]:
        """What the checkpoint recorded for batch `batch` before its MERGE."""
        (record,) = (self.root / "storage").glob(
            f"checkpoints/*target*/target/state/cdc-counts/{batch}")
        return dict(json.loads(record.read_text()))


def reported_once(pipeline: Pipeline, expected: dict[str, int], point: str,
                  batch: int) -> dict[str, int]:
    """The counts the event log must report after a crash at `point` in batch `batch`: every
    batch once (a rerun reports the counts its first run recorded). A crash after the commit
    record kills the update before its events were written: that batch is not run again, so its
    counts (recorded in the checkpoint) are the ones missing, never counted twice."""
    if point != "after_commit":
        return expected
    lost = pipeline.recorded_counts(batch)
    return {key: value - lost.get(key, 0) for key, value in expected.items()}


def ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The tables after each batch, from runs without crashes, then the counts reported."""
    pipeline = Pipeline(tmp_path_factory.mktemp("reference") / "p")
    found: list[Any] = []
    for rows in BATCHES:
        append(pipeline.changes, rows)
        ok(pipeline.run())
        found.append(pipeline.tables())
    return [*found, pipeline.reported()]


def test_the_reference_counts(expected) -> None:
    # Upserted: 3 keys; then keys 1 and 4 (2 deleted, 3's update is older); then 4 and 5.
    assert expected[3] == {"num_upserted_rows": 7, "num_deleted_rows": 1}


@pytest.mark.parametrize(("point", "batch"), [
    pytest.param(point, batch, id=f"{point}-{batch}",
                 marks=() if (point, batch) in DEFAULT else (pytest.mark.slow,))
    for point in POINTS for batch in (0, 1)])
def test_crash_then_rerun_leaves_the_tables_as_one_run(tmp_path, expected, point, batch) -> None:
    pipeline = Pipeline(tmp_path / "p")
    for number, rows in enumerate(BATCHES[:2]):
        append(pipeline.changes, rows)
        if number == batch:
            crashed = pipeline.run(f"{point}:target:{batch}")
            assert crashed.returncode == 137, crashed.stdout + crashed.stderr
        ok(pipeline.run())
        assert pipeline.tables() == expected[number]
    ok(pipeline.run())  # nothing new
    assert pipeline.tables() == expected[1]
    append(pipeline.changes, BATCHES[2])
    ok(pipeline.run())
    assert pipeline.tables() == expected[2]
    assert pipeline.reported() == reported_once(pipeline, expected[3], point, batch)
