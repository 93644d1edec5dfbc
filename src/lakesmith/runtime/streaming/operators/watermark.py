"""`withWatermark(column, delay)`: the event time the batch's watermark follows. The node itself
passes its input through; the operators above it (deduplication, aggregation) drop late rows and
evict state by the watermark, and the flow advances it after each batch (`next_watermarks`).

With several watermarks (a union or join of streams, each with its own), Spark's rule holds: each
input's watermark is the largest event time it has seen less its delay, raised only by batches in
which it saw rows; the global watermark is the minimum of the inputs' that have seen rows
(`spark.sql.streaming.multipleWatermarkPolicy` = `min`, the default) or their maximum (`max`), and
never goes down. The inputs' watermarks are kept in the commit record, so a restart goes on with
them as a query that never stopped would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.engine.intervals import interval_ms
from lakesmith.errors import LakesmithError
from lakesmith.runtime.streaming.operators import (
    EventTime,
    OperatorContext,
    StatefulOperator,
    register_operator,
)

POLICY = "spark.sql.streaming.multipleWatermarkPolicy"


@register_operator("with_watermark")
class Watermark(StatefulOperator):
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        watermark = node.with_watermark
        ctx.event_times.append(EventTime(
            watermark.event_time,
            interval_ms(watermark.delay_threshold, what=f"the delay of withWatermark("
                        f"'{watermark.event_time}', '{watermark.delay_threshold}')"),
            watermark.input, index=len(ctx.event_times),
            plan_id=node.common.plan_id if node.HasField("common") else None))
        return watermark.input


def watermark_policy(conf: Mapping[str, str]) -> str:
    """`min` or `max`, as Spark reads `spark.sql.streaming.multipleWatermarkPolicy`."""
    value = conf.get(POLICY, "min")
    if value.lower() not in ("min", "max"):
        raise LakesmithError(
            f"[INVALID_CONF_VALUE] '{value}' is not a valid value for the configuration "
            f"'{POLICY}': use 'min' (the default) or 'max'.")
    return value.lower()


def next_watermarks(ctx: OperatorContext, inputs: tuple[int | None, ...], policy: str
                    ) -> tuple[int | None, tuple[int | None, ...]]:
    """The global watermark after this batch and each input's (None without a watermark);
    `inputs` are the inputs' watermarks before it. One small aggregation per input, in the
    engine; late rows count (they still show how far the input has come)."""
    if not ctx.event_times:
        return None, ()
    known = list(inputs) + [None] * (len(ctx.event_times) - len(inputs))
    for event in ctx.event_times:
        row: Any = ctx.bind(event.input).agg(
            F.unix_micros(F.max(F.col(event.column))).alias("m")).collect()[0]
        if row["m"] is None:
            continue
        candidate = int(row["m"]) // 1000 - event.delay_ms
        earlier = known[event.index]
        if earlier is None or candidate > earlier:
            known[event.index] = candidate
    seen = [w for w in known if w is not None]
    if not seen:
        return ctx.watermark_ms, tuple(known)
    chosen = min(seen) if policy == "min" else max(seen)
    return max(ctx.watermark_ms, chosen), tuple(known)
