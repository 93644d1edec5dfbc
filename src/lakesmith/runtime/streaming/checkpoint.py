"""A streaming flow's checkpoint: an offset log and a commit log, in the spirit of Spark's.

For batch N the protocol is, in this order:

1. `offsets/N` is written: what batch N reads from each source (and the versions of the target and
   state tables before it runs);
2. the batch's output is committed to the target table, with a marker naming the checkpoint, the
   flow and N in the commit's `userMetadata`; then its state updates, marked the same way;
3. `commits/N` is written: batch N is done.

`recover()` decides from the two logs (and the markers) what a restart must do, so a crash at any
point neither loses a batch nor writes it twice. The crash points are named for fault injection:
set LAKESMITH_CRASH_AT=point[:flow[:batch]] to kill the process there.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakesmith.errors import LakesmithError

CRASH_ENV = "LAKESMITH_CRASH_AT"
CRASH_POINTS = ("before_offsets", "after_offsets", "after_output", "after_state", "after_commit",
                "after_reset_marker", "after_truncate")


def crash_point(point: str, flow: str = "", batch: int | None = None) -> None:
    """Kill the process here when LAKESMITH_CRASH_AT names this point (tests of recovery)."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    parts = wanted.split(":")
    if parts[0] != point:
        return
    if len(parts) > 1 and parts[1] and parts[1] != flow:
        return
    if len(parts) > 2 and parts[2] and batch is not None and int(parts[2]) != batch:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(137)


def write_json_atomically(path: Path, data: Mapping[str, Any]) -> None:
    """Write, fsync, rename: a reader sees the whole file or none of it, even after a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def directory_name(name: str) -> str:
    """A folder name for a flow or table; unusual names get a hash so two never collide."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name.lower())
    if safe == name:
        return safe
    return f"{safe}-{uuid.uuid5(uuid.NAMESPACE_URL, name).hex[:8]}"


@dataclass(frozen=True)
class BatchRecord:
    batch: int
    data: dict[str, Any]


class Checkpoint:
    """The checkpoint folder of one streaming flow."""

    def __init__(self, root: Path, flow: str) -> None:
        self.root = root
        self.flow = flow
        self.offsets_dir = root / "offsets"
        self.commits_dir = root / "commits"
        self.state_dir = root / "state"
        self.metadata_path = root / "metadata.json"
        self._id: str | None = None

    @property
    def id(self) -> str:
        """Identifies this checkpoint; a full refresh starts a new one with a new id, so markers
        left in a table by an earlier checkpoint never count as this one's batches."""
        if self._id is None:
            if self.metadata_path.exists():
                self._id = json.loads(self.metadata_path.read_text())["id"]
            else:
                self._id = str(uuid.uuid4())
                write_json_atomically(self.metadata_path, {
                    "id": self._id, "flow": self.flow, "created": time.time()})
        return self._id

    def latest_offsets(self) -> BatchRecord | None:
        return self._latest(self.offsets_dir)

    def latest_commit(self) -> BatchRecord | None:
        return self._latest(self.commits_dir)

    def offsets(self, batch: int) -> BatchRecord | None:
        path = self.offsets_dir / str(batch)
        return BatchRecord(batch, json.loads(path.read_text())) if path.exists() else None

    def write_offsets(self, batch: int, data: Mapping[str, Any]) -> None:
        crash_point("before_offsets", self.flow, batch)
        write_json_atomically(self.offsets_dir / str(batch), {"batch": batch, **data})
        crash_point("after_offsets", self.flow, batch)

    def write_commit(self, batch: int, data: Mapping[str, Any]) -> None:
        write_json_atomically(self.commits_dir / str(batch), {"batch": batch, **data})
        crash_point("after_commit", self.flow, batch)

    def pending_batch(self) -> BatchRecord | None:
        """The batch whose offsets were written but which was not committed (a crash)."""
        offsets = self.latest_offsets()
        commit = self.latest_commit()
        if offsets is None:
            return None
        if commit is None or commit.batch < offsets.batch:
            if commit is not None and commit.batch != offsets.batch - 1:
                raise LakesmithError(
                    f"The checkpoint of flow '{self.flow}' at {self.root} is inconsistent: batch "
                    f"{offsets.batch} is planned but the last committed batch is {commit.batch}.")
            return offsets
        return None

    def marker_json(self, batch: int, **extra: Any) -> str:
        """The `userMetadata` of every commit batch `batch` makes."""
        marker = {"checkpoint": self.id, "flow": self.flow, "batch": batch, **extra}
        return json.dumps({"lakesmith": marker}, separators=(",", ":"), sort_keys=True)

    def matches(self, user_metadata: str | None, batch: int) -> bool:
        """Whether a commit's userMetadata is this checkpoint's marker for `batch`."""
        if not user_metadata:
            return False
        try:
            marker = json.loads(user_metadata).get("lakesmith", {})
        except (json.JSONDecodeError, AttributeError):
            return False
        return (marker.get("checkpoint") == self.id and marker.get("flow") == self.flow
                and marker.get("batch") == batch)

    @staticmethod
    def _latest(directory: Path) -> BatchRecord | None:
        if not directory.is_dir():
            return None
        batches = [int(p.name) for p in directory.iterdir() if p.name.isdigit()]
        if not batches:
            return None
        batch = max(batches)
        return BatchRecord(batch, json.loads((directory / str(batch)).read_text()))
