"""The records of the exactly-once protocol: what batch N reads (its offsets), that it is done (its
commit), and the marker every commit it makes to a table carries.

All three are versioned (`format`), so a later lakesmith can read today's checkpoints or refuse
them by name instead of misreading them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lakesmith.errors import LakesmithError

FORMAT = 1
MARKER_KEY = "lakesmith"


class CheckpointError(LakesmithError):
    """A checkpoint is unreadable, from another format, or disagrees with its tables."""


@dataclass(frozen=True)
class SourceRange:
    """What one source contributes to a batch: from `start` (exclusive) to `end` (inclusive), as
    the source's own offsets serialise themselves; `identity` names the source's table (a source
    replaced by another table under the same name must not continue from these offsets)."""

    start: Mapping[str, Any] | None
    end: Mapping[str, Any] | None
    identity: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "identity": self.identity}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> SourceRange:
        return SourceRange(data.get("start"), data.get("end"), data.get("identity"))


# The writer name of a batch's output table in `OffsetRecord.versions`.
OUTPUT = "output"


@dataclass(frozen=True)
class OffsetRecord:
    """Batch N's input, written before anything of N is: a rerun after a crash reads exactly it.

    `versions` holds each written table's version before the batch (by writer name), so recovery
    looks for N's markers only in commits made after it. `watermark_ms` is the event-time
    watermark the batch runs with (stateful operators evict state by it) and
    `previous_watermark_ms` the previous batch's (late rows are judged by it), as in Spark; a
    rerun sees the same.
    """

    batch: int
    sources: Mapping[str, SourceRange]
    versions: Mapping[str, int | None] = field(default_factory=dict)
    watermark_ms: int | None = None
    previous_watermark_ms: int | None = None
    timestamp_ms: int = 0
    update_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "batch": self.batch,
            "sources": {key: r.to_json() for key, r in sorted(self.sources.items())},
            "versions": dict(sorted(self.versions.items())),
            "watermark_ms": self.watermark_ms,
            "previous_watermark_ms": self.previous_watermark_ms,
            "timestamp_ms": self.timestamp_ms,
            "update_id": self.update_id,
        }

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> OffsetRecord:
        _check_format(data)
        return OffsetRecord(
            batch=int(data["batch"]),
            sources={k: SourceRange.from_json(v) for k, v in data["sources"].items()},
            versions={k: (None if v is None else int(v)) for k, v in data["versions"].items()},
            watermark_ms=data.get("watermark_ms"),
            previous_watermark_ms=data.get("previous_watermark_ms"),
            timestamp_ms=int(data.get("timestamp_ms") or 0),
            update_id=data.get("update_id"),
        )


@dataclass(frozen=True)
class CommitRecord:
    """Batch N is done. `output_version` is the target's version that holds N's output (None when
    N wrote nothing), checked on recovery so a commit record never outlives the commit it names."""

    batch: int
    output_version: int | None
    num_input_rows: int | None = 0  # None: not known (a file source does not count rows)
    num_output_rows: int = 0
    watermark_ms: int | None = None  # the watermark the next batch starts from
    # Each withWatermark's own watermark after N (None: it has seen no rows yet), in plan order:
    # the global one is their min (or max), so a restart must not forget them.
    input_watermarks_ms: tuple[int | None, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "batch": self.batch, "output_version": self.output_version,
                "num_input_rows": self.num_input_rows, "num_output_rows": self.num_output_rows,
                "watermark_ms": self.watermark_ms,
                "input_watermarks_ms": list(self.input_watermarks_ms)}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> CommitRecord:
        _check_format(data)
        version = data.get("output_version")
        return CommitRecord(int(data["batch"]), None if version is None else int(version),
                            None if data.get("num_input_rows", 0) is None
                            else int(data.get("num_input_rows") or 0),
                            int(data.get("num_output_rows") or 0), data.get("watermark_ms"),
                            tuple(data.get("input_watermarks_ms") or ()))


# What a marked commit did: a micro-batch (or once flow) of a checkpoint, a materialized view's
# refresh, or table setup (creating an empty table, or truncating it for a full refresh).
BATCH = "batch"
REFRESH = "refresh"
CREATE = "create"
RESET = "reset"


@dataclass(frozen=True)
class Marker:
    """The `userMetadata` of every commit lakesmith makes, naming who made it.

    Markers written before the format was versioned are read too (`format` 0): they are how a
    table tells which flows wrote it, whatever lakesmith wrote them.
    """

    kind: str
    flow: str | None = None
    checkpoint: str | None = None
    batch: int | None = None
    pipeline: str | None = None
    update_id: str | None = None
    format: int = FORMAT

    def to_json(self) -> str:
        body = {"format": self.format, "kind": self.kind, "flow": self.flow,
                "checkpoint": self.checkpoint, "batch": self.batch, "pipeline": self.pipeline,
                "update_id": self.update_id}
        return json.dumps({MARKER_KEY: {k: v for k, v in body.items() if v is not None}},
                          separators=(",", ":"), sort_keys=True)

    @staticmethod
    def parse(user_metadata: str | None) -> Marker | None:
        """The marker in a commit's userMetadata; None for commits lakesmith did not make."""
        if not user_metadata:
            return None
        try:
            body = json.loads(user_metadata).get(MARKER_KEY)
        except (json.JSONDecodeError, AttributeError):
            return None
        if not isinstance(body, dict):
            return None
        if "kind" in body:
            kind = str(body["kind"])
        elif "setup" in body:  # format 0: table setup
            kind = RESET if body["setup"] == "overwrite" else CREATE
        elif "checkpoint" in body:
            kind = BATCH
        else:
            kind = REFRESH
        batch = body.get("batch")
        return Marker(kind=kind, flow=body.get("flow"), checkpoint=body.get("checkpoint"),
                      batch=None if batch is None else int(batch), pipeline=body.get("pipeline"),
                      update_id=body.get("update_id"), format=int(body.get("format", 0)))

    def is_batch(self, checkpoint: str, batch: int) -> bool:
        return self.kind == BATCH and self.checkpoint == checkpoint and self.batch == batch


def _check_format(data: Mapping[str, Any]) -> None:
    found = data.get("format", 0)
    if found != FORMAT:
        raise CheckpointError(f"record format {found}, expected {FORMAT}")


def dumps(data: Mapping[str, Any]) -> bytes:
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode()
