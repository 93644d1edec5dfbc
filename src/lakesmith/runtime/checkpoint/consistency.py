"""A checkpoint and the table it writes must agree before a flow runs, or the run stops.

Each side records the other: every commit a flow makes carries its checkpoint's id and batch, and
the checkpoint records the id of the Delta table it writes and the version of each batch's output.
Deleting either side (or a part of it) would otherwise silently re-append everything (a lost
checkpoint) or continue into an empty table (a lost table); both are refused, with the one fix
that is always safe: a full refresh of the table.
"""

from __future__ import annotations

from lakesmith.runtime.checkpoint.checkpoint import Checkpoint, CheckpointMetadata
from lakesmith.runtime.checkpoint.records import (
    BATCH,
    CREATE,
    OUTPUT,
    RESET,
    CheckpointError,
    Marker,
)
from lakesmith.tables.delta import DeltaLog
from lakesmith.tables.delta_log import DeltaLogError, read_commit


def open_checkpoint(checkpoint: Checkpoint, target: DeltaLog) -> CheckpointMetadata:
    """The checkpoint's metadata, created for a new flow; raises when checkpoint and table
    disagree."""
    metadata = verify_checkpoint(checkpoint, target)
    return metadata if metadata is not None else checkpoint.create(target.table_id())


def verify_checkpoint(checkpoint: Checkpoint, target: DeltaLog) -> CheckpointMetadata | None:
    """The checkpoint's metadata (None for a flow that has none yet), after checking that it and
    its table agree; reads only."""
    table_now = target.table()
    target_id = None if table_now is None else str(table_now.metadata().id)
    metadata = checkpoint.metadata()
    table = checkpoint.display_table
    if metadata is None:
        if checkpoint.has_records():
            raise _refuse(checkpoint, f"its metadata ({checkpoint.metadata_location}) is missing "
                          "but its logs hold batches, so the id its commits carry is unknown")
        found = newest_batch_marker(target, checkpoint.flow)
        if found is not None:
            raise _refuse(checkpoint, (
                f"table '{table}' holds batch {found.batch} written by flow '{checkpoint.flow}' "
                f"(checkpoint {found.checkpoint}), but that checkpoint is gone; running would read "
                "the flow's sources again from the start and duplicate their rows"))
        return None
    if (metadata.flow, metadata.table) != (checkpoint.flow, checkpoint.table):
        raise _refuse(checkpoint, f"it belongs to flow '{metadata.flow}' of table "
                      f"'{metadata.table}'")
    if target_id is None:
        if checkpoint.commits.latest_batch() is not None:
            raise _refuse(checkpoint, (
                f"table '{table}' does not exist at {target.location}, but the checkpoint has "
                "committed batches: the table's folder was deleted or moved, and its rows would "
                "be lost"))
    elif metadata.target_table_id is not None and metadata.target_table_id != target_id:
        raise _refuse(checkpoint, (
            f"table '{table}' at {target.location} is another Delta table (id {target_id}) than "
            f"the one the checkpoint wrote (id {metadata.target_table_id}): it was deleted and "
            "created again"))
    else:
        assert table_now is not None
        _refuse_table_ahead(checkpoint, metadata, target, table_now.version())
    return metadata


def _refuse_table_ahead(checkpoint: Checkpoint, metadata: CheckpointMetadata,
                        target: DeltaLog, latest: int) -> None:
    """A batch in the table that the offsets log does not have: the log lost its newest records
    (an OS crash on a local disk, which is not fsynced, or an older copy of the checkpoint put
    back). Planning that batch number again would read its input again and append it twice.
    Only the commits since the newest recorded batch began are read (usually its own)."""
    planned = checkpoint.offsets.latest_batch()
    if planned is None:
        if checkpoint.commits.latest_batch() is not None:
            return  # offsets/ deleted with commits left: recover() names that
        found = newest_batch_marker(target, checkpoint.flow, latest)
        ahead = found if found is not None and found.checkpoint == metadata.id else None
    else:
        record = checkpoint.offsets.get(planned)
        since = record.versions.get(OUTPUT) if record is not None else None
        ahead = None
        for version in range(latest, -1 if since is None else since, -1):
            try:
                commit = read_commit(target.location, version)
            except DeltaLogError:
                break  # older commits were cleaned up: nothing further back to find
            marker = Marker.parse(commit.user_metadata)
            if marker is not None and marker.kind == BATCH and marker.checkpoint == metadata.id \
                    and marker.batch is not None and marker.batch > planned:
                ahead = marker
                break
    if ahead is not None:
        last = "is empty" if planned is None else f"ends at batch {planned}"
        raise _refuse(checkpoint, (
            f"table '{checkpoint.display_table}' holds batch {ahead.batch} of this checkpoint, "
            f"but its offsets log {last}: the newest checkpoint records were lost (an operating "
            "system crash, or an older copy of the checkpoint restored), and running would "
            "read that batch's input again and duplicate its rows"))


def newest_batch_marker(target: DeltaLog, flow: str, latest: int | None = None) -> Marker | None:
    """The newest batch `flow` wrote to the table since the table was last created or reset,
    read backwards from the newest commit (a new flow's table is usually a commit or two).
    `latest`: the table's newest version, when the caller has just read it."""
    if latest is None:
        latest = target.version()
    if latest is None:
        return None
    for version in range(latest, -1, -1):
        try:
            commit = read_commit(target.location, version)
        except DeltaLogError:
            return None  # older commits were cleaned up: nothing further back to find
        marker = Marker.parse(commit.user_metadata)
        if marker is None:
            continue
        if marker.kind in (RESET, CREATE):
            return None
        if marker.kind == BATCH and (marker.flow or "").lower() == flow:
            return marker
    return None


def _refuse(checkpoint: Checkpoint, what: str) -> CheckpointError:
    return CheckpointError(
        f"The checkpoint of flow '{checkpoint.flow}' at {checkpoint.location} does not match its "
        f"table: {what}.", hint=checkpoint.reset_hint)
