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
    def __init__(self, root: Path, scenario: dict = SCENARIO) -> None:
        self.root = root
        self.scenario = scenario
        self.sources = [root / f"source{i}" for i in range(len(scenario["inputs"]))]
        (root / "transformations").mkdir(parents=True)
        if "sql" in scenario:
            self._write_sql()
        else:
            self._write_python()
        (root / "spark-pipeline.yml").write_text(
            "name: p\nstorage: storage\nconfiguration:\n"
            f"  sources: {','.join(str(s) for s in self.sources)}\n"
            "  spark.sql.warehouse.dir: warehouse\n"
            "libraries:\n  - glob:\n      include: transformations/**\n")

    def _write_sql(self) -> None:
        """The scenario's SQL over `STREAM(srcN)`, views of the inputs read a file per batch."""
        (self.root / "transformations" / "inputs.py").write_text(
            "from pyspark import pipelines as dp\n\n"
            "def stream(path):\n"
            "    return lambda: (spark.readStream.format('delta')"
            ".option('maxFilesPerTrigger', '1').load(path))\n\n"
            "for i, path in enumerate(spark.conf.get('sources').split(',')):\n"
            "    dp.temporary_view(stream(path), name=f'src{i}')\n")
        query = self.scenario["sql"].format(**{f"src{i}": f"STREAM(src{i})"
                                               for i in range(len(self.sources))})
        (self.root / "transformations" / "result.sql").write_text(
            f"CREATE OR REFRESH STREAMING TABLE result AS\n{query};\n")

    def _write_python(self) -> None:
        root = self.root
        scenario = self.scenario
        (root / "transformations" / "t.py").write_text(
            "from pyspark import pipelines as dp\n"
            "from pyspark.sql import functions as F\n\n"
            "@dp.table\n"
            "def result():\n"
            "    inputs = [spark.readStream.format('delta').option('maxFilesPerTrigger', '1')"
            ".load(p) for p in spark.conf.get('sources').split(',')]\n"
            f"    return {scenario['query']}\n")

    def feed(self, spark) -> None:
        for source, batches in zip(self.sources, self.scenario["inputs"], strict=True):
            for batch in batches:
                append(spark, source, batch)

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
        states = sorted((self.root / "storage").glob("checkpoints/*result*/result/state/*"))
        return [sorted(tuple(r.values()) for r in DeltaTable(str(state)).to_pyarrow_table()
                       .to_pylist()) for state in states]

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
    pipeline.feed(spark)
    spark.stop()
    ok(pipeline.run())
    assert pipeline.output() == normalized(SCENARIO["total"])
    return pipeline


@pytest.mark.parametrize("point", POINTS)
def test_crash_then_rerun_outputs_each_window_once(tmp_path, spark, reference, point) -> None:
    pipeline = Pipeline(tmp_path / "p")
    pipeline.feed(spark)
    crashed = pipeline.run(crash_at=f"{point}:result:{CRASH_BATCH}")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    ok(pipeline.run())
    assert pipeline.output() == normalized(SCENARIO["total"])
    assert pipeline.state() == reference.state()
    assert [c["watermark_ms"] for c in pipeline.commits()] == [
        b["next_watermark_ms"] for b in SCENARIO["batches"]]


def test_full_refresh_clears_the_state_and_recomputes(tmp_path, spark, reference) -> None:
    pipeline = Pipeline(tmp_path / "p")
    pipeline.feed(spark)
    ok(pipeline.run())
    ok(pipeline.run("--full-refresh-all"))
    assert pipeline.output() == normalized(SCENARIO["total"])
    assert pipeline.state() == reference.state()
    assert len(pipeline.commits()) == len(SCENARIO["batches"])


@pytest.mark.parametrize("point", ["after_output", "after_state"])
@pytest.mark.parametrize("name", ["join_right_outer_backlog", "sql_sliding_computed_watermark"])
def test_crash_in_an_emitting_batch_then_rerun_outputs_each_row_once(tmp_path, spark, name,
                                                                     point) -> None:
    """Killed in batch 2, which outputs rows and evicts state: a right outer join (its first
    unmatched row), and the SQL form of a windowed aggregation (WATERMARK clause, GROUP BY
    window, HAVING). The rerun outputs Spark's rows, each once."""
    (scenario,) = [s for s in GOLDEN["scenarios"] if s["name"] == name]
    pipeline = Pipeline(tmp_path / "p", scenario)
    pipeline.feed(spark)
    crashed = pipeline.run(crash_at=f"{point}:result:2")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    ok(pipeline.run())
    assert pipeline.output() == normalized(scenario["total"])
    assert [c["watermark_ms"] for c in pipeline.commits()] == [
        b["next_watermark_ms"] for b in scenario["batches"]]
