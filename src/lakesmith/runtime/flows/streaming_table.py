"""Streaming flows into streaming tables: each micro-batch's rows are appended to the target with
the batch's marker (the loop, recovery and binding are `micro_batch.py`'s)."""

from __future__ import annotations

from lakesmith.graph.model import DatasetKind
from lakesmith.runtime.checkpoint import AppendWithMarker, BatchWriter, Checkpoint
from lakesmith.runtime.flows import register_runner
from lakesmith.runtime.flows.base import FlowContext, require_delta
from lakesmith.runtime.flows.micro_batch import OUTPUT, Batch, MicroBatchRunner
from lakesmith.runtime.flows.quality import FlowQuality
from lakesmith.runtime.schema import declared, nullable
from lakesmith.runtime.streaming.operators.watermark import next_watermarks, watermark_policy


@register_runner(DatasetKind.STREAMING_TABLE.value)
class StreamingTableRunner(MicroBatchRunner):
    def check(self, ctx: FlowContext) -> None:
        require_delta(ctx.table)

    def prepare(self, ctx: FlowContext, checkpoint: Checkpoint, batch: Batch, *,
                no_data: bool = False) -> Batch:
        """The batch's plan bound to its slices, with its writers: output, quarantine, state
        (a no-data batch: state only). Expectations are checked here, before the batch is
        recorded: a violated `fail` rule leaves the checkpoint and the tables as they were.
        When a deduplication gives the flow's result, it counts the other rules with its state
        (`FlowQuality.countable_by_state`)."""
        if not batch.has_data and not no_data:
            return batch
        quality = FlowQuality(ctx)
        binder, operators = self.bind(ctx, checkpoint, batch,
                                      result_rules=quality.countable_by_state())
        try:
            df = binder.batch_dataframe(ctx.flow)
            batch.has_watermark = bool(operators.event_times)
            batch.progress = tuple(progress() for progress in operators.metrics)
            batch.next_watermark_ms = batch.watermark_ms
            batch.next_input_watermarks_ms = batch.input_watermarks_ms
            if no_data and not operators.emits_without_input:
                batch.writers = tuple(operators.writers)
                return batch
            df = declared(ctx.spark, df, ctx.table)
            if operators.counted is not None and operators.result_schema is not None:
                df._cached_schema = operators.result_schema  # known: no analysis round trip
            result, batch.report = quality.counted(df, operators.counted) \
                if operators.counted is not None else quality.check(df)
            if not no_data:
                conf = {**ctx.workspace.configuration, **ctx.flow.flow.spark_conf}
                batch.next_watermark_ms, batch.next_input_watermarks_ms = next_watermarks(
                    operators, batch.input_watermarks_ms, watermark_policy(conf))
        except BaseException:
            binder.close()
            raise
        writers: list[BatchWriter] = [AppendWithMarker(
            OUTPUT, ctx.workspace.table_log(ctx.flow.target),
            lambda: nullable(ctx.spark, result, ctx.table, known=binder.known_schema(result)),
            partition_cols=ctx.table.partition_cols)]
        quarantine = quality.writer(df, batch.report, batch=batch.number)
        if quarantine is not None:
            writers.append(quarantine)
        writers.extend(operators.writers)
        batch.writers = tuple(writers)
        return batch
