"""`python -m benchmarks.medallion` at a tiny size, so the benchmark command cannot rot: it
generates the data, runs every case and writes its JSON with the ratios."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def bench(tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "result.json"
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.medallion", "--events", "2000", "--files", "2",
         "--work", str(tmp_path / "work"), "--json", str(out), *extra],
        cwd=REPO, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "lakesmith_full_vs_floor_wall" in result.stdout
    return json.loads(out.read_text())


def test_the_benchmark_runs_lakesmith_and_the_floor(tmp_path: Path) -> None:
    report = bench(tmp_path, "--no-spark")
    names = [case["name"] for case in report["cases"]]
    assert names == ["engine floor (PySpark on Sail)", "lakesmith full",
                     "lakesmith +5 % new data", "lakesmith nothing new"]
    full = report["cases"][1]
    assert full["update_s"] > 0 and full["peak_rss_mb"] > 50
    # the update's time counts INITIALIZING, as Databricks does, and says how much it was
    assert 0 < full["initializing_s"] < full["update_s"]
    # CPU seconds of each process, the in-process engine included
    assert all(case["cpu_s"] > 0 for case in report["cases"])
    assert {"bronze_orders", "silver_orders", "silver_customers",
            "gold_daily_revenue"} <= set(full["flows_s"])
    assert set(report["ratios"]) == {"lakesmith_full_vs_floor_wall",
                                     "lakesmith_full_vs_floor_update",
                                     "lakesmith_full_vs_floor_cpu", "plus5_vs_full_update",
                                     "plus5_vs_full_running", "plus5_vs_full_wall"}
    assert "skipped" in report["notes"][0]
    cold = report["cold_start"]
    assert set(cold["pieces"]) == {"import_spark_connect", "import_lakesmith",
                                   "session_and_graph", "update", "close"}
    # round trips are counted; an update with nothing new reuses the last analysis and finds
    # every flow up to date without asking the engine anything
    assert cold["state"] == "COMPLETED"
    assert {kind: request["count"] for kind, request in cold["engine_requests"].items()} == {
        "analyze": 0, "execute": 0}
    assert cold["engine_started"] is False  # so the embedded engine never started
    # imports made with the collector paused, then frozen (lakesmith/startup_gc.py)
    assert cold["gc_collections"][2] == 0


@pytest.mark.slow
@pytest.mark.timeout(1200)  # three JVM peers, each cold: 2-4 minutes quiet, 5+ under load
def test_the_benchmark_with_the_spark_reference(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO))
    from benchmarks.medallion import spark_reference

    if spark_reference() is None:
        pytest.skip("no Spark 4.3 reference install (benchmarks/setup_spark_reference.sh) or java")
    report = bench(tmp_path)
    names = [case["name"] for case in report["cases"]]
    assert "spark-pipelines 4.3 full" in names and "classic Spark 4.3 local, floor" in names
    assert "spark_pipelines_vs_lakesmith_full_wall" in report["ratios"]


def test_a_peer_that_passes_the_memory_cap_is_stopped_and_reported(tmp_path: Path) -> None:
    """At 20M events the floor's `dropDuplicates` needs more memory than the machine has: the
    benchmark stops such a case at its cap, says so, and goes on with the others."""
    sys.path.insert(0, str(REPO))
    from benchmarks.medallion import Case, CaseFailed, add_peer, measure

    hog = [sys.executable, "-c", "import time; b = bytearray(400 << 20); b[::4096] = "
           "b'x' * len(b[::4096]); time.sleep(30)"]
    with pytest.raises(CaseFailed) as failure:
        measure(hog, cwd=tmp_path, rss_cap_mb=150)
    assert "killed at the benchmark's memory cap of 150 MB" in str(failure.value)
    assert failure.value.peak_rss_mb > 150 and failure.value.wall_s < 25

    cases: list[Case] = []
    notes: list[str] = []

    def floor(name: str) -> Case:
        measure(hog, cwd=tmp_path, rss_cap_mb=150)
        raise AssertionError("the cap did not stop it")

    assert add_peer(cases, notes, "engine floor (PySpark on Sail)", floor) is False
    assert cases == []
    assert notes[0].startswith("engine floor (PySpark on Sail) did not complete: ")
    assert "memory cap of 150 MB" in notes[0] and "peak RSS" in notes[0]

    def quick(name: str) -> Case:
        wall, peak, _, cpu = measure([sys.executable, "-c", "print(1)"], cwd=tmp_path)
        return Case(name, wall, peak, cpu_s=cpu)

    assert add_peer(cases, notes, "classic Spark 4.3 local, floor", quick) is True
    assert [case.name for case in cases] == ["classic Spark 4.3 local, floor"]
