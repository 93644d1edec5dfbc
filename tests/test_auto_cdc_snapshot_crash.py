"""A crash at each point of an AUTO CDC from snapshots batch (before its offsets, after them,
after the MERGE, after its commit record), then a run to the end: the target is exactly what a
run without the crash leaves, and the next snapshot applies once; for SCD types 1 and 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from lakesmith.runtime.checkpoint.crash import CRASH_ENV
from test_auto_cdc_snapshot import (
    FUNCTION_SOURCE,
    RESULT_1,
    RESULT_2,
    SNAPSHOT_1,
    SNAPSHOT_2,
    write,
)
from test_auto_cdc_snapshot_scd2 import FUNCTION_SCD2, HISTORY_1, HISTORY_2, VIEW_SOURCE, row

SNAPSHOT_3 = [(3, "a3", "b3"), (5, "a5", None)]
RESULT_3 = [{"Key": 3, "TrackingColumn": "a3", "NonTrackingColumn": "b3"},
            {"Key": 5, "TrackingColumn": "a5", "NonTrackingColumn": None}]
HISTORY_3 = [row(1, "a1", "b1", 1, 2), row(2, "a2", "b2", 1, 2), row(2, "a2_new", "b2", 2, 3),
             row(3, "a3", "b3", 2, None), row(4, "a4", "b4_new", 1, 3), row(5, "a5", None, 3, None)]
POINTS = ("before_offsets", "after_offsets", "after_output", "after_commit")
DEFAULT = {("after_output", 1)}
# Per SCD type: the pipeline, and the target after each snapshot.
CASES = {1: (FUNCTION_SOURCE, [RESULT_1, RESULT_2, RESULT_3]),
         2: (FUNCTION_SCD2, [HISTORY_1, HISTORY_2, HISTORY_3])}


class Pipeline:
    def __init__(self, root: Path, code: str) -> None:
        self.root = root
        (root / "transformations").mkdir(parents=True)
        (root / "transformations" / "cdc.py").write_text(code)
        self.snapshots = root / "snapshots"
        self.snapshots.mkdir()
        (root / "spark-pipeline.yml").write_text(
            f"name: p\nstorage: storage\nconfiguration:\n  snapshots.path: {self.snapshots}\n"
            "  spark.sql.warehouse.dir: warehouse\n"
            "libraries:\n  - glob:\n      include: transformations/**\n")

    def run(self, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash_at:
            env[CRASH_ENV] = crash_at
        return subprocess.run([sys.executable, "-m", "lakesmith", "run", "--spec",
                               str(self.root / "spark-pipeline.yml")], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=120)

    def target(self) -> list[dict]:
        path = self.root / "warehouse" / "spark_catalog" / "default" / "target"
        return sorted(DeltaTable(str(path)).to_pyarrow_table().to_pylist(),
                      key=lambda r: (r["Key"], r.get("__START_AT")))


def ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("scd", "point", "batch"), [
    pytest.param(scd, point, batch, id=f"scd{scd}-{point}-{batch}",
                 marks=() if (point, batch) in DEFAULT else (pytest.mark.slow,))
    for scd in (1, 2) for point in POINTS for batch in (0, 1)])
def test_crash_then_rerun_leaves_the_target_as_one_run(tmp_path, scd, point, batch) -> None:
    code, results = CASES[scd]
    pipeline = Pipeline(tmp_path / "p", code)
    for number, rows in enumerate([SNAPSHOT_1, SNAPSHOT_2]):
        write(pipeline.snapshots / f"snapshot_{number + 1}", rows)
        if number == batch:
            crashed = pipeline.run(f"{point}:target:{batch}")
            assert crashed.returncode == 137, crashed.stdout + crashed.stderr
        ok(pipeline.run())
        assert pipeline.target() == results[number]
    ok(pipeline.run())  # nothing new
    assert pipeline.target() == results[1]
    write(pipeline.snapshots / "snapshot_3", SNAPSHOT_3)
    ok(pipeline.run())
    assert pipeline.target() == results[2]
    offsets = sorted((tmp_path / "p" / "storage").glob("checkpoints/*target*/target/offsets/*"))
    assert [p.name for p in offsets][-1] == "2"  # one batch per snapshot, none twice


def test_a_view_snapshot_is_applied_as_read_before_the_crash(tmp_path) -> None:
    """The view's rows are copied before the batch is recorded: after a crash, the rerun applies
    snapshot 2 as the first run read it, although the view now gives other rows (snapshot 3,
    applied next)."""
    pipeline = Pipeline(tmp_path / "p", VIEW_SOURCE)
    current = pipeline.snapshots / "current"
    write(current, SNAPSHOT_1)
    ok(pipeline.run())
    write(current, SNAPSHOT_2, mode="overwrite")
    crashed = pipeline.run("after_offsets:target:1")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    write(current, SNAPSHOT_3, mode="overwrite")
    ok(pipeline.run())
    assert pipeline.target() == HISTORY_3
