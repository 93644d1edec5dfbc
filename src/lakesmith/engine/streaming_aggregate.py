"""What a streaming aggregation groups by in event time, read from its Spark Connect plan.

An aggregation over a stream can run in append mode only when one of its grouping keys is the
watermarked event-time column, or a `window(...)` of it: a group is final (and emitted, once) when
the watermark passes its end. This module finds that key (its place among the grouping
expressions and the window's durations) and says, with Spark's own messages, why an aggregation
cannot run on a stream, so dry-run and the run refuse it alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pyspark.sql.connect import proto

from lakesmith.engine.intervals import interval_ms
from lakesmith.engine.plans import all_relations, nested_messages
from lakesmith.errors import LakesmithError

_EXPRESSION = proto.Expression.DESCRIPTOR.full_name

NO_WATERMARK = (
    "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION] Invalid streaming output mode: append. This "
    "output mode is not supported for streaming aggregations without watermark on streaming "
    "DataFrames/DataSets.")
NO_WATERMARK_HINT = (
    "a streaming table receives each group once, when it is final: call withWatermark(column, "
    "delay) on the stream and group by that column or window(column, ...), or make the dataset a "
    "materialized view (@dp.materialized_view / CREATE MATERIALIZED VIEW), which recomputes the "
    "aggregation over all rows.")
DISTINCT = ("Distinct aggregations are not supported on streaming DataFrames/Datasets. Consider "
            "using approx_count_distinct() instead.")


@dataclass(frozen=True)
class TimeWindow:
    """`window(ts, size, slide, start)`: windows [start + k*slide, start + k*slide + size)."""

    size_ms: int
    slide_ms: int
    start_ms: int


@dataclass(frozen=True)
class SessionWindow:
    """`session_window(ts, gap)`: rows of a key whose [ts, ts + gap) overlap form one session;
    `gap` is a duration string or an expression of the row (a dynamic gap)."""

    gap: proto.Expression
    name: str  # the output column's name


@dataclass(frozen=True)
class EventTimeKey:
    """The grouping key that follows the watermark."""

    index: int  # among the grouping expressions (and so among the output columns)
    column: str  # the watermarked column
    window: TimeWindow | SessionWindow | None  # None: grouped by the column itself


def watermark_columns(relation: proto.Relation) -> set[str]:
    """The event-time columns of the `withWatermark`s below `relation` (lower case)."""
    return {rel.with_watermark.event_time.lower() for rel in all_relations(relation)
            if rel.WhichOneof("rel_type") == "with_watermark"}


def event_time_key(aggregate: proto.Aggregate, watermarked: set[str]) -> EventTimeKey | None:
    for index, named in enumerate(aggregate.grouping_expressions):
        expression = unaliased(named)
        column = _attribute(expression)
        if column is not None and column.lower() in watermarked:
            return EventTimeKey(index, column, None)
        function = expression.unresolved_function
        if expression.WhichOneof("expr_type") == "unresolved_function" \
                and function.function_name.lower() == "window" and function.arguments:
            column = _attribute(unaliased(function.arguments[0]))
            if column is not None and column.lower() in watermarked:
                return EventTimeKey(index, column, _window(column, function.arguments[1:]))
        if expression.WhichOneof("expr_type") == "unresolved_function" \
                and function.function_name.lower() == "session_window" \
                and len(function.arguments) == 2:
            column = _attribute(unaliased(function.arguments[0]))
            if column is not None and column.lower() in watermarked:
                name = (named.alias.name[0] if named.WhichOneof("expr_type") == "alias"
                        else "session_window")
                return EventTimeKey(index, column, SessionWindow(function.arguments[1], name))
    return None


def aggregation_problem(aggregate: proto.Aggregate, watermarked: set[str]) -> str | None:
    """Why `aggregate` cannot run on a stream in append mode (Spark's message), or None."""
    if aggregate.group_type != proto.Aggregate.GROUP_TYPE_GROUPBY:
        kind = proto.Aggregate.GroupType.Name(aggregate.group_type).removeprefix("GROUP_TYPE_")
        return f"a streaming aggregation with {kind.lower()} is not supported by lakesmith yet."
    if any(function.is_distinct or function.function_name.lower() in ("count_distinct",)
           for function in _functions(aggregate.aggregate_expressions)):
        return DISTINCT
    if event_time_key(aggregate, watermarked) is None:
        return NO_WATERMARK
    ordered = _ordered_in_sql_text(aggregate.aggregate_expressions)
    if ordered is not None:
        return (f"{ordered}(...) written as SQL text (`F.expr(...)` / `selectExpr`) in a "
                "streaming aggregation is not supported by lakesmith yet: Spark takes its "
                "values in the order rows arrived, which lakesmith computes for the function "
                f"form only. Write F.{ordered}(...) instead.")
    return None


# Aggregates whose value depends on the order of rows (computed by arrival order when they are
# function calls, `runtime/streaming/operators/aggregate.py`).
_ORDERED_CALL = re.compile(
    r"\b(first|first_value|last|last_value|collect_list|array_agg|list)\s*\(", re.IGNORECASE)


def _ordered_in_sql_text(expressions: Iterable[proto.Expression]) -> str | None:
    for expression in expressions:
        for nested in nested_messages(expression, _EXPRESSION):
            if isinstance(nested, proto.Expression) \
                    and nested.WhichOneof("expr_type") == "expression_string":
                found = _ORDERED_CALL.search(nested.expression_string.expression)
                if found:
                    return found.group(1).lower()
    return None


def unaliased(expression: proto.Expression) -> proto.Expression:
    while expression.WhichOneof("expr_type") == "alias":
        expression = expression.alias.expr
    return expression


def _attribute(expression: proto.Expression) -> str | None:
    if expression.WhichOneof("expr_type") != "unresolved_attribute":
        return None
    return expression.unresolved_attribute.unparsed_identifier.strip("`")


def _window(column: str, arguments: Iterable[proto.Expression]) -> TimeWindow:
    texts = []
    for argument in arguments:
        argument = unaliased(argument)
        if argument.WhichOneof("expr_type") != "literal" \
                or argument.literal.WhichOneof("literal_type") != "string":
            raise LakesmithError(f"window('{column}', ...) takes duration strings such as "
                             "'10 minutes'")
        texts.append(argument.literal.string)
    if not texts:
        raise LakesmithError(f"window('{column}') needs a window duration")
    size = interval_ms(texts[0], what="the window duration")
    slide = interval_ms(texts[1], what="the slide duration") if len(texts) > 1 else size
    start = interval_ms(texts[2], what="the window start time") if len(texts) > 2 else 0
    return TimeWindow(size, slide, start)


def _functions(expressions: Iterable[proto.Expression]
               ) -> Iterator[proto.Expression.UnresolvedFunction]:
    for expression in expressions:
        for nested in nested_messages(expression, _EXPRESSION):
            if isinstance(nested, proto.Expression) \
                    and nested.WhichOneof("expr_type") == "unresolved_function":
                yield nested.unresolved_function
