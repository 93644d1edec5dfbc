"""Stops are clean: Ctrl-C or SIGTERM at any moment ends the command within seconds (a second
one at once) and commits nothing half-way; a killed update is shown as killed; a closed stdout
is not a pipeline error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import read_rows

PIPELINE = """
import time
from pyspark import pipelines as dp
from pyspark.sql import functions as F
from pyspark.sql.types import LongType

@F.udf(LongType())
def slow(x):
    time.sleep({sleep})
    return x

@dp.table
def bronze():
    return spark.readStream.format("delta").load(spark.conf.get("source"))

@dp.table
def silver():
    return spark.readStream.table("bronze").select(slow("id").alias("id"))

@dp.materialized_view
def gold():
    return spark.read.table("silver").groupBy().count()
"""


def make_project(root: Path, spark, sleep: float) -> Path:
    (root / "transformations").mkdir(parents=True)
    source = root.parent / "source"
    spark.range(1, 4).write.format("delta").save(str(source))
    (root / "spark-pipeline.yml").write_text(
        f"name: p\nstorage: st\nconfiguration:\n  source: {source}\n"
        "libraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "t.py").write_text(PIPELINE.format(sleep=sleep))
    return root


def start(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lakesmith", "run", *args], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_for_line(process: subprocess.Popen, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    for line in process.stdout:
        if text in line:
            return
        assert time.monotonic() < deadline, f"no line with {text!r}"
    raise AssertionError(f"the process ended without printing {text!r}")


def lakesmith(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lakesmith", *args], cwd=root,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("delay", [0.3, 0.9, 1.6])
def test_ctrl_c_at_any_moment_stops_within_seconds(tmp_path: Path, spark, delay: float) -> None:
    """Set-up, source loading, graph analysis or the update itself: each stops promptly."""
    root = make_project(tmp_path / "p", spark, sleep=0)
    process = start(root)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - sent < 10, out + err
    assert process.returncode in (0, 130), out + err  # 0: it had already finished
    assert "Traceback" not in err
    rerun = lakesmith(root, "run")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    warehouse = root / "warehouse/spark_catalog/default"
    assert sorted(r["id"] for r in read_rows(warehouse / "silver")) == [1, 2, 3]
    assert read_rows(warehouse / "gold") == [{"count": 3}]


def test_sigterm_stops_an_update_like_ctrl_c(tmp_path: Path, spark) -> None:
    root = make_project(tmp_path / "p", spark, sleep=1.0)
    process = start(root)
    wait_for_line(process, "Flow 'silver' is RUNNING")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, out + err
    assert "Update is CANCELED." in out
    runs = lakesmith(root, "runs")
    assert "CANCELED" in runs.stdout
    assert lakesmith(root, "run").returncode == 0
    assert sorted(r["id"] for r in read_rows(root / "warehouse/spark_catalog/default/silver")) \
        == [1, 2, 3]


def test_a_killed_update_is_shown_as_killed(tmp_path: Path, spark) -> None:
    root = make_project(tmp_path / "p", spark, sleep=2.0)
    process = start(root)
    wait_for_line(process, "Flow 'silver' is RUNNING")
    time.sleep(1.2)  # past the event log's first flushes
    process.kill()
    process.wait(timeout=30)
    runs = lakesmith(root, "runs")
    assert runs.returncode == 0, runs.stderr
    assert "KILLED" in runs.stdout and "RUNNING" not in runs.stdout


def test_a_closed_stdout_does_not_fail_the_update(tmp_path: Path, spark) -> None:
    root = make_project(tmp_path / "p", spark, sleep=0)
    piped = subprocess.run(
        f"{sys.executable} -m lakesmith run | head -2; exit ${{PIPESTATUS[0]}}",
        shell=True, executable="/bin/bash", cwd=root, capture_output=True, text=True,
        timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.splitlines()) == 2
    assert "BrokenPipe" not in piped.stderr and "Traceback" not in piped.stderr
    runs = lakesmith(root, "runs")
    assert "COMPLETED" in runs.stdout and "FAILED" not in runs.stdout
    assert read_rows(root / "warehouse/spark_catalog/default/gold") == [{"count": 3}]


@pytest.mark.parametrize("args", [
    ("-v",),
    pytest.param(("-v", "--continuous", "--trigger-interval", "1s"), marks=pytest.mark.slow)])
def test_engine_shutdown_is_not_reported_as_a_warning(tmp_path: Path, spark, args) -> None:
    """Sail warns `aborting N task(s) for SessionManagerActor` whenever its server stops: after
    a Ctrl-C mid-flow, a stopped continuous run, and every `-v` run. Not shown, while -v still
    shows the engine's logs (RUST_LOG left to lakesmith, as a user's shell would)."""
    root = make_project(tmp_path / "p", spark, sleep=1.0)
    env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}
    process = subprocess.Popen([sys.executable, "-m", "lakesmith", "run", *args], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**env, "PYTHONUNBUFFERED": "1"})
    wait_for_line(process, "Flow 'silver' is RUNNING")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == (0 if "--continuous" in args else 130), out + err
    assert "aborting" not in err and " WARN " not in err, err
    assert "Traceback" not in err
    assert "The Spark Connect server has stopped." in err, err  # engine logs still shown
