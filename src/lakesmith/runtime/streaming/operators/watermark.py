"""`withWatermark`: lakesmith accepts it (so far) only under dropDuplicatesWithinWatermark, which
reads its column and delay itself; in the batch plan the node passes its input through."""

from __future__ import annotations

from pyspark.sql.connect import proto

from lakesmith.runtime.streaming.operators import (
    OperatorContext,
    StatefulOperator,
    register_operator,
)


@register_operator("with_watermark")
class Watermark(StatefulOperator):
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        return node.with_watermark.input
