"""AUTO CDC from snapshots into SCD type 1 tables (`dlt.create_auto_cdc_from_snapshot_flow`): the
documented example with a function source over several snapshots and with a table source across
runs, deletes by missing keys, a function returning None, errors (SCD type 2:
`test_auto_cdc_snapshot_scd2.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from lakesmith.runtime.events import UpdateState

SCHEMA = pa.schema([("Key", pa.int64()), ("TrackingColumn", pa.string()),
                    ("NonTrackingColumn", pa.string())])
# Databricks' snapshot example (AUTO CDC FROM SNAPSHOT docs): two snapshots, and the SCD type 1
# target after each (a new key inserted, changed keys updated, a missing key deleted).
SNAPSHOT_1 = [(1, "a1", "b1"), (2, "a2", "b2"), (4, "a4", "b4")]
SNAPSHOT_2 = [(2, "a2_new", "b2"), (3, "a3", "b3"), (4, "a4", "b4_new")]
RESULT_1 = [{"Key": 1, "TrackingColumn": "a1", "NonTrackingColumn": "b1"},
            {"Key": 2, "TrackingColumn": "a2", "NonTrackingColumn": "b2"},
            {"Key": 4, "TrackingColumn": "a4", "NonTrackingColumn": "b4"}]
RESULT_2 = [{"Key": 2, "TrackingColumn": "a2_new", "NonTrackingColumn": "b2"},
            {"Key": 3, "TrackingColumn": "a3", "NonTrackingColumn": "b3"},
            {"Key": 4, "TrackingColumn": "a4", "NonTrackingColumn": "b4_new"}]

FUNCTION_SOURCE = """
import os
import dlt

SNAPSHOTS = spark.conf.get("snapshots.path")

def next_snapshot_and_version(latest_snapshot_version):
    next_version = (latest_snapshot_version or 0) + 1
    path = f"{SNAPSHOTS}/snapshot_{next_version}"
    if os.path.exists(path):
        return (spark.read.format("delta").load(path), next_version)
    return None

dlt.create_streaming_table("target")
dlt.create_auto_cdc_from_snapshot_flow(
    target="target", source=next_snapshot_and_version, keys=["Key"], stored_as_scd_type=1)
"""

TABLE_SOURCE = """
import dlt

@dlt.table
def source():
    return spark.read.format("delta").load(spark.conf.get("snapshots.path") + "/current")

dlt.create_streaming_table("target")
dlt.apply_changes_from_snapshot(target="target", source="source", keys=["Key"],
                                stored_as_scd_type=1)
"""


def write(path: Path, rows: list[tuple], mode: str = "error") -> None:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in SCHEMA.names]
    write_deltalake(str(path), pa.table([pa.array(list(c), f.type)
                                         for c, f in zip(columns, SCHEMA, strict=True)],
                                        schema=SCHEMA), mode=mode)


def setup(project: Any, tmp_path: Path, code: str) -> Path:
    snapshots = tmp_path / "snapshots"
    snapshots.mkdir()
    project.write_spec(configuration={"snapshots.path": str(snapshots)})
    project.write("transformations/cdc.py", code)
    return snapshots


def run_ok(project: Any) -> Any:
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    return result


def target(project: Any) -> list[dict]:
    return project.rows("target", order_by="Key")


def metrics(result: Any) -> dict[str, Any]:
    (flow,) = [f for f in result.flows if f.planned.flow.name == "target"]
    return flow.metrics


def test_documented_example_function_source(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, FUNCTION_SOURCE)
    write(snapshots / "snapshot_1", SNAPSHOT_1)
    run_ok(project)
    assert target(project) == RESULT_1
    write(snapshots / "snapshot_2", SNAPSHOT_2)
    run_ok(project)
    assert target(project) == RESULT_2
    run_ok(project)  # no new snapshot: the function is called with 2 and returns None
    assert target(project) == RESULT_2


def test_several_snapshots_in_one_update_then_none_stops(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, FUNCTION_SOURCE)
    write(snapshots / "snapshot_1", SNAPSHOT_1)
    write(snapshots / "snapshot_2", SNAPSHOT_2)
    write(snapshots / "snapshot_3", [(3, "a3", "b3"), (5, "a5", None)])
    result = run_ok(project)
    assert target(project) == [{"Key": 3, "TrackingColumn": "a3", "NonTrackingColumn": "b3"},
                               {"Key": 5, "TrackingColumn": "a5", "NonTrackingColumn": None}]
    found = metrics(result)
    assert found.batches == 3
    # 3 inserted; then 2 updated + 1 inserted, 1 deleted; then 1 inserted, 2 deleted.
    assert found.details["num_upserted_rows"] == 7
    assert found.details["num_deleted_rows"] == 3


def test_documented_example_table_source_across_runs(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, TABLE_SOURCE)
    write(snapshots / "current", SNAPSHOT_1)
    run_ok(project)
    assert target(project) == RESULT_1
    write(snapshots / "current", SNAPSHOT_2, mode="overwrite")
    run_ok(project)
    assert target(project) == RESULT_2
    result = run_ok(project)  # the same snapshot again: nothing changes
    assert target(project) == RESULT_2
    assert metrics(result).details.get("num_upserted_rows", 0) == 0
    write(snapshots / "current", [], mode="overwrite")
    run_ok(project)  # every key missing: all deleted
    assert target(project) == []


def test_dry_run_shows_the_columns_and_the_source_edge(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, TABLE_SOURCE)
    write(snapshots / "current", SNAPSHOT_1)
    with project.open() as pipeline:
        (flow,) = [f for f in pipeline.graph.flows if f.name == "target"]
        assert [t.table for t in flow.upstream] == ["source"]
    result = subprocess.run([sys.executable, "-m", "lakesmith", "dry-run", "--spec",
                             str(project.spec_path)], cwd=project.root, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TrackingColumn" in result.stdout and "NonTrackingColumn" in result.stdout


def test_an_error_in_the_function_names_the_flow_and_line(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, FUNCTION_SOURCE.replace(
        "    next_version = (latest_snapshot_version or 0) + 1\n",
        "    next_version = (latest_snapshot_version or 0) + 1\n"
        "    if next_version == 2:\n"
        "        raise ValueError('snapshot store is offline')\n"))
    write(snapshots / "snapshot_1", SNAPSHOT_1)
    write(snapshots / "snapshot_2", SNAPSHOT_2)
    result = project.run()
    assert result.state == UpdateState.FAILED
    message = str(result.failed_flows[0].error)
    assert "AUTO CDC flow 'target'" in message
    assert "snapshot store is offline" in message
    assert "cdc.py:9" in message
    assert target(project) == RESULT_1  # the first snapshot was applied, and stays


def test_a_repeated_key_fails_without_applying(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, FUNCTION_SOURCE)
    write(snapshots / "snapshot_1", [(1, "a", "b"), (1, "c", "d")])
    result = project.run()
    assert result.state == UpdateState.FAILED
    assert "more than one row with key {'Key': 1}" in str(result.failed_flows[0].error)


@pytest.mark.parametrize("keys", ["'Key'", "[]"])
def test_bad_keys_fail_at_definition(project, tmp_path, keys) -> None:
    setup(project, tmp_path, FUNCTION_SOURCE.replace('keys=["Key"]', f"keys={keys}"))
    with pytest.raises(Exception, match="key"):
        project.run()
