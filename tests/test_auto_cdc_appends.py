"""SCD type 1 batches that only insert keys the target lacks are appends: the target gains one
marked append commit (no MERGE, which joins the whole target and rewrites the files it touches),
and the flow's state gains the batch's keys (not rewritten) when it remembers none of them. Any
batch that meets a key the target holds, or a target that is partitioned or whose columns are not
the changes', still MERGEs. The rows are the same either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from lakesmith.cdc.scd1 import DELETED
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint.records import Marker
from lakesmith.runtime.eventlog_queries import read_events
from test_auto_cdc import append, cdc, run_ok, setup, target


def operations(path: Path) -> list[str]:
    """The table's commits, oldest first: the operation, and for a write its mode."""
    found = []
    for commit in sorted(DeltaTable(str(path)).history(), key=lambda c: c["version"]):
        mode = str(commit.get("operationParameters", {}).get("mode", "")).strip('"')
        found.append(f"{commit['operation']} {mode}" if commit["operation"] == "WRITE"
                     else commit["operation"])
    return found


def marked_batches(path: Path) -> list[int | None]:
    """The batch numbers the table's commits carry as markers (`userMetadata`)."""
    found = []
    for commit in sorted(DeltaTable(str(path)).history(), key=lambda c: c["version"]):
        marker = Marker.parse(commit.get("userMetadata"))
        if marker is not None:
            found.append(marker.batch)
    return found


def state_path(project: Any) -> Path:
    (path,) = (project.root / "storage").glob("checkpoints/*target*/*/state/cdc-state")
    return path


def reported(project: Any) -> list[dict[str, int]]:
    """Each batch's AUTO CDC counts in the event log, in order."""
    found = []
    for event in read_events(Location.local(project.root / "storage")):
        if event["event_type"] != "flow_progress":
            continue
        metrics = event["details_json"]["flow_progress"].get("metrics") or {}
        if "num_upserted_rows" in metrics:
            found.append({k: metrics[k] for k in ("num_upserted_rows", "num_deleted_rows")})
            # the rows written: the upserts, once (an append's commit is not counted again)
            assert metrics["num_output_rows"] == metrics["num_upserted_rows"], metrics
    return found


def test_new_keys_are_appended_and_the_rest_merged(project, tmp_path) -> None:
    changes = setup(project, tmp_path, cdc())
    path = project.table_path("target")
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1),
                     (2, "b2", "y2", "UPDATE", 2)])
    run_ok(project)
    append(changes, [(3, "c", "z", "INSERT", 1), (4, "d", "w", "INSERT", 1)])
    run_ok(project)
    assert target(project) == [
        {"userId": 1, "name": "a", "city": "x", "sequenceNum": 1},
        {"userId": 2, "name": "b2", "city": "y2", "sequenceNum": 2},
        {"userId": 3, "name": "c", "city": "z", "sequenceNum": 1},
        {"userId": 4, "name": "d", "city": "w", "sequenceNum": 1}]
    # Created empty at setup, then two batches of new keys: two marked appends, no MERGE.
    ops = (operations(path))
    assert "MERGE" not in ops and ops[-2:] == ["WRITE Append", "WRITE Append"], ops
    assert marked_batches(path)[-2:] == [0, 1]
    state = state_path(project)
    assert (operations(state))[-1] == "WRITE Append"

    # An update of a key the target holds (and a new key): a MERGE; the state is rewritten.
    append(changes, [(1, "a2", "x2", "UPDATE", 3), (5, "e", "v", "INSERT", 1)])
    run_ok(project)
    assert (operations(path))[-1] == "MERGE"
    assert (operations(state))[-1] == "WRITE Overwrite"
    # A delete: a MERGE.
    append(changes, [(3, None, None, "DELETE", 2)])
    run_ok(project)
    assert (operations(path))[-1] == "MERGE"
    # The deleted key back (newer than its delete): the target lacks it, so an append; the state
    # remembers it (a tombstone), so the state is rewritten, the tombstone replaced.
    append(changes, [(3, "c3", "z3", "INSERT", 3)])
    run_ok(project)
    assert (operations(path))[-1] == "WRITE Append"
    assert (operations(state))[-1] == "WRITE Overwrite"
    assert target(project) == [
        {"userId": 1, "name": "a2", "city": "x2", "sequenceNum": 3},
        {"userId": 2, "name": "b2", "city": "y2", "sequenceNum": 2},
        {"userId": 3, "name": "c3", "city": "z3", "sequenceNum": 3},
        {"userId": 4, "name": "d", "city": "w", "sequenceNum": 1},
        {"userId": 5, "name": "e", "city": "v", "sequenceNum": 1}]
    rows = DeltaTable(str(state)).to_pyarrow_table().to_pylist()
    assert sorted(r["userId"] for r in rows) == [1, 2, 3, 4, 5]  # each key once
    assert [r[DELETED] for r in rows if r["userId"] == 3] == [False]
    # An older update of the appended keys after all that changes nothing.
    append(changes, [(4, "old", "old", "UPDATE", 0), (3, "old", "old", "UPDATE", 2)])
    run_ok(project)
    assert [r["name"] for r in target(project)] == ["a2", "b2", "c3", "d", "e"]
    assert reported(project) == [
        {"num_upserted_rows": 2, "num_deleted_rows": 0},
        {"num_upserted_rows": 2, "num_deleted_rows": 0},
        {"num_upserted_rows": 2, "num_deleted_rows": 0},
        {"num_upserted_rows": 0, "num_deleted_rows": 1},
        {"num_upserted_rows": 1, "num_deleted_rows": 0},
        {"num_upserted_rows": 0, "num_deleted_rows": 0}]


def test_a_partitioned_target_is_merged(project, tmp_path) -> None:
    """New keys into a partitioned target: the MERGE writes each partition's files."""
    changes = setup(project, tmp_path, cdc(properties=", partition_cols=['city']"))
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1)])
    run_ok(project)
    append(changes, [(3, "c", "x", "INSERT", 1)])
    run_ok(project)
    assert target(project) == [{"userId": 1, "name": "a", "city": "x", "sequenceNum": 1},
                               {"userId": 2, "name": "b", "city": "y", "sequenceNum": 1},
                               {"userId": 3, "name": "c", "city": "x", "sequenceNum": 1}]
    ops = operations(project.table_path("target"))
    assert "WRITE Append" not in ops and ops[-2:] == ["MERGE", "MERGE"], ops
