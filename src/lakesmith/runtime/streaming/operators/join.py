"""Inner stream-stream joins, with Spark's results: a pair of rows is output once, in the batch in
which the later of the two arrives.

Each side's rows are kept as state (a Delta table per side in the flow's checkpoint, each row with
the batch that brought it). Batch N runs the user's join, unchanged, over (state + batch N's rows)
on both sides, and keeps the pairs in which at least one row is batch N's: pairs of two earlier
rows were output before. Rows of a side with a watermark that are at or before the previous
batch's watermark are late and dropped, as Spark drops them. After the output lands, each side's
new rows are appended to its state with the batch's marker; a re-run of batch N reads only state
of earlier batches, so it outputs the same pairs.

With watermarks and a time constraint in the condition (`engine/join_time_bounds.py`), a row
leaves its side's state once no future row of the other side can match it, as in Spark; without
one, state is kept forever (as Spark keeps it). Not yet: outer and semi joins (refused at dry-run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.engine.join_time_bounds import JoinSide, UpperBound, upper_bounds
from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import all_relations, dataframe_of, relation_of
from lakesmith.engine.stateful import is_streaming_relation
from lakesmith.errors import NotSupportedYet
from lakesmith.runtime.checkpoint import Overwrite, StateAppend
from lakesmith.runtime.checkpoint.crash import AFTER_STATE
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


@dataclass
class _Side:
    """One side of the join as this batch sees it."""

    name: str  # "left" or "right"
    relation: proto.Relation  # as the join had it (its alias, its plan id)
    outer: proto.Relation | None  # its `alias(...)` node
    inner: proto.Relation  # the rows under the alias
    columns: list[str]
    events: list[EventTime]

    def shape(self) -> JoinSide:
        return JoinSide(self.outer.subquery_alias.alias if self.outer is not None else None,
                        frozenset(c.lower() for c in self.columns),
                        frozenset(e.column.lower() for e in self.events))


@register_operator("join")
class StreamStreamJoin(StatefulOperator):
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        join = node.join
        if not all(is_streaming_relation(side, ctx.reads_stream)
                   for side in (join.left, join.right)):
            unchanged = proto.Relation()
            unchanged.CopyFrom(node)  # a stream-static join works batch by batch
            return unchanged
        if join.join_type != proto.Join.JOIN_TYPE_INNER:
            kind = proto.Join.JoinType.Name(join.join_type).removeprefix("JOIN_TYPE_").lower()
            raise NotSupportedYet(f"flow '{ctx.checkpoint.flow}': a {kind} stream-stream join "
                                  "is not supported by lakesmith yet (inner joins are).")
        left, right = (_side_of(ctx, "left", join.left), _side_of(ctx, "right", join.right))
        condition = (join.join_condition.expression_string.expression
                     if join.join_condition.WhichOneof("expr_type") == "expression_string"
                     else None)
        rewritten = proto.Join()
        rewritten.CopyFrom(join)
        counts = []
        for side, other, batch_column, target in ((left, right, LEFT_BATCH, rewritten.left),
                                                  (right, left, RIGHT_BATCH, rewritten.right)):
            bounds = upper_bounds(condition, side.shape(), other.shape()) if condition else []
            rows, progress = self._side(ctx, f"{state_id}:{side.name}", side, batch_column,
                                        bounds)
            target.CopyFrom(rows)
            counts.append(progress)
        ctx.metrics.append(lambda: _join_progress([count() for count in counts]))
        joined: Any = dataframe_of(ctx.spark, proto.Relation(join=rewritten))
        new_pairs = (F.col(LEFT_BATCH) == F.lit(ctx.batch)) | (
            F.col(RIGHT_BATCH) == F.lit(ctx.batch))
        return relation_of(joined.where(new_pairs).drop(LEFT_BATCH, RIGHT_BATCH))

    def _side(self, ctx: OperatorContext, state_id: str, side: _Side, batch_column: str,
              bounds: list[UpperBound]) -> tuple[proto.Relation, Callable[[], dict[str, int]]]:
        """One side's rows for the join: its state plus the batch's rows that are not late,
        each with its batch; the side's own outer node (its alias, its plan id) kept on top, so
        the join condition resolves as the user wrote it. Adds the side's state writer: with a
        time constraint, the rows that can still match (the others are evicted)."""
        columns = [quote_always(c) for c in side.columns]
        arrived: Any = dataframe_of(ctx.spark, side.inner)
        rows = arrived
        for event in side.events:
            time = F.col(quote_always(event.column))
            rows = rows.where(time.isNull() | (
                F.unix_micros(time) > F.lit(ctx.previous_watermark_ms * 1000)))
        fresh = rows.select(*[F.col(c) for c in columns],
                            F.lit(ctx.batch).cast("bigint").alias(batch_column))
        log = ctx.logs(ctx.checkpoint.state_location(f"join-{state_id}"))
        has_state = log.version() is not None

        def earlier() -> Any:
            return (ctx.spark.read.format("delta").load(engine_path(log.location))
                    .where(F.col(STATE_BATCH) < F.lit(ctx.batch)))

        both = fresh
        if has_state:
            both = earlier().select(*[F.col(c) for c in columns],
                                    F.col(STATE_BATCH).alias(batch_column)).unionByName(fresh)
        fresh_relation = relation_of(fresh)
        alias = side.outer.subquery_alias.alias if side.outer is not None else None

        def kept(state_rows: Any) -> Any:
            """The rows that a future row of the other side can still match."""
            for bound in bounds:
                limit = F.unix_micros(F.expr(bound.expression))
                watermark = F.lit(ctx.watermark_ms * 1000)
                state_rows = state_rows.where(limit > watermark if bound.strict
                                              else limit >= watermark)
            return state_rows

        def new_rows() -> Any:
            return ctx.bind(fresh_relation).withColumnRenamed(batch_column, STATE_BATCH)

        def as_side(state_rows: Any) -> Any:
            return state_rows.alias(alias) if alias else state_rows

        def live() -> Any:
            """Kept rows, earlier and new (each side filtered before the union)."""
            now = kept(as_side(new_rows()))
            if not has_state:
                return now
            return kept(as_side(ctx.bind(relation_of(earlier())))).unionByName(now)

        name = f"state:{state_id}"
        if bounds:
            ctx.writers.append(Overwrite(name, log, live, crash_point=AFTER_STATE))
        else:
            ctx.writers.append(StateAppend(name, log, new_rows))

        def progress() -> dict[str, int]:
            received = int(ctx.bind(relation_of(arrived)).count())
            added = int(new_rows().count())
            before = int(ctx.bind(relation_of(earlier())).count()) if has_state else 0
            after = int(live().count()) if bounds else before + added
            return {"numRowsTotal": after, "numRowsUpdated": added,
                    "numRowsRemoved": before + added - after,
                    "numRowsDroppedByWatermark": received - added}

        result = relation_of(both)
        if side.outer is None:
            return _with_plan_id(result, side.relation), progress
        wrapped = proto.Relation()
        wrapped.CopyFrom(side.outer)
        wrapped.subquery_alias.input.CopyFrom(result)
        return wrapped, progress


def _side_of(ctx: OperatorContext, name: str, relation: proto.Relation) -> _Side:
    outer, inner = _split_alias(relation)
    if outer is None:  # its plan id moves to the rows that replace it (no duplicates)
        inner = proto.Relation()
        inner.CopyFrom(relation)
        inner.common.ClearField("plan_id")
    return _Side(name, relation, outer, inner, ctx.columns_of(inner),
                 _event_times(inner, ctx.event_times))


def _join_progress(sides: list[dict[str, int]]) -> dict[str, Any]:
    """Spark's counts for the join (both sides' state stores together)."""
    return {"operatorName": "symmetricHashJoin",
            **{name: sum(side[name] for side in sides) for name in sides[0]}}


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
