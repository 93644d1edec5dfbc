"""A checkpoint and the Delta table it writes must agree before a flow runs: checked on real small
Delta tables written by delta-rs, with markers in their commits' userMetadata."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import CommitProperties, write_deltalake

from lakesmith.locations import Location
from lakesmith.runtime.checkpoint.checkpoint import Checkpoint, CheckpointMetadata
from lakesmith.runtime.checkpoint.consistency import (
    newest_batch_marker,
    open_checkpoint,
    verify_checkpoint,
)
from lakesmith.runtime.checkpoint.records import (
    BATCH,
    CREATE,
    REFRESH,
    RESET,
    CheckpointError,
    CommitRecord,
    Marker,
    OffsetRecord,
)
from lakesmith.tables.delta import DeltaLog

HINT = "run a full refresh of 'Events' (--full-refresh Events) to rebuild it from its sources " \
       "with a new checkpoint."


@pytest.fixture
def table(tmp_path: Path) -> Path:
    return tmp_path / "events"


@pytest.fixture
def checkpoint(tmp_path: Path) -> Checkpoint:
    return make_checkpoint(tmp_path, "Ingest")


def make_checkpoint(tmp_path: Path, flow: str) -> Checkpoint:
    return Checkpoint(Location.local(tmp_path / "checkpoints" / flow.lower()), flow=flow,
                      table="Events", display_table="Events")


def commit(table: Path, marker: Marker | None, mode: str = "append") -> None:
    properties = None
    if marker is not None:
        properties = CommitProperties(custom_metadata={"userMetadata": marker.to_json()})
    write_deltalake(str(table), pa.table({"id": [1, 2]}), mode=mode,
                    commit_properties=properties)


def batch(flow: str, n: int, checkpoint: str = "old") -> Marker:
    return Marker(kind=BATCH, flow=flow, checkpoint=checkpoint, batch=n)


def log(table: Path) -> DeltaLog:
    return DeltaLog(Location.local(table))


def refused(checkpoint: Checkpoint, table: Path) -> str:
    with pytest.raises(CheckpointError) as info:
        verify_checkpoint(checkpoint, log(table))
    assert info.value.hint == HINT
    prefix = f"The checkpoint of flow 'ingest' at {checkpoint.location} does not match its " \
             "table: "
    assert info.value.message.startswith(prefix)
    return info.value.message[len(prefix):]


def table_id(table: Path) -> str:
    return str(log(table).table_id())


def test_a_new_flow_without_a_table_creates_its_checkpoint(checkpoint, table) -> None:
    assert verify_checkpoint(checkpoint, log(table)) is None
    metadata = open_checkpoint(checkpoint, log(table))
    assert (metadata.flow, metadata.table, metadata.target_table_id) == ("ingest", "events", None)
    body = json.loads((checkpoint.location.local_path / "metadata.json").read_text())
    assert body["id"] == metadata.id and body["format"] == 1
    assert verify_checkpoint(make_checkpoint(checkpoint.location.local_path.parents[1],
                                             "Ingest"), log(table)) == metadata


def test_a_new_flow_on_a_clean_table_records_the_table_id(checkpoint, table) -> None:
    commit(table, Marker(kind=CREATE, update_id="u"))
    commit(table, None)  # written by someone else
    commit(table, batch("other_flow", 4))  # another flow of the same table
    commit(table, Marker(kind=REFRESH, flow="ingest"))
    metadata = open_checkpoint(checkpoint, log(table))
    assert metadata.target_table_id == table_id(table)
    assert checkpoint.id == metadata.id
    # A second open reads the same checkpoint.
    assert open_checkpoint(checkpoint, log(table)) == metadata


def test_a_table_holding_this_flows_batches_refuses_a_new_checkpoint(checkpoint, table) -> None:
    commit(table, Marker(kind=CREATE))
    commit(table, batch("INGEST", 0, "c-1"))
    commit(table, batch("ingest", 1, "c-1"))
    commit(table, batch("other", 7, "c-2"))
    assert refused(checkpoint, table) == (
        "table 'Events' holds batch 1 written by flow 'ingest' (checkpoint c-1), but that "
        "checkpoint is gone; running would read the flow's sources again from the start and "
        "duplicate their rows.")
    with pytest.raises(CheckpointError):
        open_checkpoint(checkpoint, log(table))
    assert not (checkpoint.location.local_path / "metadata.json").exists()


@pytest.mark.parametrize("reset", [
    Marker(kind=RESET, update_id="u"),
    Marker(kind=CREATE, update_id="u"),
    Marker.parse(json.dumps({"lakesmith": {"update_id": "u", "setup": "overwrite"}})),
])
def test_batches_older_than_a_reset_do_not_count(checkpoint, table, reset) -> None:
    commit(table, batch("ingest", 0))
    commit(table, reset, mode="overwrite")
    commit(table, batch("other", 0))
    assert newest_batch_marker(log(table), "ingest") is None
    assert open_checkpoint(checkpoint, log(table)).target_table_id == table_id(table)


def test_legacy_batch_markers_count(checkpoint, table) -> None:
    legacy = json.dumps({"lakesmith": {"checkpoint": "c-0", "flow": "Ingest", "batch": 3}})
    write_deltalake(str(table), pa.table({"id": [1]}),
                    commit_properties=CommitProperties(custom_metadata={"userMetadata": legacy}))
    assert newest_batch_marker(log(table), "ingest") == Marker(
        kind=BATCH, flow="Ingest", checkpoint="c-0", batch=3, format=0)
    assert "holds batch 3 written by flow 'ingest' (checkpoint c-0)" in refused(checkpoint, table)


def test_a_replaced_table_is_refused(checkpoint, table) -> None:
    commit(table, Marker(kind=CREATE))
    metadata = open_checkpoint(checkpoint, log(table))
    old_id = metadata.target_table_id
    shutil.rmtree(table)
    commit(table, Marker(kind=CREATE))
    new_id = table_id(table)
    assert new_id != old_id
    assert refused(checkpoint, table) == (
        f"table 'Events' at {table} is another Delta table (id {new_id}) than the one the "
        f"checkpoint wrote (id {old_id}): it was deleted and created again.")


def test_a_missing_table_with_committed_batches_is_refused(checkpoint, table) -> None:
    commit(table, Marker(kind=CREATE))
    open_checkpoint(checkpoint, log(table))
    checkpoint.offsets.add(0, OffsetRecord(0, {}).to_json())
    checkpoint.commits.add(0, CommitRecord(0, 1).to_json())
    shutil.rmtree(table)
    assert refused(checkpoint, table) == (
        f"table 'Events' does not exist at {table}, but the checkpoint has committed batches: "
        "the table's folder was deleted or moved, and its rows would be lost.")


def test_a_missing_table_without_committed_batches_is_created_again(checkpoint, table) -> None:
    commit(table, Marker(kind=CREATE))
    metadata = open_checkpoint(checkpoint, log(table))
    checkpoint.offsets.add(0, OffsetRecord(0, {}).to_json())  # planned, never committed
    shutil.rmtree(table)
    assert verify_checkpoint(checkpoint, log(table)) == metadata


def test_lost_metadata_with_records_is_refused(checkpoint, table) -> None:
    checkpoint.offsets.add(0, OffsetRecord(0, {}).to_json())
    assert refused(checkpoint, table) == (
        f"its metadata ({checkpoint.location.join('metadata.json')}) is missing but its logs "
        "hold batches, so the id its commits carry is unknown.")


def test_a_checkpoint_of_another_flow_is_refused(tmp_path, table) -> None:
    other = make_checkpoint(tmp_path, "Other")
    other.create(None)
    moved = Checkpoint(other.location, flow="Ingest", table="Events", display_table="Events")
    assert refused(moved, table) == "it belongs to flow 'other' of table 'events'."


def test_a_checkpoint_of_another_format_is_refused(checkpoint, table) -> None:
    checkpoint.create(None)
    path = checkpoint.location.local_path / "metadata.json"
    body = json.loads(path.read_text())
    path.write_text(json.dumps({**body, "format": 0}))
    fresh = make_checkpoint(checkpoint.location.local_path.parents[1], "Ingest")
    with pytest.raises(CheckpointError) as info:
        fresh.metadata()
    assert info.value.message == (
        f"The checkpoint of flow 'ingest' at {fresh.location} was written in checkpoint format 0 "
        "(lakesmith 0.1); this lakesmith reads format 1 only.")


def test_checkpoint_metadata_round_trips(checkpoint) -> None:
    created = checkpoint.create("tid")
    fresh = Checkpoint(checkpoint.location, flow="INGEST", table="events", display_table="x")
    assert fresh.metadata() == CheckpointMetadata(created.id, "ingest", "events", "tid")
    with pytest.raises(CheckpointError, match="was created by another process at the same time"):
        fresh.create("tid")
