"""How an update runs: independent flows concurrently; Ctrl-C stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import read_rows
from lakesmith.runtime.events import FlowStatus, UpdateState

SLOW_FLOWS = """
import time
from pyspark import pipelines as dp
from pyspark.sql import functions as F
from pyspark.sql.types import LongType

@F.udf(LongType())
def slow_identity(x):
    time.sleep({sleep})
    return x

@dp.materialized_view
def left():
    return spark.range(1, 3, 1, 1).select(slow_identity("id").alias("id"))

@dp.materialized_view
def right():
    return spark.range(3, 5, 1, 1).select(slow_identity("id").alias("id"))

@dp.materialized_view
def both():
    return spark.read.table("left").union(spark.read.table("right"))
"""


class RunningFlows:
    """Records how many flows were RUNNING at the same time."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.max_running = 0
        self.lock = threading.Lock()

    def update_progress(self, state, error=None) -> None:
        pass

    def flow_progress(self, flow, status, metrics=None, error=None) -> None:
        with self.lock:
            if status == FlowStatus.RUNNING:
                self.running.add(flow.name)
                self.max_running = max(self.max_running, len(self.running))
            elif status.is_final:
                self.running.discard(flow.name)


def test_independent_flows_run_concurrently_dependents_wait(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", SLOW_FLOWS.format(sleep=0.4))
    recorder = RunningFlows()
    with project.open() as pipeline:
        result = pipeline.run(pipeline.plan(), recorder)
    assert result.state == UpdateState.COMPLETED
    assert recorder.max_running == 2  # left and right together; both only after them
    assert project.rows("both", order_by="id") == [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]


def start_slow_run(root: Path, sleep: float) -> subprocess.Popen:
    (root / "transformations").mkdir()
    (root / "spark-pipeline.yml").write_text(
        "name: p\nstorage: st\nlibraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "t.py").write_text(SLOW_FLOWS.format(sleep=sleep))
    process = subprocess.Popen([sys.executable, "-m", "lakesmith", "run"], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    for line in process.stdout:  # wait until a slow flow is running
        if "Flow 'left' is RUNNING" in line or "Flow 'right' is RUNNING" in line:
            return process
        assert time.monotonic() < deadline
    raise AssertionError("no flow started")


def test_ctrl_c_stops_running_flows_and_starts_no_new_one(tmp_path: Path) -> None:
    process = start_slow_run(tmp_path, sleep=1.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Update is CANCELED." in out and "Press Ctrl-C again" in out
    assert "Flow 'both' is SKIPPED." in out
    # The running flows were interrupted (not failed); what they wrote was never committed.
    assert "FAILED" not in out
    assert out.count("STOPPED") + out.count("is COMPLETED.") >= 2
    warehouse = tmp_path / "warehouse/spark_catalog/default"
    assert not (warehouse / "both").exists()
    rerun = subprocess.run([sys.executable, "-m", "lakesmith", "run"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(r["id"] for r in read_rows(warehouse / "both")) == [1, 2, 3, 4]


def test_second_ctrl_c_aborts_at_once(tmp_path: Path) -> None:
    process = start_slow_run(tmp_path, sleep=60)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Aborted" in err
    assert not (tmp_path / "warehouse/spark_catalog/default/left").exists()


def test_two_pipelines_run_at_once_in_one_process(tmp_path: Path, sail_url: str, spark) -> None:
    """No process-wide state in an update (working directory, thread pools, signal handlers):
    a scheduler or the web UI can run several pipelines in one process."""
    from conftest import Project

    projects = []
    for name in ("first", "second"):
        source = tmp_path / f"{name}_source"
        spark.range(5).selectExpr(f"id + {len(projects) * 100} AS id") \
            .write.format("delta").save(str(source))
        project = Project(tmp_path / name, sail_url)
        project.root.mkdir()
        project.write_spec(name=name, storage="storage", configuration={"source": str(source)})
        project.write("transformations/t.py", """
            from pyspark import pipelines as dp

            @dp.table
            def copy():
                return spark.readStream.format("delta").load(spark.conf.get("source"))

            @dp.materialized_view
            def total():
                return spark.read.table("copy").selectExpr("sum(id) AS total")
        """)
        projects.append(project)
    results: dict[str, object] = {}
    with projects[0].open() as first, projects[1].open() as second:
        threads = [threading.Thread(target=lambda p=p, n=n: results.__setitem__(
            n, p.run(p.plan()))) for n, p in (("first", first), ("second", second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert {n: r.state for n, r in results.items()} == {  # type: ignore[attr-defined]
        "first": UpdateState.COMPLETED, "second": UpdateState.COMPLETED}
    assert sorted(r["id"] for r in projects[0].rows("copy")) == [0, 1, 2, 3, 4]
    assert sorted(r["id"] for r in projects[1].rows("copy")) == [100, 101, 102, 103, 104]
    assert projects[0].rows("total") == [{"total": 10}]
    assert projects[1].rows("total") == [{"total": 510}]
    assert os.getcwd() == str(Path.cwd())  # nobody changed directory
