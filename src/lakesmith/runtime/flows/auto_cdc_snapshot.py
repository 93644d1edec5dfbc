"""AUTO CDC flows from snapshots (`dlt.create_auto_cdc_from_snapshot_flow`): each snapshot is one
batch of the checkpoint protocol, whose offset record holds the snapshot's version (`start`: the
version applied before it). A table source gives one snapshot per update, its current Delta
version (none when that version was applied already); a function source is called with the last
applied version until it returns None.

Exactly once: a batch's only writer is an `IdempotentMerge` of the difference between the
snapshot and the target (`cdc/snapshot.py`), so a rerun after a crash at any point reads the same
snapshot again (a table at the recorded version; a function called with the recorded previous
version, which must return the recorded version) and finds the target already equal to it when
the MERGE landed (SCD type 2: `cdc/snapshot_scd2.py`, the snapshot against the target's open
versions). The commit record then says the version was applied; the next batch starts
from it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.cdc.scd1 import OP, merge_sql
from lakesmith.cdc.scd2 import counts as scd2_counts
from lakesmith.cdc.scd2 import merge_sql as scd2_merge_sql
from lakesmith.cdc.snapshot import SnapshotDiff, conform, snapshot_spec
from lakesmith.cdc.snapshot_scd2 import Scd2SnapshotDiff
from lakesmith.cdc.spec import END_AT, START_AT, cast_to
from lakesmith.engine.paths import engine_path
from lakesmith.graph.flows import AutoCdcSnapshotFlow
from lakesmith.graph.graph import ResolvedFlow
from lakesmith.runtime.checkpoint import (
    BatchPlan,
    Checkpoint,
    IdempotentMerge,
    Marker,
    OffsetRecord,
    SourceRange,
    open_checkpoint,
    recover,
    run_batch,
    verify_checkpoint,
    writer_versions,
)
from lakesmith.runtime.checkpoint.log import BatchLog
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows import AUTO_CDC_SNAPSHOT, register_runner
from lakesmith.runtime.flows.auto_cdc import check_cdc_target
from lakesmith.runtime.flows.base import FlowContext, FlowRunner
from lakesmith.runtime.flows.cdc_counts import counts_log, recorded
from lakesmith.runtime.flows.micro_batch import OUTPUT
from lakesmith.runtime.flows.snapshots import Snapshots, snapshots_for
from lakesmith.runtime.plan import INCREMENTAL, SKIP, FlowWork, PlannedFlow
from lakesmith.runtime.schema import declared_schema
from lakesmith.runtime.workspace import Workspace

SNAPSHOT = "snapshot"  # the offset record's source key


@register_runner(AUTO_CDC_SNAPSHOT)
class AutoCdcSnapshotRunner(FlowRunner):
    def plan(self, workspace: Workspace, planned: PlannedFlow) -> FlowWork:
        snapshots = snapshots_for(workspace, planned.flow)
        if planned.full_refresh:
            return FlowWork(INCREMENTAL, snapshots.reason, reset=True)
        checkpoint = workspace.checkpoint(planned.flow)
        verify_checkpoint(checkpoint, workspace.table_log(planned.flow.target))
        recovery = recover(checkpoint, None)
        rerun = recovery.rerun.batch if recovery.rerun is not None else None
        if rerun is None and snapshots.up_to_date(applied_version(checkpoint)):
            return FlowWork(SKIP, "no new snapshot")
        return FlowWork(INCREMENTAL, snapshots.reason, recover_batch=rerun)

    def run(self, ctx: FlowContext) -> FlowMetrics:
        _check(ctx)
        metrics = FlowMetrics(num_output_rows=0, details={
            "num_input_rows": 0, "num_upserted_rows": 0, "num_deleted_rows": 0})
        if ctx.work.action == SKIP:
            return metrics
        checkpoint = ctx.workspace.checkpoint(ctx.flow)
        open_checkpoint(checkpoint, ctx.workspace.table_log(ctx.flow.target))
        snapshots = snapshots_for(ctx.workspace, ctx.flow).for_run(ctx)
        recovery = recover(checkpoint, None)
        if recovery.rerun is not None:
            record = recovery.rerun
            span = record.sources[SNAPSHOT]
            assert span.start is not None and span.end is not None
            snapshot = snapshots.at(span.end["version"], span.start["version"])
            self._apply(ctx, checkpoint, record, snapshot, metrics, recovering=True)
        last = checkpoint.offsets.latest()
        applied = applied_version(checkpoint)
        while not ctx.stop.is_set():
            found = snapshots.next(applied)
            if found is None:
                break
            snapshot, version = found
            number = 0 if last is None else last.batch + 1
            record = OffsetRecord(
                number, {SNAPSHOT: SourceRange({"version": applied}, {"version": version},
                                               snapshots.identity)},
                update_id=ctx.update_id, timestamp_ms=int(time.time() * 1000))
            last = self._apply(ctx, checkpoint, record, snapshot, metrics, recovering=False)
            applied = version
            if not snapshots.many_per_update:
                break
        return metrics

    def _apply(self, ctx: FlowContext, checkpoint: Checkpoint, record: OffsetRecord,
               snapshot: Any, metrics: FlowMetrics, *, recovering: bool) -> OffsetRecord:
        """Run one snapshot through the protocol: its record, the MERGE, its commit."""
        flow = _snapshot_flow(ctx.flow)
        ctx.catalog.register(ctx.flow.target)
        target = ctx.spark.read.format("delta").load(
            engine_path(ctx.catalog.location(ctx.flow.target)))
        spec = snapshot_spec(flow, snapshot)
        version = record.sources[SNAPSHOT].end
        assert version is not None
        where = _describe_source(flow, version["version"])
        merge: _SnapshotMerge
        if spec.scd_type == 2:
            rows = conform(spec, snapshot, target.drop(START_AT, END_AT), where)
            history = Scd2SnapshotDiff(spec, rows, target, version["version"])
            merge = _SnapshotMerge(ctx, history.merge_source, scd2_counts,
                                   lambda view: scd2_merge_sql(spec, _engine_name(ctx), view),
                                   counts_log(checkpoint))
        else:
            diff = SnapshotDiff(spec, conform(spec, snapshot, target, where), target,
                                version["version"])
            scd = diff.batch(where, record.timestamp_ms)
            merge = _SnapshotMerge(ctx, scd.merge_source, scd1_counts,
                                   lambda view: merge_sql(spec, _engine_name(ctx), view),
                                   counts_log(checkpoint))
        writer = IdempotentMerge(OUTPUT, ctx.workspace.table_log(ctx.flow.target), merge)
        if not recovering:
            record = OffsetRecord(record.batch, record.sources, writer_versions([writer]),
                                  update_id=record.update_id, timestamp_ms=record.timestamp_ms)
        run_batch(checkpoint, BatchPlan(record, [writer], output=writer, num_input_rows=None,
                                        recovering=recovering, pipeline=ctx.pipeline_name,
                                        update_id=ctx.update_id))
        merge.log.purge(record.batch, checkpoint.retain)
        metrics.batches += 1
        metrics.num_output_rows = (metrics.num_output_rows or 0) + \
            merge.details["num_upserted_rows"]
        for key, value in merge.details.items():
            metrics.details[key] = metrics.details.get(key, 0) + value
        metrics.details["snapshot_version"] = version["version"]
        ctx.report(metrics)
        return record


class _SnapshotMerge:
    """The snapshot's MERGE, skipped when the target already equals the snapshot; `details`
    are the rows it upserts and deletes (and, SCD type 2, the versions it opens and closes),
    counted from its source before it runs and recorded once per batch (`cdc_counts.py`)."""

    def __init__(self, ctx: FlowContext, source: Callable[[], Any],
                 count: Callable[[Any], dict[str, int]], sql: Callable[[str], str],
                 log: BatchLog[dict[str, int]]) -> None:
        self.ctx = ctx
        self.source = source
        self.count = count
        self.sql = sql
        self.log = log
        self.details: dict[str, int] = {"num_upserted_rows": 0, "num_deleted_rows": 0}

    def __call__(self, marker: Marker) -> None:
        assert marker.batch is not None
        ctx = self.ctx
        changes = self.source()
        schema = declared_schema(ctx.spark, ctx.table)
        if schema is not None:
            changes = cast_to(changes, schema)
        view = f"__lakesmith_cdc_{uuid.uuid4().hex}"
        changes.createOrReplaceTempView(view)
        try:
            counted = self.count(ctx.spark.table(view))
            self.details = recorded(self.log, marker.batch, counted)
            if counted["num_upserted_rows"] or counted["num_deleted_rows"]:
                ctx.spark.sql(self.sql(view))
        finally:
            ctx.spark.catalog.dropTempView(view)


def scd1_counts(changes: Any) -> dict[str, int]:
    """Rows an SCD type 1 MERGE upserts and deletes (one small row read)."""
    row = changes.agg(
        F.count(F.when(F.col(OP) == "U", F.lit(1))).alias("u"),
        F.count(F.when(F.col(OP) == "D", F.lit(1))).alias("d")).collect()[0]
    return {"num_upserted_rows": int(row["u"] or 0), "num_deleted_rows": int(row["d"] or 0)}


def _engine_name(ctx: FlowContext) -> str:
    return ctx.catalog.engine_name(ctx.flow.target)


def applied_version(checkpoint: Checkpoint) -> Any:
    """The version of the newest snapshot recorded (None before the first); after recovery it
    is also the newest applied."""
    last = checkpoint.offsets.latest()
    if last is None:
        return None
    span = last.sources.get(SNAPSHOT)
    return span.end.get("version") if span is not None and span.end is not None else None


def _check(ctx: FlowContext) -> None:
    check_cdc_target(ctx, "the snapshot's columns")


def _describe_source(flow: AutoCdcSnapshotFlow, version: Any) -> str:
    if flow.source_name is not None:
        return f"'{flow.source_name}' (version {version})"
    return f"next_snapshot_and_version (version {version!r})"


def _snapshot_flow(flow: ResolvedFlow) -> AutoCdcSnapshotFlow:
    found = flow.flow
    assert isinstance(found, AutoCdcSnapshotFlow)
    return found


__all__ = ["AutoCdcSnapshotRunner", "Snapshots", "applied_version"]
