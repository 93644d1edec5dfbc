"""Engines: the embedded default, a remote Spark Connect endpoint, and Sail's local cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import read_rows
from lakesmith.engine.session import start_engine
from lakesmith.errors import EngineError

PIPELINE = """
from pyspark import pipelines as dp

@dp.materialized_view
def numbers():
    return spark.range(0, 100, 1, 4)

@dp.materialized_view
def buckets():
    return spark.read.table("numbers").selectExpr("id % 3 AS bucket").groupBy("bucket").count()
"""


def make_project(root: Path) -> Path:
    (root / "transformations").mkdir(parents=True)
    (root / "spark-pipeline.yml").write_text(
        "name: p\nstorage: st\nlibraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "t.py").write_text(PIPELINE)
    return root


def expected_buckets() -> list[dict]:
    return [{"bucket": 0, "count": 34}, {"bucket": 1, "count": 33}, {"bucket": 2, "count": 33}]


def test_run_against_a_remote_endpoint(tmp_path: Path, sail_url: str) -> None:
    root = make_project(tmp_path / "p")
    result = subprocess.run([sys.executable, "-m", "lakesmith", "run", "--remote", sail_url],
                            cwd=root, text=True, capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"Spark Connect at {sail_url}" in result.stdout
    rows = read_rows(root / "warehouse/spark_catalog/default/buckets", order_by="bucket")
    assert rows == expected_buckets()


def test_spark_remote_environment_variable(tmp_path: Path, sail_url: str) -> None:
    root = make_project(tmp_path / "p")
    result = subprocess.run([sys.executable, "-m", "lakesmith", "run"], cwd=root, text=True,
                            capture_output=True, timeout=120,
                            env={**os.environ, "SPARK_REMOTE": sail_url})
    assert result.returncode == 0, result.stderr
    assert f"Spark Connect at {sail_url}" in result.stdout


def test_unreachable_remote_is_a_clear_error() -> None:
    with pytest.raises(EngineError, match="Could not connect to the Spark Connect endpoint"):
        start_engine("sc://127.0.0.1:1")


def test_run_on_sail_local_cluster(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    env = {**os.environ, "SAIL_MODE": "local-cluster", "RUST_LOG": "info"}
    result = subprocess.run([sys.executable, "-m", "lakesmith", "run", "-v"], cwd=root, text=True,
                            capture_output=True, timeout=180, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "embedded Sail (local-cluster)" in result.stdout
    assert "starting worker" in result.stderr  # Sail's driver launched workers
    rows = read_rows(root / "warehouse/spark_catalog/default/buckets", order_by="bucket")
    assert rows == expected_buckets()
