"""`withWatermark(column, delay)`: the event time the batch's watermark follows. The node itself
passes its input through; the operators above it (deduplication today) drop late rows and evict
state by the watermark, and the flow advances it after each batch (see `next_watermark_ms`)."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.engine.intervals import interval_ms
from lakesmith.errors import NotSupportedYet
from lakesmith.runtime.streaming.operators import (
    EventTime,
    OperatorContext,
    StatefulOperator,
    register_operator,
)


@register_operator("with_watermark")
class Watermark(StatefulOperator):
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        watermark = node.with_watermark
        if ctx.event_time is not None:
            raise NotSupportedYet(
                "a flow with more than one withWatermark (a global watermark over several "
                "inputs) is not supported yet.")
        ctx.event_time = EventTime(
            watermark.event_time,
            interval_ms(watermark.delay_threshold, what=f"the delay of withWatermark("
                        f"'{watermark.event_time}', '{watermark.delay_threshold}')"),
            watermark.input)
        return watermark.input


def next_watermark_ms(ctx: OperatorContext) -> int | None:
    """The watermark after this batch: the largest event time that reached the watermark (late
    rows included) less the delay, never lower than before; None without a watermark. One small
    aggregation in the engine."""
    event = ctx.event_time
    if event is None:
        return None
    row: Any = ctx.bind(event.input).agg(
        F.unix_micros(F.max(F.col(event.column))).alias("m")).collect()[0]
    if row["m"] is None:
        return ctx.watermark_ms
    return max(ctx.watermark_ms, int(row["m"]) // 1000 - event.delay_ms)
