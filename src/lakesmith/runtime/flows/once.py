"""Once flows (`append_flow(once=True)`, SQL `INSERT INTO ONCE`): a batch query appended to a
streaming table a single time, until the table is fully refreshed. Its checkpoint holds one batch,
run with the same protocol as a micro-batch, so a crash neither loses nor repeats it."""

from __future__ import annotations

from lakesmith.runtime.checkpoint import (
    AppendWithMarker,
    BatchPlan,
    BatchWriter,
    OffsetRecord,
    open_checkpoint,
    recover,
    run_batch,
    verify_checkpoint,
    writer_versions,
)
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows import ONCE, register_runner
from lakesmith.runtime.flows.base import FlowContext, FlowRunner, require_delta
from lakesmith.runtime.flows.quality import FlowQuality
from lakesmith.runtime.plan import RUN_ONCE, SKIP, FlowWork, PlannedFlow
from lakesmith.runtime.schema import declared, nullable
from lakesmith.runtime.workspace import Workspace

BATCH = 0


@register_runner(ONCE)
class OnceFlowRunner(FlowRunner):
    def plan(self, workspace: Workspace, planned: PlannedFlow) -> FlowWork:
        if planned.full_refresh:
            return FlowWork(RUN_ONCE, "the table is reset", reset=True)
        checkpoint = workspace.checkpoint(planned.flow)
        # Checkpoint and table must agree (and be of this format): refused now, not half-way.
        verify_checkpoint(checkpoint, workspace.table_log(planned.flow.target))
        if checkpoint.commits.latest_batch() is not None:
            return FlowWork(SKIP, "already ran once")
        if checkpoint.offsets.latest_batch() is not None:
            return FlowWork(RUN_ONCE, "interrupted before", recover_batch=BATCH)
        return FlowWork(RUN_ONCE, "has not run since the table was created or reset")

    def run(self, ctx: FlowContext) -> FlowMetrics:
        if ctx.work.action == SKIP:
            return FlowMetrics(num_output_rows=0, details={"skipped": ctx.work.reason})
        require_delta(ctx.table)
        checkpoint = ctx.workspace.checkpoint(ctx.flow)
        target = ctx.workspace.table_log(ctx.flow.target)
        open_checkpoint(checkpoint, target)
        df = declared(ctx.spark, ctx.binder.flow_dataframe(ctx.flow), ctx.table)
        quality = FlowQuality(ctx)
        result, report = quality.check(df)
        writers: list[BatchWriter] = [AppendWithMarker(
            "output", target, lambda: nullable(ctx.spark, result, ctx.table),
            partition_cols=ctx.table.partition_cols)]
        quarantine = quality.writer(df, report, batch=BATCH)
        if quarantine is not None:
            writers.append(quarantine)
        recovery = recover(checkpoint, writers[0])
        if recovery.last_commit is not None and recovery.rerun is None:
            return FlowMetrics(num_output_rows=0, details={"skipped": "already ran once"})
        record = recovery.rerun or OffsetRecord(BATCH, {}, writer_versions(writers),
                                                update_id=ctx.update_id)
        commit = run_batch(checkpoint, BatchPlan(
            record, writers, output=writers[0], recovering=recovery.rerun is not None,
            replace_commit=recovery.replace_commit, pipeline=ctx.pipeline_name,
            update_id=ctx.update_id))
        quality.register()
        metrics = FlowMetrics(num_output_rows=commit.num_output_rows, batches=1)
        if report is not None:
            metrics.details["data_quality"] = report.result()
        return metrics
