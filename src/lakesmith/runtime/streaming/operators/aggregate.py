"""Streaming aggregation in append mode, with Spark's results: each group (a window, or an event
time, with the other keys) is output once, when the watermark passes its end.

Batch N runs the user's aggregation, unchanged, as a batch aggregation over the rows it still
needs: the raw input rows of earlier batches kept as state, plus batch N's rows; then keeps the
groups whose end is after the previous batch's watermark (older groups were output before, and
new rows for them are late: Spark drops them) and at or before batch N's own watermark (final now).
After the output lands, the state is rewritten with the rows some group still open after batch N
needs (a row of a sliding window belongs to several groups; it leaves with its last one).

Why raw rows rather than partial aggregates: every aggregate function then gives Spark's result
by construction, the set-valued ones (`collect_set`, `approx_count_distinct`) and the
order-sensitive ones (`first`, `last`, `collect_list`) included, with no per-function merge rule;
the state is bounded by the rows of open groups, which the watermark keeps small. The order Spark
follows across batches (earlier batches first, then a batch's rows as read) is kept explicit: each
row carries its batch and its place in it, and `first`/`last`/`collect_list` are computed by it.

Re-running batch N after a crash reads the state rows of batches before N only, as in
deduplication, so it gives the same output whether or not N's state rewrite landed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import column_of, dataframe_of, nested_messages, relation_of
from lakesmith.engine.streaming_aggregate import (
    NO_WATERMARK,
    NO_WATERMARK_HINT,
    EventTimeKey,
    SessionWindow,
    TimeWindow,
    aggregation_problem,
    event_time_key,
    unaliased,
)
from lakesmith.errors import LakesmithError
from lakesmith.runtime.checkpoint import Overwrite
from lakesmith.runtime.checkpoint.crash import AFTER_STATE
from lakesmith.runtime.streaming.operators import (
    OperatorContext,
    StatefulOperator,
    register_operator,
)
from lakesmith.tables.catalog import quote_always

BATCH_COLUMN = "__lakesmith_batch"
ROW_COLUMN = "__lakesmith_row"  # a row's place within its batch
SOURCE_COLUMN = "__lakesmith_from_batch"
SESSION_COLUMN = "__lakesmith_session"
GAP_COLUMN = "__lakesmith_gap_us"
_EXPRESSION = proto.Expression.DESCRIPTOR.full_name
# Aggregate functions whose result depends on the order of rows: computed by arrival order.
_FIRST = {"first", "first_value"}
_LAST = {"last", "last_value"}
_LIST = {"collect_list", "array_agg", "list"}


@register_operator("aggregate")
class StreamingAggregate(StatefulOperator):
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        aggregate = node.aggregate
        watermarked = {event.column.lower() for event in ctx.event_times}
        problem = aggregation_problem(aggregate, watermarked)
        if problem is not None:
            raise LakesmithError(
                f"flow '{ctx.checkpoint.flow}' applies an aggregation to a stream: {problem}",
                hint=NO_WATERMARK_HINT if problem == NO_WATERMARK else None)
        key = event_time_key(aggregate, watermarked)
        assert key is not None
        aggregate = _by_name(aggregate)
        ctx.emits_without_input = True
        log = ctx.logs(ctx.checkpoint.state_location(f"aggregate-{state_id}"))
        has_state = log.version() is not None
        columns = [quote_always(c) for c in ctx.columns_of(aggregate.input)]
        prev_us = ctx.previous_watermark_ms * 1000
        now_us = ctx.watermark_ms * 1000

        batch_rows: Any = dataframe_of(ctx.spark, aggregate.input).select(
            *[F.col(c) for c in columns], F.lit(ctx.batch).cast("bigint").alias(BATCH_COLUMN),
            F.monotonically_increasing_id().alias(ROW_COLUMN))
        kept = [*columns, BATCH_COLUMN, ROW_COLUMN]
        sessions = _Sessions(aggregate, key) if isinstance(key.window, SessionWindow) else None
        arrived = batch_rows
        if sessions is not None:
            # A session can still grow by a row only if the row is not late: late rows are
            # dropped before sessions are formed (Spark: the row's own [ts, ts + gap) ends at
            # or before the watermark).
            batch_rows = batch_rows.where(sessions.row_end_us() > F.lit(prev_us))

        def earlier() -> Any:
            """State rows of batches before this one (never this batch's: a rerun is the same)."""
            return (ctx.spark.read.format("delta").load(engine_path(log.location))
                    .where(F.col(BATCH_COLUMN) < F.lit(ctx.batch)).select(*kept))

        rows = earlier().unionByName(batch_rows) if has_state else batch_rows
        grouped = aggregate
        if sessions is not None:
            rows = sessions.assign(rows)
            grouped = sessions.grouped(aggregate, ctx.spark.client)
        aggregated = _aggregate(ctx, grouped, sessions.named(rows) if sessions else rows)
        end = _group_end(key, ctx.columns_of(relation_of(aggregated))[key.index])
        output = relation_of(aggregated.where((end > F.lit(prev_us)) & (end <= F.lit(now_us))))

        def live_state() -> Any:
            """The rows a group still open after this batch needs. Each side is filtered before
            the union (see deduplication: the engine fails on some filters over unions)."""
            if sessions is not None:
                return ctx.bind(relation_of(rows)).where(
                    F.unix_micros(F.col(SESSION_COLUMN).getField("end")) > F.lit(now_us)
                ).select(*kept)
            needed = _still_needed(key, now_us)
            fresh = ctx.bind(relation_of(batch_rows)).where(needed)
            if not has_state:
                return fresh
            return ctx.bind(relation_of(earlier())).where(needed).unionByName(fresh)

        ctx.writers.append(Overwrite(f"state:{state_id}", log, live_state,
                                     crash_point=AFTER_STATE))
        ctx.metrics.append(
            _progress(ctx, grouped, key, batch_rows, earlier if has_state else None)
            if sessions is None else
            sessions.progress(ctx, arrived, batch_rows, earlier if has_state else None))
        return output


class _Sessions:
    """Session windows formed in the engine (it has no `session_window`): per key, rows in
    event-time order; a row starts a new session unless its time is at or before the largest
    `ts + gap` of the rows before it; a session is [its first ts, its largest ts + gap)."""

    def __init__(self, aggregate: proto.Aggregate, key: EventTimeKey) -> None:
        assert isinstance(key.window, SessionWindow)
        self.key = key
        self.window = key.window
        self.others = [column_of(unaliased(expression))
                       for i, expression in enumerate(aggregate.grouping_expressions)
                       if i != key.index]

    def time(self) -> Any:
        return F.col(quote_always(self.key.column))

    def gap_us(self) -> Any:
        """The row's gap in microseconds (a duration string, or an expression giving one)."""
        gap = column_of(self.window.gap)
        return F.unix_micros(self.time() + gap.cast("interval")) - F.unix_micros(self.time())

    def row_end_us(self) -> Any:
        return F.unix_micros(self.time()) + self.gap_us()

    def assign(self, rows: Any) -> Any:
        """`rows` with their session (struct start, end) in SESSION_COLUMN; rows whose gap is
        not positive belong to none and are left out, as Spark leaves them out."""
        from pyspark.sql.connect.window import Window

        order = [self.time(), F.col(BATCH_COLUMN), F.col(ROW_COLUMN)]
        by_time = Window.partitionBy(*self.others).orderBy(*order)
        rows = rows.withColumn(GAP_COLUMN, self.gap_us()).where(F.col(GAP_COLUMN) > 0)
        end = F.unix_micros(self.time()) + F.col(GAP_COLUMN)
        reach = F.max(end).over(by_time.rowsBetween(Window.unboundedPreceding, -1))
        starts = F.when(reach.isNull() | (F.unix_micros(self.time()) > reach), 1).otherwise(0)
        rows = rows.withColumn(SESSION_COLUMN, F.sum(starts).over(
            by_time.rowsBetween(Window.unboundedPreceding, Window.currentRow)))
        session = Window.partitionBy(*self.others, F.col(SESSION_COLUMN))
        return rows.withColumn(SESSION_COLUMN, F.struct(
            F.min(self.time()).over(session).alias("start"),
            F.timestamp_micros(F.max(end).over(session)).alias("end"))).drop(GAP_COLUMN)

    def progress(self, ctx: OperatorContext, arrived: Any, batch_rows: Any,
                 earlier: Callable[[], Any] | None) -> Callable[[], dict[str, Any]]:
        """The batch's `stateOperators` entry as Spark's session window operator counts it:
        late rows dropped; sessions of the keys that had input (all of them are rewritten);
        removed: sessions written now, and earlier sessions of those keys that a merge
        replaced (their start is no longer a session's start); total: sessions still open."""
        prev_us = ctx.previous_watermark_ms * 1000
        now_us = ctx.watermark_ms * 1000
        keys = [f"__lakesmith_key_{i}" for i in range(len(self.others))]

        def sessions_of(rows: Any) -> Any:
            assigned = self.assign(rows)
            return assigned.groupBy(
                *[other.alias(name) for other, name in zip(self.others, keys, strict=True)],
                F.col(SESSION_COLUMN)).agg(F.max(F.col(SOURCE_COLUMN)).alias(SOURCE_COLUMN))

        def progress() -> dict[str, Any]:
            dropped: Any = ctx.bind(relation_of(arrived.where(
                self.row_end_us() <= F.lit(prev_us)))).count()
            rows = batch_rows.withColumn(SOURCE_COLUMN, F.lit(1))
            if earlier is not None:
                rows = earlier().withColumn(SOURCE_COLUMN, F.lit(0)).unionByName(rows)
            from pyspark.sql.connect.window import Window

            touched = Window.partitionBy(*[F.col(k) for k in keys])
            new = ctx.bind(relation_of(sessions_of(rows))).withColumn(
                "__touched", F.max(F.col(SOURCE_COLUMN)).over(touched))
            end = F.unix_micros(F.col(SESSION_COLUMN).getField("end"))

            def count(condition: Any) -> Any:
                return F.sum(F.when(condition, 1).otherwise(0))

            row: Any = new.agg(
                count(F.col("__touched") == 1).alias("updated"),
                count(end <= F.lit(now_us)).alias("emitted"),
                count(end > F.lit(now_us)).alias("total")).collect()[0]
            replaced = 0
            if earlier is not None:
                old = ctx.bind(relation_of(sessions_of(
                    earlier().withColumn(SOURCE_COLUMN, F.lit(0)))))
                starts = new.where(F.col("__touched") == 1).select(
                    *[F.col(k).alias(f"n{k}") for k in keys],
                    F.col(SESSION_COLUMN).getField("start").alias("__start"))
                touched_keys = starts.select(*[F.col(f"n{k}") for k in keys]).distinct()
                kept = _all_of([F.col(k).eqNullSafe(F.col(f"n{k}")) for k in keys])
                old = old.join(touched_keys, kept, "left_semi") if keys else old
                same = _all_of([*[F.col(k).eqNullSafe(F.col(f"n{k}")) for k in keys],
                                F.col(SESSION_COLUMN).getField("start") == F.col("__start")])
                replaced = int(old.join(starts, same, "left_anti").count()) \
                    if row["updated"] else 0
            return {"operatorName": "sessionWindowStateStoreSaveExec",
                    "numRowsTotal": int(row["total"] or 0),
                    "numRowsUpdated": int(row["updated"] or 0),
                    "numRowsRemoved": int(row["emitted"] or 0) + replaced,
                    "numRowsDroppedByWatermark": int(dropped)}

        return progress

    def named(self, rows: Any) -> Any:
        """`rows` with their session under the window's name too, the column `grouped` groups
        by: the aggregate's expressions may name it (`session_window.start` in SQL)."""
        return rows.withColumn(self.window.name, F.col(SESSION_COLUMN))

    def grouped(self, aggregate: proto.Aggregate, client: Any) -> proto.Aggregate:
        """`aggregate` grouped by the session column (`named`) in place of
        `session_window(...)`."""
        grouped = proto.Aggregate()
        grouped.CopyFrom(aggregate)
        session: Any = F.col(quote_always(self.window.name))
        grouped.grouping_expressions[self.key.index].CopyFrom(session._expr.to_plan(client))
        return grouped


def _all_of(conditions: list[Any]) -> Any:
    result = F.lit(True)
    for condition in conditions:
        result = result & condition
    return result


def _by_name(aggregate: proto.Aggregate) -> proto.Aggregate:
    """`aggregate` with its column references by name: their plan ids name the input this
    operator replaces."""
    copied = proto.Aggregate()
    copied.CopyFrom(aggregate)
    for expression in [*copied.grouping_expressions, *copied.aggregate_expressions]:
        for nested in nested_messages(expression, _EXPRESSION):
            assert isinstance(nested, proto.Expression)
            if nested.WhichOneof("expr_type") == "unresolved_attribute":
                nested.unresolved_attribute.ClearField("plan_id")
    return copied


def _aggregate(ctx: OperatorContext, aggregate: proto.Aggregate, rows: Any) -> Any:
    """The user's aggregation over `rows`, with order-sensitive functions made to follow the
    arrival order."""
    rewritten = proto.Aggregate()
    rewritten.CopyFrom(aggregate)
    rewritten.input.CopyFrom(relation_of(rows))
    client = ctx.spark.client
    for expression in rewritten.aggregate_expressions:
        for nested in list(nested_messages(expression, _EXPRESSION)):
            assert isinstance(nested, proto.Expression)
            ordered = _in_arrival_order(nested)
            if ordered is not None:
                nested.CopyFrom(ordered._expr.to_plan(client))
    return dataframe_of(ctx.spark, proto.Relation(aggregate=rewritten))


def _in_arrival_order(expression: proto.Expression) -> Any | None:
    """`first`/`last`/`collect_list` as functions of the rows' arrival order, or None."""
    if expression.WhichOneof("expr_type") != "unresolved_function":
        return None
    function = expression.unresolved_function
    name = function.function_name.lower()
    if name not in _FIRST | _LAST | _LIST or not function.arguments:
        return None
    value = column_of(function.arguments[0])
    order = F.struct(F.col(BATCH_COLUMN), F.col(ROW_COLUMN))
    if name in _LIST:
        entries = F.collect_list(F.when(value.isNotNull(), F.struct(
            order.alias("o"), value.alias("v"))))
        return F.transform(F.array_sort(entries), lambda entry: entry["v"])
    ignore_nulls = len(function.arguments) > 1 and _true(function.arguments[1])
    if ignore_nulls:
        order = F.when(value.isNotNull(), order)
    return F.min_by(value, order) if name in _FIRST else F.max_by(value, order)


def _true(expression: proto.Expression) -> bool:
    literal = unaliased(expression)
    return literal.WhichOneof("expr_type") == "literal" and literal.literal.boolean


def _group_end(key: EventTimeKey, output_column: str) -> Any:
    """A group's end in microseconds: its window's end, or its event time."""
    column = F.col(quote_always(output_column))
    return F.unix_micros(column.getField("end") if key.window is not None else column)


def _still_needed(key: EventTimeKey, watermark_us: int) -> Any:
    """Whether a row belongs to a group that ends after `watermark_us`: for windows, the last
    window containing it (start = ts - (ts - startTime) mod slide, as Spark computes it)."""
    time = F.unix_micros(F.col(quote_always(key.column)))
    window = key.window
    if window is None:
        return time > F.lit(watermark_us)
    assert isinstance(window, TimeWindow)  # sessions: see _Sessions
    slide, size, start = window.slide_ms * 1000, window.size_ms * 1000, window.start_ms * 1000
    last_end = time - F.pmod(time - F.lit(start), F.lit(slide)) + F.lit(size)
    return last_end > F.lit(watermark_us)


def _progress(ctx: OperatorContext, aggregate: proto.Aggregate, key: EventTimeKey,
              batch_rows: Any, earlier: Callable[[], Any] | None) -> Callable[[], dict[str, Any]]:
    """The batch's `stateOperators` entry as Spark counts it, in groups: updated (this batch's
    groups not late), dropped by the watermark (its late groups), removed (groups output now),
    total (groups still open). One aggregation in the engine, before the batch writes (it reads
    the state the batch reads; time travel to it afterwards fails in the engine once the state
    table has a Delta checkpoint)."""
    prev_us = ctx.previous_watermark_ms * 1000
    now_us = ctx.watermark_ms * 1000

    def progress() -> dict[str, Any]:
        tagged = batch_rows.withColumn(SOURCE_COLUMN, F.lit(1))
        if earlier is not None:
            tagged = earlier().withColumn(SOURCE_COLUMN, F.lit(0)).unionByName(tagged)
        groups = proto.Aggregate()
        groups.CopyFrom(aggregate)
        groups.input.CopyFrom(relation_of(tagged))
        del groups.aggregate_expressions[:]
        from_batch: Any = F.max(F.col(SOURCE_COLUMN)).alias(SOURCE_COLUMN)
        groups.aggregate_expressions.append(from_batch._expr.to_plan(ctx.spark.client))
        per_group: Any = ctx.bind(proto.Relation(aggregate=groups))
        end = _group_end(key, per_group.columns[key.index])
        in_batch = F.col(SOURCE_COLUMN) == F.lit(1)
        late = end <= F.lit(prev_us)

        def count(condition: Any) -> Any:
            return F.sum(F.when(condition, 1).otherwise(0))

        row: Any = per_group.agg(
            count(in_batch & ~late).alias("updated"),
            count(in_batch & late).alias("dropped"),
            count(~late & (end <= F.lit(now_us))).alias("removed"),
            count(end > F.lit(now_us)).alias("total")).collect()[0]
        return {"operatorName": "stateStoreSave", "numRowsTotal": int(row["total"] or 0),
                "numRowsUpdated": int(row["updated"] or 0),
                "numRowsRemoved": int(row["removed"] or 0),
                "numRowsDroppedByWatermark": int(row["dropped"] or 0)}

    return progress
