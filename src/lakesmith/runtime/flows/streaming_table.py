"""Streaming flows into streaming tables: micro-batches over incremental sources, exactly once.

A triggered update processes everything available and stops: batch after batch, each bounded by
the sources' limits (maxFilesPerTrigger, maxBytesPerTrigger). Each batch follows the checkpoint
protocol (see `runtime.streaming.checkpoint`); `_recover` finishes or re-runs a batch a crash
interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.plans import PlanRead
from lakesmith.graph.model import DatasetKind
from lakesmith.runtime.events import FlowMetrics
from lakesmith.errors import LakesmithError
from lakesmith.quality.expectations import QualityReport
from lakesmith.runtime.flows.base import FlowContext, FlowRunner
from lakesmith.runtime.flows.quality import FlowQuality, PendingReport
from lakesmith.runtime.flows.writing import require_delta, write_delta
from lakesmith.runtime.schema import conform, declared_schema
from lakesmith.runtime.streaming.binder import StreamBatchBinder
from lakesmith.runtime.streaming.checkpoint import BatchRecord, Checkpoint, crash_point
from lakesmith.runtime.streaming.dedup import Deduplication
from lakesmith.runtime.streaming.sources import flow_sources, source_key
from lakesmith.sources.delta_log import commits_after, latest_version
from lakesmith.sources.delta_stream import DeltaOffset, DeltaSlice, DeltaStreamSource
from lakesmith.tables import delta


@dataclass
class _PreparedBatch:
    binder: StreamBatchBinder
    df: Any  # the batch's result, before expectations
    dedup: Deduplication
    slices: dict[str, DeltaSlice | None]
    sources: dict[str, DeltaStreamSource]
    quality: FlowQuality
    result: Any = None  # the rows to write: `df` less the rows `drop` rules remove
    report: PendingReport | None = None

    def __post_init__(self) -> None:
        if self.result is None:
            self.result = self.df


class StreamingTableRunner(FlowRunner):
    def run(self, ctx: FlowContext) -> FlowMetrics:
        require_delta(ctx.dataset)
        checkpoint = Checkpoint(ctx.checkpoint_root(), ctx.flow.name)
        sources = flow_sources(ctx.flow, ctx.graph, ctx.catalog)
        metrics = FlowMetrics(num_output_rows=0, details={"num_input_rows": 0})
        pending = checkpoint.pending_batch()
        if pending is not None:
            self._recover(ctx, checkpoint, sources, pending, metrics)
        while not ctx.stop.is_set():
            last = checkpoint.latest_offsets()
            batch = 0 if last is None else last.batch + 1
            starts = _ends(last)
            _check_same_tables(last, sources)
            slices = {key: source.next_slice(starts.get(key)) for key, source in sources.items()}
            if all(s is None for s in slices.values()):
                break
            prepared = self._prepare(ctx, checkpoint, sources, batch, slices)
            # Expectations are checked before the batch is recorded: a violated `fail` rule
            # leaves the checkpoint and the tables exactly as they were.
            self._check(ctx, prepared)
            record = {
                "sources": {key: {**_range(starts.get(key), slices[key]),
                                  "table_id": sources[key].table_id()} for key in sources},
                "target_version": latest_version(ctx.catalog.location(ctx.flow.target)),
                "state_versions": prepared.dedup.versions(),
                "quarantine_version": prepared.quality.quarantine_version(),
            }
            checkpoint.write_offsets(batch, record)
            self._execute(ctx, checkpoint, batch, record, prepared, metrics)
        return metrics

    # -- one batch -----------------------------------------------------------------------------

    def _prepare(self, ctx: FlowContext, checkpoint: Checkpoint,
                 sources: dict[str, DeltaStreamSource], batch: int,
                 slices: dict[str, DeltaSlice | None]) -> _PreparedBatch:
        """The batch's plan, bound to its slices; finds the deduplication states it uses."""
        files = {key: (s.files if s is not None else ()) for key, s in slices.items()}
        dedup = self._deduplication(ctx, checkpoint, batch)
        binder = StreamBatchBinder(
            ctx.graph, ctx.spark, ctx.catalog,
            {key: sources[key].slice_dataframe(ctx.spark, files[key]) for key in sources},
            transform=dedup.transform)
        df = binder.batch_dataframe(ctx.flow.relation)
        schema = declared_schema(ctx.spark, ctx.dataset)
        if schema is not None:
            df = conform(df, ctx.dataset, schema)
        return _PreparedBatch(binder, df, dedup, slices, sources, FlowQuality(ctx))

    def _check(self, ctx: FlowContext, prepared: _PreparedBatch) -> None:
        if any(s is not None and s.files for s in prepared.slices.values()):
            try:
                prepared.result, prepared.report = prepared.quality.check(prepared.df)
            except BaseException:
                prepared.binder.close()
                raise

    def _execute(self, ctx: FlowContext, checkpoint: Checkpoint, batch: int,
                 record: dict[str, Any], prepared: _PreparedBatch, metrics: FlowMetrics,
                 *, output_landed: bool = False) -> None:
        try:
            if not any(s is not None and s.files for s in prepared.slices.values()):
                checkpoint.write_commit(batch, {"num_output_rows": 0, "num_input_rows": 0})
                return
            target = ctx.catalog.location(ctx.flow.target)
            marker = checkpoint.marker_json(batch, pipeline=ctx.pipeline_name,
                                            update_id=ctx.update_id)
            if not output_landed:
                write_delta(prepared.result, target, mode="append", marker=marker,
                            partition_cols=ctx.dataset.partition_cols)
            crash_point("after_output", checkpoint.flow, batch)
            prepared.quality.write_quarantine(
                prepared.df, prepared.report, batch=batch, mode="append", marker=marker,
                checkpoint=checkpoint, version_before=record.get("quarantine_version"))
            prepared.dedup.save(prepared.binder.rewriter.dataframe, record["state_versions"])
            rows = _rows_written(checkpoint, target, record["target_version"], batch)
            input_rows = sum((s.num_records or 0) for s in prepared.slices.values()
                             if s is not None)
            checkpoint.write_commit(batch, {"num_output_rows": rows, "num_input_rows": input_rows})
            metrics.batches += 1
            metrics.num_output_rows = (metrics.num_output_rows or 0) + rows
            if prepared.report is not None:
                metrics.details.setdefault("data_quality", QualityReport()).add(
                    prepared.report.result())
            metrics.details["num_input_rows"] += input_rows
            for key, data_slice in prepared.slices.items():
                if data_slice is not None and data_slice.versions is not None:
                    name = prepared.sources[key].display_name
                    first, last = data_slice.versions
                    earlier = metrics.source_versions.get(name, [first, last])
                    metrics.source_versions[name] = [min(earlier[0], first), max(earlier[1], last)]
            ctx.report(metrics)
        finally:
            prepared.binder.close()

    def _recover(self, ctx: FlowContext, checkpoint: Checkpoint,
                 sources: dict[str, DeltaStreamSource], pending: BatchRecord,
                 metrics: FlowMetrics) -> None:
        """Batch N was planned (its offsets written) but not committed: finish it if its output
        landed, else run it again over exactly the same input."""
        record = pending.data
        slices: dict[str, DeltaSlice | None] = {}
        for key, source in sources.items():
            span = record["sources"].get(key)
            if span is None or span["end"] is None:
                slices[key] = None
                continue
            start = DeltaOffset.from_json(span["start"]) if span["start"] else None
            slices[key] = source.slice_between(start, DeltaOffset.from_json(span["end"]))
        target = ctx.catalog.location(ctx.flow.target)
        landed = any(checkpoint.matches(c.user_metadata, pending.batch)
                     for c in commits_after(target, record.get("target_version")))
        prepared = self._prepare(ctx, checkpoint, sources, pending.batch, slices)
        self._check(ctx, prepared)
        self._execute(ctx, checkpoint, pending.batch, record, prepared, metrics,
                      output_landed=landed)

    def _deduplication(self, ctx: FlowContext, checkpoint: Checkpoint, batch: int) -> Deduplication:
        graph = ctx.graph
        streaming_views = {f.target for f in graph.flows
                           if f.streaming and graph.kind(f.target) == DatasetKind.TEMPORARY_VIEW}

        def reads_stream(read: PlanRead) -> bool:
            if source_key(read, graph) is not None:
                return True
            return read.name is not None and graph.names.qualify(read.name) in streaming_views

        def columns_of(relation: proto.Relation) -> list[str]:
            return list(ctx.binder.rewriter.dataframe(relation).columns)

        return Deduplication(ctx.spark, checkpoint, batch, reads_stream, columns_of)


def _ends(last: BatchRecord | None) -> dict[str, DeltaOffset | None]:
    if last is None:
        return {}
    return {key: DeltaOffset.from_json(span["end"]) if span["end"] else None
            for key, span in last.data["sources"].items()}


def _check_same_tables(last: BatchRecord | None, sources: dict[str, DeltaStreamSource]) -> None:
    """A source table deleted and created again restarts its versions: the recorded offsets
    would then name other data. Spark refuses that too."""
    if last is None:
        return
    for key, span in last.data["sources"].items():
        recorded = span.get("table_id")
        source = sources.get(key)
        if recorded is None or source is None:
            continue
        current = source.table_id()
        if current is not None and current != recorded:
            raise LakesmithError(
                f"The source table '{source.display_name}' at {source.root} was replaced by another "
                f"table (id {current}, the checkpoint read {recorded}); the stream cannot continue "
                "from its offsets.", hint="run a full refresh of this streaming table.")


def _range(start: DeltaOffset | None, data_slice: DeltaSlice | None) -> dict[str, Any]:
    end = data_slice.end if data_slice is not None else start
    return {"start": start.to_json() if start else None, "end": end.to_json() if end else None}


def _rows_written(checkpoint: Checkpoint, target: Any, version_before: int | None,
                  batch: int) -> int:
    for commit in commits_after(target, version_before):
        if checkpoint.matches(commit.user_metadata, batch):
            return delta.output_rows(commit.info) or 0
    return 0  # an empty result makes no commit

