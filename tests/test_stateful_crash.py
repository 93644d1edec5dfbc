"""A streaming aggregation killed at each point of a batch that both emits windows and evicts state,
then run again: the target holds exactly Spark's rows (none lost, none twice) and the state the
same rows as after a run without the crash. A full refresh clears the state and recomputes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from conftest import read_rows
from lakesmith.runtime.checkpoint.crash import CRASH_ENV
from test_stateful_golden import GOLDEN, append, normalized

(SCENARIO,) = [s for s in GOLDEN["scenarios"] if s["name"] == "tumbling_backlog"]
# Batch 2 is the first that outputs windows and removes state rows (see the golden file).
CRASH_BATCH = 2
FAST = ("after_output", "after_state")
POINTS = [pytest.param(p, marks=[] if p in FAST else [pytest.mark.slow])
          for p in ("before_offsets", "after_offsets", "after_output", "after_state",
                    "after_commit")]


class Pipeline:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.source = root / "source"
        (root / "transformations").mkdir(parents=True)
        (root / "transformations" / "t.py").write_text(
            "from pyspark import pipelines as dp\n"
            "from pyspark.sql import functions as F\n\n"
            "@dp.table\n"
            "def result():\n"
            "    inputs = [spark.readStream.format('delta').option('maxFilesPerTrigger', '1')"
            ".load(spark.conf.get('source'))]\n"
            f"    return {SCENARIO['query']}\n")
        (root / "spark-pipeline.yml").write_text(
            f"name: p\nstorage: storage\nconfiguration:\n  source: {self.source}\n"
            "  spark.sql.warehouse.dir: warehouse\n"
            "libraries:\n  - glob:\n      include: transformations/**\n")

    def run(self, *options: str, crash_at: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash_at:
            env[CRASH_ENV] = crash_at
        return subprocess.run([sys.executable, "-m", "lakesmith", "run", "--spec",
                               str(self.root / "spark-pipeline.yml"), *options], cwd=self.root,
                              env=env, capture_output=True, text=True, timeout=300)

    def output(self) -> list[str]:
        return normalized(read_rows(self.root / "warehouse/spark_catalog/default/result"))

    def state(self) -> list[tuple]:
        (state,) = (self.root / "storage").glob("checkpoints/*result*/result/state/*")
        return sorted(tuple(r.values()) for r in DeltaTable(str(state)).to_pyarrow_table()
                      .to_pylist())

    def commits(self) -> list[dict]:
        (folder,) = (self.root / "storage").glob("checkpoints/*result*/result/commits")
        return [json.loads(p.read_text()) for p in sorted(folder.iterdir(), key=lambda p:
                                                             int(p.name))]


def ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, sail_url: str) -> Pipeline:
    """A run without a crash, over the same input."""
    from pyspark.sql.connect.session import SparkSession

    pipeline = Pipeline(tmp_path_factory.mktemp("reference") / "p")
    spark = SparkSession.builder.remote(sail_url).create()
    for batch in SCENARIO["inputs"][0]:
        append(spark, pipeline.source, batch)
    spark.stop()
    ok(pipeline.run())
    assert pipeline.output() == normalized(SCENARIO["total"])
    return pipeline


@pytest.mark.parametrize("point", POINTS)
def test_crash_then_rerun_outputs_each_window_once(tmp_path, spark, reference, point) -> None:
    pipeline = Pipeline(tmp_path / "p")
    for batch in SCENARIO["inputs"][0]:
        append(spark, pipeline.source, batch)
    crashed = pipeline.run(crash_at=f"{point}:result:{CRASH_BATCH}")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    ok(pipeline.run())
    assert pipeline.output() == normalized(SCENARIO["total"])
    assert pipeline.state() == reference.state()
    assert [c["watermark_ms"] for c in pipeline.commits()] == [
        b["next_watermark_ms"] for b in SCENARIO["batches"]]


def test_full_refresh_clears_the_state_and_recomputes(tmp_path, spark, reference) -> None:
    pipeline = Pipeline(tmp_path / "p")
    for batch in SCENARIO["inputs"][0]:
        append(spark, pipeline.source, batch)
    ok(pipeline.run())
    ok(pipeline.run("--full-refresh-all"))
    assert pipeline.output() == normalized(SCENARIO["total"])
    assert pipeline.state() == reference.state()
    assert len(pipeline.commits()) == len(SCENARIO["batches"])
