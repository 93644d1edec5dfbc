"""What every flow that reads streams in micro-batches shares: planning from the sources' offsets,
the loop of batches, recovery, binding a batch's plan to its slices, and progress metrics.

A triggered update processes what its plan fixed and stops: batch after batch, each bounded by the
sources' limits (maxFilesPerTrigger, maxBytesPerTrigger) and by the end offsets of the plan (for
the pipeline's own tables, their end when the flow starts). Each batch runs through the checkpoint
protocol (`runtime.checkpoint`): `recover()` first finishes or re-runs a batch a crash interrupted.

A kind of flow says only how a batch writes (`prepare`: its writers) and, for recovery, which
writer's marked commit shows that a batch landed (`output_probe`). Streaming tables append
(`streaming_table.py`); AUTO CDC flows merge (`auto_cdc.py`).
"""

from __future__ import annotations

import copy
import time
from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.plans import PlanRead
from lakesmith.errors import LakesmithError
from lakesmith.quality.expectations import QualityReport
from lakesmith.runtime.checkpoint import (
    AppendWithMarker,
    BatchPlan,
    BatchWriter,
    Checkpoint,
    CommitRecord,
    OffsetRecord,
    SourceRange,
    open_checkpoint,
    recover,
    run_batch,
    verify_checkpoint,
    writer_versions,
)
from lakesmith.runtime.checkpoint.records import OUTPUT as OUTPUT  # the runners name it here
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows.base import FlowContext, FlowRunner
from lakesmith.runtime.flows.quality import FlowQuality, PendingReport
from lakesmith.runtime.flows.warm_state import warm_state_logs
from lakesmith.runtime.plan import INCREMENTAL, SKIP, FlowWork, PlannedFlow, SourceWork
from lakesmith.runtime.streaming.binder import StreamBatchBinder
from lakesmith.runtime.streaming.operators import OperatorContext, rewrite_stateful
from lakesmith.runtime.streaming.sources import source_key
from lakesmith.runtime.workspace import Workspace
from lakesmith.sources.base import Backlog, SourceOffset, SourceSlice, StreamSource


@dataclass
class Batch:
    """One micro-batch, bound to its slices and ready to run."""

    number: int
    slices: dict[str, SourceSlice | None]
    watermark_ms: int = 0
    previous_watermark_ms: int = 0
    has_watermark: bool = False
    next_watermark_ms: int | None = None
    # Each withWatermark's own watermark before and after the batch (see operators/watermark.py).
    input_watermarks_ms: tuple[int | None, ...] = ()
    next_input_watermarks_ms: tuple[int | None, ...] = ()
    # The stateful operators' progress (Spark's `stateOperators`), reported once it committed;
    # an entry may be a function, called then: counts the batch's commits give for free.
    progress: tuple[dict[str, Any] | Callable[[], dict[str, Any]], ...] = ()
    binder: StreamBatchBinder | None = None
    writers: tuple[BatchWriter, ...] = ()
    report: PendingReport | None = None
    # When the batch was first planned (kept in its offset record, so a rerun sees the same).
    timestamp_ms: int = 0

    @property
    def has_data(self) -> bool:
        return any(s is not None and s.has_data for s in self.slices.values())

    @property
    def num_input_rows(self) -> int | None:
        """None when a source with data cannot tell its rows without reading them (files)."""
        slices = [s for s in self.slices.values() if s is not None and s.has_data]
        if any(s.backlog.records is None for s in slices):
            return None
        return sum(s.backlog.records or 0 for s in slices)

    def close(self) -> None:
        if self.binder is not None:
            self.binder.close()


class MicroBatchRunner(FlowRunner):
    """The shared loop; subclasses write the batches (`prepare`, `output_probe`)."""

    @abstractmethod
    def prepare(self, ctx: FlowContext, checkpoint: Checkpoint, batch: Batch, *,
                no_data: bool = False) -> Batch:
        """Bind `batch` to its slices and give it its writers (output first). Anything that
        refuses the batch's input raises here, before the batch is recorded."""

    def output_probe(self, workspace: Workspace, planned: PlannedFlow) -> BatchWriter | None:
        """The output writer as recovery sees it: it only looks for a batch's marked commit."""
        return AppendWithMarker(OUTPUT, workspace.table_log(planned.flow.target), lambda: None)

    def check(self, ctx: FlowContext) -> None:
        """Refuse what the flow cannot write before anything runs."""

    def committed(self, ctx: FlowContext, batch: Batch, commit: CommitRecord,
                  metrics: FlowMetrics) -> None:
        """Add what a committed batch did to the flow's metrics (beyond rows and sources)."""

    # -- planning ------------------------------------------------------------------------------

    def plan(self, workspace: Workspace, planned: PlannedFlow) -> FlowWork:
        sources = workspace.sources(planned.flow)
        recover_batch = None
        starts: dict[str, SourceOffset] = {}
        if planned.full_refresh:
            for source in sources.values():
                source.restart()
        else:
            checkpoint = workspace.checkpoint(planned.flow)
            # Checkpoint and table must agree (and be of this format): refused now, not half-way.
            verify_checkpoint(checkpoint, workspace.table_log(planned.flow.target))
            recovery = recover(checkpoint, self.output_probe(workspace, planned))
            if recovery.rerun is not None:
                recover_batch = recovery.rerun.batch
            last = checkpoint.offsets.latest()
            if last is not None:
                starts = _ends(last, sources)
                _check_identities(last, sources)
                warm_state_logs(workspace.logs, checkpoint)
        work = []
        for key, source in sources.items():
            bounds = source.bounds(starts.get(key))
            internal = key.startswith("table:")
            backlog = (source.backlog(bounds.start, bounds.end)
                       if bounds.start is not None and bounds.end is not None else Backlog())
            # A pipeline table's start and end are fixed when the flow starts: setup may reset
            # it, and the flows upstream write it, before this flow runs.
            work.append(SourceWork(key, source.display_name,
                                   starts.get(key) if internal else bounds.start,
                                   None if internal else bounds.end, backlog, internal))
        if recover_batch is None and not any(w.internal for w in work) \
                and all(w.backlog.is_empty for w in work) and not planned.full_refresh \
                and not any(s.has_unwritten_discovery for s in sources.values()):
            return FlowWork(SKIP, "no new data", tuple(work))
        total = sum((w.backlog for w in work), Backlog())
        upstream = any(w.internal for w in work)
        reason = ", ".join(([f"{total.files:,} new file(s)"] if total.files or not upstream
                            else []) + (["what upstream flows write"] if upstream else []))
        return FlowWork(INCREMENTAL, reason, tuple(work), recover_batch,
                        reset=planned.full_refresh)

    # -- running -------------------------------------------------------------------------------

    def run(self, ctx: FlowContext) -> FlowMetrics:
        self.check(ctx)
        metrics = FlowMetrics(num_output_rows=0, details={"num_input_rows": 0})
        if ctx.work.action == SKIP:
            return metrics
        workspace = ctx.workspace
        sources = workspace.sources(ctx.flow)
        checkpoint = workspace.checkpoint(ctx.flow)
        target = workspace.table_log(ctx.flow.target)
        open_checkpoint(checkpoint, target)
        for source in sources.values():
            source.begin()  # what discovery found is recorded before any batch reads it
        recovery = recover(checkpoint, self.output_probe(workspace, ctx.planned))
        if recovery.rerun is not None:
            record = recovery.rerun
            _check_identities(record, sources)
            slices = {key: _slice_of(record, key, source) for key, source in sources.items()}
            no_data = record.watermark_ms is not None and all(
                s is None or not s.has_data for s in slices.values())
            before = recovery.last_commit
            self._run_batch(ctx, checkpoint, metrics, Batch(
                record.batch, slices, watermark_ms=record.watermark_ms or 0,
                previous_watermark_ms=record.previous_watermark_ms or 0,
                input_watermarks_ms=before.input_watermarks_ms if before is not None else (),
                timestamp_ms=record.timestamp_ms or _now_ms()), sources,
                {w.key: w.end for w in ctx.work.sources}, no_data=no_data, recorded=record,
                replace_commit=recovery.replace_commit)
        positions: dict[str, SourceOffset | None] = {w.key: w.start for w in ctx.work.sources}
        last = checkpoint.offsets.latest()
        committed = checkpoint.commits.latest()
        if last is not None:
            positions.update(_ends(last, sources))
        ends = self._ends(ctx, sources, positions)
        while not ctx.stop.is_set():
            number = 0 if last is None else last.batch + 1
            slices = {key: _next_slice(source, positions.get(key), ends.get(key))
                      for key, source in sources.items()}
            if all(s is None for s in slices.values()):
                break
            watermark, previous = _watermarks(last, committed)
            last, committed = self._run_batch(ctx, checkpoint, metrics, Batch(
                number, slices, watermark_ms=watermark, previous_watermark_ms=previous,
                input_watermarks_ms=_input_watermarks(committed), timestamp_ms=_now_ms()),
                sources, ends, positions=positions)
            for key, data in slices.items():
                if data is not None:
                    positions[key] = data.end
        if not ctx.stop.is_set() and last is not None and committed is not None \
                and last.watermark_ms is not None and committed.watermark_ms is not None \
                and committed.watermark_ms > last.watermark_ms:
            # As Spark does when the watermark rose and no data is left: a batch without input
            # that evicts state by the new watermark (the next batch's late rows are judged by
            # it too).
            watermark, previous = _watermarks(last, committed)
            batch = self.prepare(ctx, checkpoint, Batch(
                last.batch + 1, dict.fromkeys(sources), watermark_ms=watermark,
                previous_watermark_ms=previous, input_watermarks_ms=_input_watermarks(committed),
                timestamp_ms=_now_ms()), no_data=True)
            record = self._record(ctx, batch, positions, sources)
            self._execute(ctx, checkpoint, batch, record, metrics, recovering=False)
        return metrics

    def _run_batch(self, ctx: FlowContext, checkpoint: Checkpoint, metrics: FlowMetrics,
                   planned: Batch, sources: dict[str, StreamSource],
                   ends: dict[str, SourceOffset | None], *, no_data: bool = False,
                   recorded: OffsetRecord | None = None,
                   positions: dict[str, SourceOffset | None] | None = None,
                   replace_commit: bool = False) -> tuple[OffsetRecord, CommitRecord]:
        """Prepare and execute the `planned` batch: `recorded` when its offsets are recorded
        already (a rerun), else they are recorded from the sources' `positions`. When it fails
        and a source can read its slice another way that avoids the failure
        (`StreamSource.read_again_after`: a large file that is not UTF-8, read optimistically
        by the engine's line reader), the batch is prepared and run once more, from its
        recorded offsets when the first run recorded them: nothing of it was committed, and a
        writer whose marked commit landed is skipped, as in a rerun after a crash. (Each time
        it reads another way, at least one file moves to the other route: this ends.)"""
        record = recorded
        reported = False
        while True:
            batch = replace(planned)  # prepare() fills in its binder, writers, ...
            try:
                with _source_refusals(ctx, planned.slices):
                    batch = self.prepare(ctx, checkpoint, batch, no_data=no_data)
            except _ReadAgain:
                batch.close()
                continue
            recovering = record is not None
            if record is None:
                assert positions is not None
                record = self._record(ctx, batch, positions, sources)
            if not reported:
                _source_progress(metrics, sources, planned.slices, ends)
                reported = True
            try:
                return record, self._execute(ctx, checkpoint, batch, record, metrics,
                                             recovering=recovering,
                                             replace_commit=replace_commit)
            except _ReadAgain:
                continue  # (`_execute` closed the batch)

    def _record(self, ctx: FlowContext, batch: Batch, positions: dict[str, SourceOffset | None],
                sources: dict[str, StreamSource]) -> OffsetRecord:
        """Batch N's offsets: each source from its position to the slice's end (the same when
        it adds nothing), the writers' table versions, the watermarks it runs with."""
        ranges = {}
        for key, source in sources.items():
            data = batch.slices.get(key)
            start = positions.get(key)
            ranges[key] = SourceRange(_json(start), _json(data.end if data is not None else start),
                                      source.identity())
        return OffsetRecord(
            batch.number, ranges, writer_versions(batch.writers),
            watermark_ms=batch.watermark_ms if batch.has_watermark else None,
            previous_watermark_ms=batch.previous_watermark_ms if batch.has_watermark else None,
            update_id=ctx.update_id, timestamp_ms=batch.timestamp_ms)

    def _ends(self, ctx: FlowContext, sources: dict[str, StreamSource],
              positions: dict[str, SourceOffset | None]) -> dict[str, SourceOffset | None]:
        """The plan's end offsets; for the pipeline's own tables, their end now (after the
        flows upstream of this one wrote)."""
        ends: dict[str, SourceOffset | None] = {w.key: w.end for w in ctx.work.sources}
        for work in ctx.work.sources:
            if work.internal and work.key in sources:
                bounds = sources[work.key].bounds(positions.get(work.key))
                positions[work.key] = bounds.start
                ends[work.key] = bounds.end
        return ends

    def bind(self, ctx: FlowContext, checkpoint: Checkpoint, batch: Batch, *,
             result_rules: Any = None) -> tuple[StreamBatchBinder, OperatorContext]:
        """A binder of the batch's plan to its slices, with the stateful operators it reads
        through rewritten against their state (their writers are in the operator context).
        `result_rules`: expectations an operator whose output is the flow's result may count
        (`OperatorContext.result_rules`). The caller closes the binder (`batch.binder`)."""
        workspace = ctx.workspace
        sources = workspace.sources(ctx.flow)
        graph = ctx.graph
        streaming_views = {f.target for f in graph.flows
                           if f.streaming and graph.kind(f.target).is_view}

        def reads_stream(read: PlanRead) -> bool:
            if source_key(read, graph, workspace.project) is not None:
                return True
            return read.name is not None and graph.names.qualify(read.name) in streaming_views

        def rows_of_read(read: PlanRead) -> int | None:
            key = source_key(read, graph, workspace.project)
            data = batch.slices.get(key) if key is not None else None
            return data.backlog.records if data is not None else None

        operators = OperatorContext(
            spark=ctx.spark, checkpoint=checkpoint, batch=batch.number, logs=workspace.logs,
            reads_stream=reads_stream, rows_of_read=rows_of_read,
            columns_of=lambda relation: list(binder.rewriter.dataframe(relation).columns),
            bind=lambda relation: binder.rewriter.dataframe(relation),
            watermark_ms=batch.watermark_ms, previous_watermark_ms=batch.previous_watermark_ms)

        def transform(relation: proto.Relation, scope: str) -> proto.Relation:
            return rewrite_stateful(relation, scope, operators)

        frames = {key: sources[key].dataframe(ctx.spark, data)
                  for key, data in batch.slices.items()}
        binder = StreamBatchBinder(graph, ctx.spark, ctx.catalog, workspace.project, frames,
                                   transform=transform, scope=str(checkpoint.location),
                                   slice_schemas={key: sources[key].slice_schema(ctx.spark)
                                                  for key in batch.slices})
        batch.binder = binder
        if not binder.reads_file_metadata(ctx.flow):  # else the result drops hidden columns
            operators.result_rules = result_rules
        return binder, operators

    def _execute(self, ctx: FlowContext, checkpoint: Checkpoint, batch: Batch,
                 record: OffsetRecord, metrics: FlowMetrics, *, recovering: bool,
                 replace_commit: bool = False) -> CommitRecord:
        try:
            output = batch.writers[0] if batch.writers and batch.writers[0].name == OUTPUT \
                else None
            commit = run_batch(checkpoint, BatchPlan(
                record, batch.writers, output=output, num_input_rows=batch.num_input_rows,
                next_watermark_ms=batch.next_watermark_ms if batch.has_watermark else None,
                next_input_watermarks_ms=batch.next_input_watermarks_ms,
                recovering=recovering,
                replace_commit=replace_commit, pipeline=ctx.pipeline_name,
                update_id=ctx.update_id))
        except Exception as e:
            if not ctx.stop.is_set():
                _read_again_after(ctx, batch.slices, e)
                _refuse_failed_batch(ctx, batch.slices, e)
            problem = _unreadable_file(ctx, batch) if not ctx.stop.is_set() else None
            if problem is not None:
                raise LakesmithError(
                    f"Batch {batch.number} cannot be read: {problem}. Nothing of the batch was "
                    "committed.", hint="replace the file (or remove it, with its commit when the "
                    "source is a Delta table) and run again: the batch is read again from its "
                    "offsets. A file source can skip unreadable files with the option "
                    "ignoreCorruptFiles=true.") from e
            raise
        finally:
            batch.close()
        FlowQuality(ctx).register()
        _state_progress(metrics, [p() if callable(p) else p for p in batch.progress])
        self.committed(ctx, batch, commit, metrics)
        metrics.batches += 1
        metrics.num_output_rows = (metrics.num_output_rows or 0) + commit.num_output_rows
        earlier = metrics.details["num_input_rows"]
        metrics.details["num_input_rows"] = None if earlier is None or \
            commit.num_input_rows is None else earlier + commit.num_input_rows
        if batch.report is not None:
            metrics.details.setdefault("data_quality", QualityReport()).add(batch.report.result())
        sources = ctx.workspace.sources(ctx.flow)
        for key, data in batch.slices.items():
            if data is not None and data.backlog.versions is not None:
                name = sources[key].display_name
                first, last = data.backlog.versions
                earlier = metrics.source_versions.get(name, [first, last])
                metrics.source_versions[name] = [min(earlier[0], first), max(earlier[1], last)]
        ctx.report(metrics)
        return commit


def _source_progress(metrics: FlowMetrics, sources: dict[str, StreamSource],
                     slices: dict[str, SourceSlice | None],
                     ends: dict[str, SourceOffset | None]) -> None:
    """Per source, what the update has read so far and what is left after this batch, with the
    names Spark's streaming progress uses (numFilesOutstanding, numBytesOutstanding)."""
    progress = metrics.details.setdefault("sources", {})
    for key, data in slices.items():
        if data is None:
            continue
        source = sources[key]
        entry = progress.setdefault(source.display_name, {"numFilesRead": 0, "numBytesRead": 0})
        entry["numFilesRead"] += data.backlog.files
        entry["numBytesRead"] += data.backlog.bytes
        end = ends.get(key)
        left = source.backlog(data.end, end) if end is not None else Backlog()
        entry["numFilesOutstanding"] = left.files
        entry["numBytesOutstanding"] = left.bytes
        ignored = getattr(source, "ignored_files", None)
        if ignored:
            entry["corruptFilesIgnored"] = [{"path": path, "reason": reason}
                                            for path, reason in ignored.items()]


def _state_progress(metrics: FlowMetrics, batch: list[dict[str, Any]]) -> None:
    """Spark's `stateOperators` over the update: per operator, the rows in state after the last
    batch (`numRowsTotal`) and the other counts summed over the update's batches."""
    if not batch:
        return
    update: list[dict[str, Any]] = metrics.details.setdefault("stateOperators", [])
    for index, operator in enumerate(batch):
        if index == len(update):
            update.append(copy.deepcopy(operator))
            continue
        for name, value in operator.items():
            if name.startswith("num") and name != "numRowsTotal":
                update[index][name] = update[index].get(name, 0) + value
            elif isinstance(value, dict):  # customMetrics: counts too
                summed = update[index].setdefault(name, {})
                for key, count in value.items():
                    summed[key] = summed.get(key, 0) + count
            else:
                update[index][name] = value


def _input_watermarks(committed: CommitRecord | None) -> tuple[int | None, ...]:
    return committed.input_watermarks_ms if committed is not None else ()


@contextmanager
def _source_refusals(ctx: FlowContext, slices: dict[str, SourceSlice | None]) -> Iterator[None]:
    """A batch that fails while it is prepared (a stateful operator's scratch, an AUTO CDC
    check, a `fail` expectation read the sources): a source's own refusal explains it."""
    try:
        yield
    except Exception as e:
        if not ctx.stop.is_set():
            _read_again_after(ctx, slices, e)
            _refuse_failed_batch(ctx, slices, e)
        raise


class _ReadAgain(Exception):
    """A source now reads its slice another way that avoids the batch's failure: run it again."""


def _read_again_after(ctx: FlowContext, slices: dict[str, SourceSlice | None],
                      error: Exception) -> None:
    """Raise `_ReadAgain` (from `error`) when a source of the failed batch can avoid `error`."""
    if isinstance(error, _ReadAgain):
        return
    sources = ctx.workspace.sources(ctx.flow)
    changed = [key for key, data in slices.items() if data is not None and data.has_data
               and sources[key].read_again_after(ctx.spark, data, error)]
    if changed:
        raise _ReadAgain(f"{', '.join(changed)}: read again") from error


def _refuse_failed_batch(ctx: FlowContext, slices: dict[str, SourceSlice | None],
                         error: BaseException) -> None:
    """Raise a source's own error when a check its read carries failed the batch (a file
    stream's guard against new fields: the evolution mode's stop)."""
    sources = ctx.workspace.sources(ctx.flow)
    for key, data in slices.items():
        if data is not None and data.has_data:
            sources[key].refuse_failed_batch(ctx.spark, data, error)


def _unreadable_file(ctx: FlowContext, batch: Batch) -> str | None:
    sources = ctx.workspace.sources(ctx.flow)
    for key, data in batch.slices.items():
        if data is not None and data.has_data:
            problem = sources[key].diagnose(data)
            if problem is not None:
                return problem
    return None


def _next_slice(source: StreamSource, start: SourceOffset | None,
                end: SourceOffset | None) -> SourceSlice | None:
    """The source's part of the next batch; None when it has nothing (or does not exist)."""
    if start is None or end is None:
        return None
    return source.next_slice(start, end)


def _watermarks(last: OffsetRecord | None, committed: CommitRecord | None) -> tuple[int, int]:
    """The next batch's watermark (the one the last batch left, 0 at first) and the previous
    batch's (which judges late rows)."""
    watermark = committed.watermark_ms if committed is not None and committed.watermark_ms \
        is not None else 0
    previous = last.watermark_ms if last is not None and last.watermark_ms is not None else 0
    return watermark, previous


def _ends(record: OffsetRecord, sources: dict[str, StreamSource]) -> dict[str, SourceOffset]:
    """Where each source's reading continues after `record`'s batch."""
    ends: dict[str, SourceOffset] = {}
    for key, span in record.sources.items():
        source = sources.get(key)
        if source is not None and span.end is not None:
            ends[key] = source.offset_from_json(span.end)
    return ends


def _slice_of(record: OffsetRecord, key: str, source: StreamSource) -> SourceSlice | None:
    """A recorded batch's slice of one source, listed again from its offsets."""
    span = record.sources.get(key)
    if span is None or span.start is None or span.end is None:
        return None
    return source.slice_between(source.offset_from_json(span.start),
                                source.offset_from_json(span.end))


def _check_identities(record: OffsetRecord, sources: dict[str, StreamSource]) -> None:
    for key, span in record.sources.items():
        if key in sources:
            sources[key].check_identity(span.identity)


def _json(offset: SourceOffset | None) -> dict[str, Any] | None:
    return None if offset is None else offset.to_json()


def _now_ms() -> int:
    return int(time.time() * 1000)
