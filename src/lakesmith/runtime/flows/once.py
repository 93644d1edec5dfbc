"""Once flows (`append_flow(once=True)`, SQL `INSERT INTO ONCE`): a batch query appended to a
streaming table a single time, until the table is fully refreshed. Its checkpoint holds one batch,
written with the same protocol as a micro-batch, so a crash neither loses nor repeats it."""

from __future__ import annotations

from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows.base import FlowContext, FlowRunner
from lakesmith.runtime.flows.quality import FlowQuality
from lakesmith.runtime.flows.writing import require_delta, write_delta
from lakesmith.runtime.schema import conform, declared_schema
from lakesmith.runtime.streaming.checkpoint import Checkpoint, crash_point
from lakesmith.sources.delta_log import commits_after, latest_version
from lakesmith.tables import delta

BATCH = 0


class OnceFlowRunner(FlowRunner):
    def run(self, ctx: FlowContext) -> FlowMetrics:
        require_delta(ctx.dataset)
        checkpoint = Checkpoint(ctx.checkpoint_root(), ctx.flow.name)
        if checkpoint.latest_commit() is not None:
            return FlowMetrics(num_output_rows=0, details={"skipped": "already ran once"})
        target = ctx.catalog.location(ctx.flow.target)
        pending = checkpoint.pending_batch()
        if pending is None:
            record = {"sources": {}, "target_version": latest_version(target)}
            checkpoint.write_offsets(BATCH, record)
        else:
            record = pending.data
        landed = any(checkpoint.matches(c.user_metadata, BATCH)
                     for c in commits_after(target, record["target_version"]))
        df = ctx.binder.flow_dataframe(ctx.flow)
        schema = declared_schema(ctx.spark, ctx.dataset)
        if schema is not None:
            df = conform(df, ctx.dataset, schema)
        quality = FlowQuality(ctx)
        result, report = quality.check(df)
        marker = checkpoint.marker_json(BATCH, pipeline=ctx.pipeline_name, update_id=ctx.update_id)
        if not landed:
            write_delta(result, target, mode="append", marker=marker,
                        partition_cols=ctx.dataset.partition_cols)
        crash_point("after_output", checkpoint.flow, BATCH)
        quality.write_quarantine(df, report, batch=BATCH, mode="append", marker=marker,
                                 checkpoint=checkpoint)
        rows = next((delta.output_rows(c.info) or 0 for c in commits_after(
            target, record["target_version"]) if checkpoint.matches(c.user_metadata, BATCH)), 0)
        checkpoint.write_commit(BATCH, {"num_output_rows": rows})
        metrics = FlowMetrics(num_output_rows=rows, batches=1)
        if report is not None:
            metrics.details["data_quality"] = report.result()
        return metrics
