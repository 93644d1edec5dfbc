"""The exactly-once protocol: one `run_batch()` that writes a batch, one `recover()` that says what
a restart must do. Each step's crash point is named; a crash at any of them loses nothing and
writes nothing twice.

Batch N, in this order:
1. `offsets/N` is created: what N reads, and each written table's version before N
   (crash points `before_offsets`, `after_offsets`);
2. each writer writes N, output first, then quarantine, then state; a writer whose marked commit
   already landed (a rerun after a crash) is skipped (`after_output`, `after_quarantine`,
   `after_state`). A writer that may land in either order with the output
   (`BatchWriter.alongside_output`: a deduplication's new keys, which no rerun of N reads)
   writes while the output writes, on its own thread; both have landed at `after_output`;
3. `commits/N` is created (`after_commit`).

Records and the engine's commits are durable as Spark's are on the same storage: on object stores
an acknowledged put is; on a local disk nothing is fsynced, so a crash of the process loses
nothing, and a crash of the operating system can lose the newest writes (docs/architecture.md,
"Durability of checkpoints"; `recover()` reruns a batch whose commit record outlived its output).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lakesmith.runtime.checkpoint import crash
from lakesmith.runtime.checkpoint.checkpoint import Checkpoint
from lakesmith.runtime.checkpoint.records import (
    CheckpointError,
    CommitRecord,
    Marker,
    OffsetRecord,
)
from lakesmith.runtime.checkpoint.writers import BatchWriter, Landed


@dataclass
class BatchPlan:
    """Everything batch N does: its offset record and its writers, in order (output first). The
    output writer is the one whose commit the commit record names; a batch without input (one
    that only evicts state by a newer watermark) has none."""

    record: OffsetRecord
    writers: Sequence[BatchWriter]
    output: BatchWriter | None = None
    num_input_rows: int | None = 0  # None: not known
    next_watermark_ms: int | None = None
    next_input_watermarks_ms: tuple[int | None, ...] = ()
    # Set by recover(): rerunning a batch whose offsets exist (and, when its output was lost
    # after its commit record was written, whose commit record is replaced).
    recovering: bool = False
    replace_commit: bool = False
    pipeline: str | None = None
    update_id: str | None = None
    landed: dict[str, Landed] = field(default_factory=dict)


def writer_versions(writers: Sequence[BatchWriter]) -> dict[str, int | None]:
    """Each writer's table version now: what an offset record holds as `versions`."""
    return {writer.name: writer.version() for writer in writers}


def run_batch(checkpoint: Checkpoint, plan: BatchPlan) -> CommitRecord:
    batch = plan.record.batch
    flow = checkpoint.flow
    if not plan.recovering:
        crash.crash_point(crash.BEFORE_OFFSETS, flow, batch)
        checkpoint.offsets.add(batch, plan.record.to_json())
        crash.crash_point(crash.AFTER_OFFSETS, flow, batch)
    marker = checkpoint.marker(batch, pipeline=plan.pipeline, update_id=plan.update_id)
    output = plan.output
    alongside = [w for w in plan.writers if w.alongside_output and w is not output] \
        if output is not None else []
    for writer in plan.writers:
        if writer in alongside:  # landed alongside the output
            crash.crash_point(writer.crash_point, flow, batch)
            continue
        if writer is output and alongside:
            with _Alongside(alongside, lambda w: _write(w, plan, marker)):
                _write(writer, plan, marker)
        else:
            _write(writer, plan, marker)
        crash.crash_point(writer.crash_point, flow, batch)
    written = plan.landed.get(output.name) if output is not None else None
    commit = CommitRecord(batch, written.version if written else None, plan.num_input_rows,
                          written.rows if written else 0, plan.next_watermark_ms,
                          plan.next_input_watermarks_ms)
    if plan.replace_commit:
        checkpoint.commits.replace(batch, commit.to_json())
    else:
        checkpoint.commits.add(batch, commit.to_json())
    crash.crash_point(crash.AFTER_COMMIT, flow, batch)
    checkpoint.purge(batch)
    return commit


def _write(writer: BatchWriter, plan: BatchPlan, marker: Marker) -> None:
    """Write the batch's commit of `writer`, unless it already landed."""
    before = plan.record.versions.get(writer.name)
    # Only a rerun can find its commit landed: a new batch's offsets were just created (put if
    # absent), and a table holding a batch beyond the offsets log is refused before the flow
    # runs (consistency.py). Asking would refresh the table's log for nothing.
    landed = writer.landed(marker, before) if plan.recovering else None
    if landed is None:
        writer.write(marker)
        if writer is plan.output:
            landed = writer.landed(marker, before)
    if landed is not None:
        plan.landed[writer.name] = landed


class _Alongside:
    """Writers run on their own threads while the block runs (the output's write); the block
    ends once they all ended, with the block's error first, else the first writer's."""

    def __init__(self, writers: Sequence[BatchWriter],
                 write: Callable[[BatchWriter], None]) -> None:
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(write, w), daemon=True,
                                         name=f"{threading.current_thread().name}-{w.name}")
                        for w in writers]

    def _run(self, write: Callable[[BatchWriter], None], writer: BatchWriter) -> None:
        try:
            write(writer)
        except BaseException as e:  # raised on the batch's thread once the output is written
            self.errors.append(e)

    def __enter__(self) -> None:
        for thread in self.threads:
            thread.start()

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        for thread in self.threads:
            thread.join()
        if exc_type is None and self.errors:
            raise self.errors[0]


@dataclass(frozen=True)
class Recovery:
    """What a restart must do before planning new batches."""

    rerun: OffsetRecord | None = None  # a batch to run again over its recorded offsets
    replace_commit: bool = False  # its commit record exists, but its output was lost
    last_commit: CommitRecord | None = None  # the newest committed batch (after recovery)


def recover(checkpoint: Checkpoint, output: BatchWriter | None) -> Recovery:
    """Decide from the two logs, newest batch first:

    1. no offsets: a new stream, nothing to recover;
    2. offsets N and commits up to N-1: N crashed after its offsets were written: run it again
       over exactly those offsets (its writers that already landed are skipped);
    3. offsets N and commit N: N is done, if its output is in the target: a commit record can
       outlive its Delta commit after an OS crash; then N runs again and its record is replaced;
    anything else (a commit without its offsets, a gap) means the logs were edited: refuse.
    """
    offsets_batch = checkpoint.offsets.latest_batch()
    commit = checkpoint.commits.latest()
    if offsets_batch is None:
        if commit is not None:
            raise _inconsistent(checkpoint, f"batch {commit.batch} is committed but the offsets "
                                "log is empty (offsets/ was deleted)")
        return Recovery()
    last = commit.batch if commit is not None else -1
    if offsets_batch == last + 1:
        record = checkpoint.offsets.get(offsets_batch)
        assert record is not None
        return Recovery(rerun=record, last_commit=commit)
    if offsets_batch != last:
        raise _inconsistent(checkpoint, f"batch {offsets_batch} is planned but the last committed "
                            f"batch is {last}")
    assert commit is not None
    record = checkpoint.offsets.get(offsets_batch)
    assert record is not None
    if commit.output_version is not None and output is not None:
        marker = checkpoint.marker(commit.batch, pipeline=None, update_id=None)
        if output.landed(marker, record.versions.get(output.name)) is None:
            previous = checkpoint.commits.get(commit.batch - 1) if commit.batch else None
            return Recovery(rerun=record, replace_commit=True, last_commit=previous)
    return Recovery(last_commit=commit)


def _inconsistent(checkpoint: Checkpoint, what: str) -> CheckpointError:
    return CheckpointError(
        f"The checkpoint of flow '{checkpoint.flow}' at {checkpoint.location} is inconsistent: "
        f"{what}.", hint=checkpoint.reset_hint)
