"""Crash at every point of the checkpoint protocol, then run again: no batch is lost or written
twice, in the target or in the deduplication state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import read_rows

PIPELINE = """
from pyspark import pipelines as dp

@dp.table
def events():
    return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
            .load(spark.conf.get("source")).dropDuplicates(["id"]))

@dp.table
def doubled():
    return spark.readStream.table("events").selectExpr("id * 2 AS id2")
"""


def lakesmith_run(root: Path, crash_at: str | None = None, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ}
    env.pop("LAKESMITH_CRASH_AT", None)
    if crash_at:
        env["LAKESMITH_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "lakesmith", "run", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def crash_project(tmp_path: Path, spark):
    root = tmp_path / "p"
    (root / "transformations").mkdir(parents=True)
    source = tmp_path / "source"
    spark.createDataFrame([(1,), (2,), (2,)], "id BIGINT").write.format("delta").save(str(source))
    spark.createDataFrame([(3,), (1,)], "id BIGINT").write.format("delta").mode("append").save(
        str(source))
    (root / "spark-pipeline.yml").write_text(
        f"name: p\nstorage: st\nconfiguration:\n  source: {source}\n"
        "libraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "t.py").write_text(PIPELINE)
    return root, source


def contents(root: Path) -> tuple[list[int], list[int]]:
    warehouse = root / "warehouse/spark_catalog/default"
    events = sorted(r["id"] for r in read_rows(warehouse / "events"))
    doubled = sorted(r["id2"] for r in read_rows(warehouse / "doubled"))
    return events, doubled


@pytest.mark.parametrize("point", [
    "before_offsets", "after_offsets", "after_output", "after_state", "after_commit"])
@pytest.mark.parametrize("batch", [0, 1])
def test_crash_then_rerun_is_exactly_once(crash_project, spark, point: str, batch: int) -> None:
    root, source = crash_project
    crashed = lakesmith_run(root, f"{point}:events:{batch}")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    rerun = lakesmith_run(root)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert contents(root) == ([1, 2, 3], [2, 4, 6])
    # New data after recovery is processed once, and deduplicated against the state.
    spark.createDataFrame([(3,), (4,)], "id BIGINT").write.format("delta").mode("append").save(
        str(source))
    again = lakesmith_run(root)
    assert again.returncode == 0, again.stdout + again.stderr
    assert contents(root) == ([1, 2, 3, 4], [2, 4, 6, 8])
    commits = root / "st/checkpoints/spark_catalog.default.events/events/commits"
    assert sorted(int(p.name) for p in commits.iterdir()) == [0, 1, 2]


@pytest.mark.parametrize("point", ["after_reset_marker", "after_truncate"])
def test_crash_during_full_refresh_is_finished_by_the_next_update(crash_project, point: str) -> None:
    """The reset marker makes the next update finish the reset (truncate, drop checkpoints)."""
    root, _ = crash_project
    assert lakesmith_run(root).returncode == 0
    crashed = lakesmith_run(root, point, "--full-refresh", "events,doubled")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    rerun = lakesmith_run(root)  # a plain update finishes the interrupted reset first
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert contents(root) == ([1, 2, 3], [2, 4, 6])
    assert not list((root / "st/checkpoints").glob("*/_reset_pending"))
