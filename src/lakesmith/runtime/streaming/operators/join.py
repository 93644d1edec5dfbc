"""Inner stream-stream joins, with Spark's results: a pair of rows is output once, in the batch in
which the later of the two arrives.

Each side's rows are kept as state (a Delta table per side in the flow's checkpoint, each row with
the batch that brought it). Batch N runs the user's join, unchanged, over (state + batch N's rows)
on both sides, and keeps the pairs in which at least one row is batch N's: pairs of two earlier
rows were output before. Rows of a side with a watermark that are at or before the previous
batch's watermark are late and dropped, as Spark drops them. After the output lands, each side's
new rows are appended to its state with the batch's marker; a re-run of batch N reads only state
of earlier batches, so it outputs the same pairs.

Not yet: evicting state by the watermark and a time constraint (the state grows with the stream,
as Spark's does for a join without watermarks), and outer/semi joins (refused at dry-run).
"""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import all_relations, dataframe_of, relation_of
from lakesmith.engine.stateful import is_streaming_relation
from lakesmith.errors import NotSupportedYet
from lakesmith.runtime.checkpoint import StateAppend
from lakesmith.runtime.streaming.operators import (
    EventTime,
    OperatorContext,
    StatefulOperator,
    register_operator,
)
from lakesmith.tables.catalog import quote_always

LEFT_BATCH = "__lakesmith_left_batch"
RIGHT_BATCH = "__lakesmith_right_batch"
STATE_BATCH = "__lakesmith_batch"


@register_operator("join")
class StreamStreamJoin(StatefulOperator):
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        join = node.join
        sides = (join.left, join.right)
        if not all(is_streaming_relation(side, ctx.reads_stream) for side in sides):
            unchanged = proto.Relation()
            unchanged.CopyFrom(node)  # a stream-static join works batch by batch
            return unchanged
        if join.join_type != proto.Join.JOIN_TYPE_INNER:
            kind = proto.Join.JoinType.Name(join.join_type).removeprefix("JOIN_TYPE_").lower()
            raise NotSupportedYet(f"flow '{ctx.checkpoint.flow}': a {kind} stream-stream join "
                                  "is not supported by lakesmith yet (inner joins are).")
        rewritten = proto.Join()
        rewritten.CopyFrom(join)
        for side, relation, batch_column in (("left", join.left, LEFT_BATCH),
                                             ("right", join.right, RIGHT_BATCH)):
            rows = self._side(ctx, f"{state_id}:{side}", relation, batch_column)
            target = rewritten.left if side == "left" else rewritten.right
            target.CopyFrom(rows)
        joined: Any = dataframe_of(ctx.spark, proto.Relation(join=rewritten))
        new_pairs = (F.col(LEFT_BATCH) == F.lit(ctx.batch)) | (
            F.col(RIGHT_BATCH) == F.lit(ctx.batch))
        return relation_of(joined.where(new_pairs).drop(LEFT_BATCH, RIGHT_BATCH))

    def _side(self, ctx: OperatorContext, state_id: str, relation: proto.Relation,
              batch_column: str) -> proto.Relation:
        """One side's rows for the join: its state plus the batch's rows that are not late,
        each with its batch; the side's own outer node (its alias, its plan id) kept on top, so
        the join condition resolves as the user wrote it. Adds the side's state writer."""
        outer, inner = _split_alias(relation)
        if outer is None:  # its plan id moves to the rows that replace it (no duplicates)
            inner = proto.Relation()
            inner.CopyFrom(relation)
            inner.common.ClearField("plan_id")
        columns = [quote_always(c) for c in ctx.columns_of(inner)]
        rows: Any = dataframe_of(ctx.spark, inner)
        for event in _event_times(inner, ctx.event_times):
            time = F.col(quote_always(event.column))
            rows = rows.where(time.isNull() | (
                F.unix_micros(time) > F.lit(ctx.previous_watermark_ms * 1000)))
        fresh = rows.select(*[F.col(c) for c in columns],
                            F.lit(ctx.batch).cast("bigint").alias(batch_column))
        log = ctx.logs(ctx.checkpoint.state_location(f"join-{state_id}"))
        both = fresh
        if log.version() is not None:
            earlier = (ctx.spark.read.format("delta").load(engine_path(log.location))
                       .where(F.col(STATE_BATCH) < F.lit(ctx.batch))
                       .select(*[F.col(c) for c in columns],
                               F.col(STATE_BATCH).alias(batch_column)))
            both = earlier.unionByName(fresh)
        fresh_relation = relation_of(fresh)

        def new_state() -> Any:
            return ctx.bind(fresh_relation).withColumnRenamed(batch_column, STATE_BATCH)

        ctx.writers.append(StateAppend(f"state:{state_id}", log, new_state))
        side = relation_of(both)
        if outer is None:
            return _with_plan_id(side, relation)
        wrapped = proto.Relation()
        wrapped.CopyFrom(outer)
        wrapped.subquery_alias.input.CopyFrom(side)
        return wrapped


def _split_alias(relation: proto.Relation) -> tuple[proto.Relation | None, proto.Relation]:
    """(the side's `alias(...)` node, what it aliases), or (None, the side)."""
    if relation.WhichOneof("rel_type") == "subquery_alias":
        return relation, relation.subquery_alias.input
    return None, relation


def _with_plan_id(rows: proto.Relation, original: proto.Relation) -> proto.Relation:
    """`rows` carrying the plan id of the side it replaces (df["col"] references use it)."""
    copied = proto.Relation()
    copied.CopyFrom(rows)
    if original.HasField("common") and original.common.HasField("plan_id"):
        copied.common.plan_id = original.common.plan_id
    return copied


def _event_times(side: proto.Relation, event_times: list[EventTime]) -> list[EventTime]:
    """The watermarks applied within `side` (their nodes were replaced, keeping plan ids)."""
    ids = {rel.common.plan_id for rel in all_relations(side)
           if rel.HasField("common") and rel.common.HasField("plan_id")}
    return [event for event in event_times if event.plan_id is not None and event.plan_id in ids]
