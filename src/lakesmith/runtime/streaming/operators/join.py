"""Stream-stream joins (inner, left/right outer, left semi), with Spark's results: a pair of rows
is output once, in the batch in which the later of the two arrives; an outer join's unmatched row
with nulls when it leaves the state; a semi join's row once, at its first match.

Each side's rows are kept as state (a Delta table per side in the flow's checkpoint, each row with
the batch that brought it). Batch N runs the user's join, unchanged, over (state + batch N's rows)
on both sides, and keeps the pairs in which at least one row is batch N's: pairs of two earlier
rows were output before. Rows of a side with a watermark that are at or before the previous
batch's watermark are late and dropped, as Spark drops them. After the output lands, each side's
new rows are appended to its state with the batch's marker; a re-run of batch N reads only state
of earlier batches, so it outputs the same pairs.

With watermarks and a time constraint in the condition (`engine/join_time_bounds.py`), a row
leaves its side's state once no future row of the other side can match it, as in Spark; without
one, state is kept forever (as Spark keeps it). The kept side of an outer or semi join stores
each row's identity (batch, place) and whether it has matched. Not yet: anti and full outer joins
(refused at dry-run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.engine.expression_sql import expression_sql
from lakesmith.engine.join_time_bounds import JoinSide, UpperBound, upper_bounds
from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import all_relations, dataframe_of, relation_of
from lakesmith.engine.stateful import is_streaming_relation
from lakesmith.engine.streaming_aggregate import unaliased
from lakesmith.errors import LakesmithError, NotSupportedYet
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
STATE_ROW = "__lakesmith_row"
MATCHED = "__lakesmith_matched"  # on the side an outer join keeps: whether a row found a match


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
        watermarked = frozenset(e.column.lower() for e in self.events)
        return JoinSide(self.outer.subquery_alias.alias if self.outer is not None else None,
                        frozenset(c.lower() for c in self.columns), watermarked,
                        _window_columns(self.inner, watermarked))


@dataclass
class _Rows:
    """A side's rows for batch N: state plus the batch's rows that are not late."""

    side: _Side
    columns: list[str]  # quoted
    batch_column: str
    row_column: str | None  # a row's identity (batch, row), on the side an outer join keeps
    arrived: Any  # the batch's rows, late ones included
    fresh: Any  # the batch's rows that are not late, with batch (and row)
    earlier: Callable[[], Any] | None  # state rows of earlier batches, as stored
    bounds: list[UpperBound]
    watermark_us: int
    # The kept side of a semi join: a row is output once, when it first matches, and leaves
    # the state then (one matched on arrival never enters it); `matched` is (batch, row) of
    # the kept side's rows matched now.
    semi: bool = False
    matched: Any | None = None

    def same_row(self) -> Any:
        """Join condition of this side's rows with `matched` (by batch and place)."""
        assert self.row_column is not None
        return (F.col(self.batch_column) == F.col("__m_batch")) & (
            F.col(self.row_column) == F.col("__m_row"))

    def stored_fresh(self) -> Any:
        """The batch's rows that enter the state (on a semi join's kept side, the unmatched)."""
        if not self.semi or self.matched is None or self.row_column is None:
            return self.fresh
        return self.fresh.join(self.matched, self.same_row(), "left_anti")

    @property
    def alias(self) -> str | None:
        return self.side.outer.subquery_alias.alias if self.side.outer is not None else None

    def as_side(self, rows: Any) -> Any:
        return rows.alias(self.alias) if self.alias else rows

    def kept(self, rows: Any) -> Any:
        """The rows that a future row of the other side can still match."""
        for bound in self.bounds:
            limit = F.unix_micros(F.expr(bound.expression))
            watermark = F.lit(self.watermark_us)
            rows = rows.where(limit > watermark if bound.strict else limit >= watermark)
        return rows

    def evicted(self) -> Any:
        """Whether a row of this side leaves the state now (what `kept` leaves out), as a
        condition on the side's columns (by its alias)."""
        conditions = [F.unix_micros(F.expr(b.expression)) <= F.lit(self.watermark_us)
                      if b.strict else F.unix_micros(F.expr(b.expression)) < F.lit(
                          self.watermark_us) for b in self.bounds]
        any_of = conditions[0]
        for condition in conditions[1:]:
            any_of = any_of | condition
        return any_of

    def stored_earlier(self) -> Any:
        """Earlier state rows in the join's shape (state columns renamed to this side's)."""
        assert self.earlier is not None
        extra = [F.col(STATE_BATCH).alias(self.batch_column)]
        if self.row_column is not None:
            extra += [F.col(STATE_ROW).alias(self.row_column), F.col(MATCHED)]
        return self.earlier().select(*[F.col(c) for c in self.columns], *extra)

    def both(self) -> Any:
        fresh = self.fresh
        if self.row_column is not None:
            fresh = fresh.withColumn(MATCHED, F.lit(False))
        return self.stored_earlier().unionByName(fresh) if self.earlier is not None else fresh

    def relation(self) -> proto.Relation:
        """The join's input for this side: its alias (or plan id) kept on top, so the
        condition resolves as the user wrote it."""
        result = relation_of(self.both())
        if self.side.outer is None:
            return _with_plan_id(result, self.side.relation)
        wrapped = proto.Relation()
        wrapped.CopyFrom(self.side.outer)
        wrapped.subquery_alias.input.CopyFrom(result)
        return wrapped

    def to_state(self, rows: Any) -> Any:
        """Rows in this side's shape, as the state table stores them."""
        renamed = rows.withColumnRenamed(self.batch_column, STATE_BATCH)
        if self.row_column is not None:
            renamed = renamed.withColumnRenamed(self.row_column, STATE_ROW)
        return renamed


@register_operator("join")
class StreamStreamJoin(StatefulOperator):
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        join = node.join
        if not all(is_streaming_relation(side, ctx.reads_stream)
                   for side in (join.left, join.right)):
            unchanged = proto.Relation()
            unchanged.CopyFrom(node)  # a stream-static join works batch by batch
            return unchanged
        kind = proto.Join.JoinType.Name(join.join_type).removeprefix("JOIN_TYPE_").lower()
        kept_side = {proto.Join.JOIN_TYPE_INNER: None, proto.Join.JOIN_TYPE_LEFT_OUTER: "left",
                     proto.Join.JOIN_TYPE_RIGHT_OUTER: "right",
                     proto.Join.JOIN_TYPE_LEFT_SEMI: "left"}
        semi = join.join_type == proto.Join.JOIN_TYPE_LEFT_SEMI
        if join.join_type not in kept_side:
            raise NotSupportedYet(f"flow '{ctx.checkpoint.flow}': a {kind} stream-stream join "
                                  "is not supported by lakesmith yet (inner, left/right outer and "
                                  "left semi joins are).")
        preserved = kept_side[join.join_type]
        left, right = (_side_of(ctx, "left", join.left), _side_of(ctx, "right", join.right))
        condition = _condition_sql(join.join_condition, (left, right))
        sides: dict[str, _Rows] = {}
        for side, other, batch_column in ((left, right, LEFT_BATCH), (right, left, RIGHT_BATCH)):
            bounds = upper_bounds(condition, side.shape(), other.shape()) if condition else []
            if side.name == preserved and not bounds and not semi:
                raise LakesmithError(
                    f"flow '{ctx.checkpoint.flow}': Stream-stream {kind} join between two "
                    "streaming DataFrame/Datasets is not supported without a watermark in the "
                    "join keys, or a watermark on the nullable side and an appropriate range "
                    "condition.", hint="put withWatermark on both streams and a time range in "
                    "the condition, e.g. expr(\"a.id = b.id AND b.ts BETWEEN a.ts AND a.ts + "
                    "INTERVAL 1 HOUR\"), qualifying columns by the sides' aliases.")
            sides[side.name] = self._rows(ctx, f"{state_id}:{side.name}", side, batch_column,
                                          bounds, with_row=side.name == preserved)
            sides[side.name].semi = semi and side.name == preserved
        rewritten = proto.Join()
        rewritten.CopyFrom(join)
        rewritten.left.CopyFrom(sides["left"].relation())
        rewritten.right.CopyFrom(sides["right"].relation())
        joined: Any = dataframe_of(ctx.spark, proto.Relation(join=rewritten))
        new_pairs = (F.col(LEFT_BATCH) == F.lit(ctx.batch)) | (
            F.col(RIGHT_BATCH) == F.lit(ctx.batch))
        output = joined.where(new_pairs)
        matched = None
        extra = [LEFT_BATCH, RIGHT_BATCH]
        if semi:
            # A left row is output once: in the batch its first match shows up.
            kept, partner = sides["left"], sides["right"]
            output = joined.where(~F.col(MATCHED))
            matched = self._matched(ctx, join, kept, partner)
            kept.matched = matched
            extra += [MATCHED, *[r.row_column for r in sides.values() if r.row_column]]
        elif preserved is not None:
            # One outer join of all rows: pairs with a row of this batch, and the kept side's
            # earlier rows that leave the state now without ever having found a match (Spark
            # outputs them with nulls then; a batch's own rows evicted at once never entered the
            # state and are not output).
            ctx.emits_without_input = True  # a rising watermark alone can output rows
            kept, partner = sides[preserved], sides["right" if preserved == "left" else "left"]
            pair = F.col(partner.batch_column).isNotNull() & new_pairs
            lonely = (F.col(partner.batch_column).isNull()
                      & (F.col(kept.batch_column) < F.lit(ctx.batch))
                      & ~F.col(MATCHED) & kept.evicted())
            output = joined.where(pair | lonely)
            matched = self._matched(ctx, join, kept, partner)
            extra += [MATCHED, *[r.row_column for r in sides.values() if r.row_column]]
        for rows in sides.values():
            self._state_writer(ctx, f"{state_id}:{rows.side.name}", rows, matched)
        ctx.metrics.append(lambda: _join_progress([_progress(ctx, r) for r in sides.values()]))
        return relation_of(output.drop(*extra))

    def _rows(self, ctx: OperatorContext, state_id: str, side: _Side, batch_column: str,
              bounds: list[UpperBound], *, with_row: bool) -> _Rows:
        columns = [quote_always(c) for c in side.columns]
        arrived: Any = dataframe_of(ctx.spark, side.inner)
        rows = arrived
        keys = [bound for bound in bounds if bound.on_key]
        if keys:
            # A watermark in the join keys: late rows are those whose key the previous
            # watermark has passed (Spark's key predicate for late events).
            alias = side.outer.subquery_alias.alias if side.outer is not None else None
            aliased = rows.alias(alias) if alias else rows
            for bound in keys:
                key = F.unix_micros(F.expr(bound.expression))
                aliased = aliased.where(key > F.lit(ctx.previous_watermark_ms * 1000))
            rows = aliased
        for event in [] if keys else side.events:
            time = F.col(quote_always(event.column))
            rows = rows.where(time.isNull() | (
                F.unix_micros(time) > F.lit(ctx.previous_watermark_ms * 1000)))
        row_column = f"{batch_column}_row" if with_row else None
        fresh = rows.select(*[F.col(c) for c in columns],
                            F.lit(ctx.batch).cast("bigint").alias(batch_column),
                            *([F.monotonically_increasing_id().alias(row_column)]
                              if row_column else []))
        log = ctx.logs(ctx.checkpoint.state_location(f"join-{state_id}"))
        earlier = None
        if log.version() is not None:
            def earlier() -> Any:
                return (ctx.spark.read.format("delta").load(engine_path(log.location))
                        .where(F.col(STATE_BATCH) < F.lit(ctx.batch)))
        return _Rows(side, columns, batch_column, row_column, arrived, fresh, earlier, bounds,
                     ctx.watermark_ms * 1000)

    def _matched(self, ctx: OperatorContext, join: proto.Join, kept: _Rows, other: _Rows) -> Any:
        """(batch, row) of the kept side's rows that some row of the other side (state or
        batch) matches now."""
        semi = proto.Join()
        semi.CopyFrom(join)
        semi.join_type = proto.Join.JOIN_TYPE_LEFT_SEMI
        semi.left.CopyFrom(kept.relation())
        semi.right.CopyFrom(other.relation())
        assert kept.row_column is not None
        found: Any = dataframe_of(ctx.spark, proto.Relation(join=semi))
        return found.select(F.col(kept.batch_column).alias("__m_batch"),
                            F.col(kept.row_column).alias("__m_row")).distinct()

    def _state_writer(self, ctx: OperatorContext, state_id: str, rows: _Rows,
                      matched: Any | None) -> None:
        log = ctx.logs(ctx.checkpoint.state_location(f"join-{state_id}"))
        name = f"state:{state_id}"
        fresh_relation = relation_of(rows.fresh)

        def new_rows() -> Any:
            return rows.to_state(ctx.bind(fresh_relation))

        if not rows.bounds and rows.row_column is None:
            ctx.writers.append(StateAppend(name, log, new_rows))
            return

        def live() -> Any:
            """Kept rows, earlier and new, each side filtered before the union; on the side an
            outer join keeps, with whether a row has found a match."""
            fresh = rows.stored_fresh()
            parts = [fresh.withColumn(MATCHED, F.lit(False)) if rows.row_column else fresh]
            if rows.earlier is not None:
                parts.insert(0, rows.stored_earlier())
            kept_parts = []
            for part in parts:
                part = rows.kept(rows.as_side(part))
                if rows.semi and matched is not None and rows.row_column is not None:
                    # A matched row is done: it leaves.
                    part = part.join(matched, rows.same_row(),
                                     "left_anti")
                elif rows.row_column is not None and matched is not None:
                    part = part.join(matched, rows.same_row(), "left")
                    part = part.withColumn(MATCHED, F.col(MATCHED) | F.col("__m_batch")
                                           .isNotNull()).drop("__m_batch", "__m_row")
                kept_parts.append(rows.to_state(part))
            result = kept_parts[0]
            for part in kept_parts[1:]:
                result = result.unionByName(part)
            return ctx.bind(relation_of(result))

        ctx.writers.append(Overwrite(name, log, live, crash_point=AFTER_STATE))


def _progress(ctx: OperatorContext, rows: _Rows) -> dict[str, int]:
    """One side's counts: rows added to state, evicted, kept, dropped as late."""
    received = int(ctx.bind(relation_of(rows.arrived)).count())
    fresh = int(ctx.bind(relation_of(rows.fresh)).count())
    added = int(ctx.bind(relation_of(rows.stored_fresh())).count()) if rows.semi else fresh
    before = int(ctx.bind(relation_of(rows.earlier())).count()) if rows.earlier else 0
    if rows.bounds or rows.semi:
        after = int(ctx.bind(relation_of(rows.kept(rows.as_side(rows.stored_fresh()))))
                    .count())
        if rows.earlier is not None:
            earlier = rows.stored_earlier()
            if rows.semi and rows.matched is not None:
                assert rows.row_column is not None
                earlier = earlier.join(rows.matched, rows.same_row(), "left_anti")
            after += int(ctx.bind(relation_of(rows.kept(rows.as_side(earlier)))).count())
    else:
        after = before + added
    return {"numRowsTotal": after, "numRowsUpdated": added,
            "numRowsRemoved": before + added - after,
            "numRowsDroppedByWatermark": received - fresh}


def _condition_sql(condition: proto.Expression, sides: tuple[_Side, _Side]) -> str | None:
    """The join condition as SQL text: as written in `expr(...)`, or written from its Columns
    (a `df["col"]` reference qualified by its side's alias)."""
    if condition.WhichOneof("expr_type") == "expression_string":
        return condition.expression_string.expression
    if condition.WhichOneof("expr_type") is None:
        return None
    qualifiers = {rel.common.plan_id: side.outer.subquery_alias.alias
                  for side in sides if side.outer is not None
                  for rel in all_relations(side.relation)
                  if rel.HasField("common") and rel.common.HasField("plan_id")}
    return expression_sql(condition, qualifiers)


def _side_of(ctx: OperatorContext, name: str, relation: proto.Relation) -> _Side:
    outer, inner = _split_alias(relation)
    if outer is None:  # its plan id moves to the rows that replace it (no duplicates)
        inner = proto.Relation()
        inner.CopyFrom(relation)
        inner.common.ClearField("plan_id")
    return _Side(name, relation, outer, inner, ctx.columns_of(inner),
                 _event_times(inner, ctx.event_times))


def _window_columns(side: proto.Relation, watermarked: frozenset[str]) -> frozenset[str]:
    """The columns a projection in `side` makes a `window(...)` of a watermarked column
    (`select(window("ts", "10 minutes").alias("w"), ...)`), lower case."""
    found = set()
    for rel in all_relations(side):
        if rel.WhichOneof("rel_type") != "project":
            continue
        for expression in rel.project.expressions:
            name = (expression.alias.name[0].lower()
                    if expression.WhichOneof("expr_type") == "alias" else "window")
            function = unaliased(expression)
            if function.WhichOneof("expr_type") == "unresolved_function" \
                    and function.unresolved_function.function_name.lower() == "window" \
                    and function.unresolved_function.arguments:
                time = unaliased(function.unresolved_function.arguments[0])
                if time.WhichOneof("expr_type") == "unresolved_attribute" and \
                        time.unresolved_attribute.unparsed_identifier.strip("`").lower() \
                        in watermarked:
                    found.add(name)
    return frozenset(found)


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
