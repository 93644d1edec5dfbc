"""AUTO CDC flows from snapshots (`dlt.create_auto_cdc_from_snapshot_flow`): each snapshot is one
batch of the checkpoint protocol, whose offset record holds the snapshot's version (`start`: the
version applied before it). A table source gives one snapshot per update, its current Delta
version (none when that version was applied already); a function source is called with the last
applied version until it returns None.

Exactly once: a batch's only writer is an `IdempotentMerge` of the difference between the
snapshot and the target (`cdc/snapshot.py`), so a rerun after a crash at any point reads the same
snapshot again (a table at the recorded version; a function called with the recorded previous
version, which must return the recorded version) and finds the target already equal to it when
the MERGE landed. The commit record then says the version was applied; the next batch starts
from it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.cdc.scd1 import OP, merge_sql
from lakesmith.cdc.snapshot import SnapshotDiff, conform, snapshot_spec
from lakesmith.cdc.spec import cast_to
from lakesmith.engine.paths import engine_path
from lakesmith.errors import NotSupportedYet
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
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows import AUTO_CDC_SNAPSHOT, register_runner
from lakesmith.runtime.flows.auto_cdc import check_cdc_target
from lakesmith.runtime.flows.base import FlowContext, FlowRunner
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
        snapshots = snapshots_for(ctx.workspace, ctx.flow)
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
        diff = SnapshotDiff(spec, conform(spec, snapshot, target, where), target,
                            version["version"])
        merge = _SnapshotMerge(ctx, diff.batch(where, record.timestamp_ms))
        writer = IdempotentMerge(OUTPUT, ctx.workspace.table_log(ctx.flow.target), merge)
        if not recovering:
            record = OffsetRecord(record.batch, record.sources, writer_versions([writer]),
                                  update_id=record.update_id, timestamp_ms=record.timestamp_ms)
        run_batch(checkpoint, BatchPlan(record, [writer], output=writer, num_input_rows=None,
                                        recovering=recovering, pipeline=ctx.pipeline_name,
                                        update_id=ctx.update_id))
        metrics.batches += 1
        upserted, deleted = merge.counts
        metrics.num_output_rows = (metrics.num_output_rows or 0) + upserted
        metrics.details["num_upserted_rows"] += upserted
        metrics.details["num_deleted_rows"] += deleted
        metrics.details["snapshot_version"] = version["version"]
        ctx.report(metrics)
        return record


class _SnapshotMerge:
    """The snapshot's MERGE (the SCD type 1 one), skipped when the target already equals the
    snapshot; `counts` are the rows it upserted and deleted (counted before it runs)."""

    def __init__(self, ctx: FlowContext, scd: Any) -> None:
        self.ctx = ctx
        self.scd = scd
        self.counts = (0, 0)

    def __call__(self, marker: Marker) -> None:
        ctx = self.ctx
        changes = self.scd.merge_source()
        schema = declared_schema(ctx.spark, ctx.table)
        if schema is not None:
            changes = cast_to(changes, schema)
        view = f"__lakesmith_cdc_{uuid.uuid4().hex}"
        changes.createOrReplaceTempView(view)
        try:
            row = ctx.spark.table(view).agg(
                F.count(F.when(F.col(OP) == "U", F.lit(1))).alias("u"),
                F.count(F.when(F.col(OP) == "D", F.lit(1))).alias("d")).collect()[0]
            self.counts = (int(row["u"] or 0), int(row["d"] or 0))
            if any(self.counts):
                ctx.spark.sql(merge_sql(self.scd.spec, ctx.catalog.engine_name(ctx.flow.target),
                                        view))
        finally:
            ctx.spark.catalog.dropTempView(view)


def applied_version(checkpoint: Checkpoint) -> Any:
    """The version of the newest snapshot recorded (None before the first); after recovery it
    is also the newest applied."""
    last = checkpoint.offsets.latest()
    if last is None:
        return None
    span = last.sources.get(SNAPSHOT)
    return span.end.get("version") if span is not None and span.end is not None else None


def _check(ctx: FlowContext) -> None:
    flow = _snapshot_flow(ctx.flow)
    if flow.stored_as_scd_type == 2:
        raise NotSupportedYet(
            f"AUTO CDC flow '{flow.name}' (at {flow.location}): snapshots stored as SCD type 2 "
            "are not supported by lakesmith yet; use stored_as_scd_type=1.")
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
