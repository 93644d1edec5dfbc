"""Finding the operators of a streaming query that need state across micro-batches.

A stream-static join or a filter works batch by batch; an aggregation, a deduplication or a
stream-stream join needs to remember earlier batches. lakesmith keeps that state itself, and
supports only some operators so far: this module names them all, so the rest are refused at
dry-run instead of silently computing per-batch results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from google.protobuf.message import Message
from pyspark.sql.connect import proto

from lakesmith.engine.plans import PlanRead, nested_messages, plan_read, sql_read
from lakesmith.engine.streaming_aggregate import (
    NO_WATERMARK,
    NO_WATERMARK_HINT,
    aggregation_problem,
    watermark_columns,
)

_RELATION = proto.Relation.DESCRIPTOR.full_name
_EXPRESSION = proto.Expression.DESCRIPTOR.full_name

# Relation kinds that are per-batch correct only on a static input.
_UNSUPPORTED_ON_STREAM = {
    "sort": "sorting (orderBy)",
    "limit": "limit",
    "offset": "offset",
    "tail": "tail",
    "group_map": "applyInPandas on grouped data",
    "co_group_map": "cogroup",
    "apply_in_pandas_with_state": "applyInPandasWithState",
    "transform_with_state_in_pandas": "transformWithStateInPandas",
}


# Stream-stream joins lakesmith runs (runtime/streaming/operators/join.py).
_SUPPORTED_JOINS = (proto.Join.JOIN_TYPE_INNER, proto.Join.JOIN_TYPE_LEFT_OUTER,
                    proto.Join.JOIN_TYPE_RIGHT_OUTER, proto.Join.JOIN_TYPE_LEFT_SEMI)


@dataclass(frozen=True)
class StatefulOperator:
    description: str
    supported: bool
    problem: str | None = None  # why it is refused, when Spark refuses it too (its message)
    hint: str | None = None


def stateful_operators(relation: proto.Relation,
                       reads_stream: Callable[[PlanRead], bool]) -> list[StatefulOperator]:
    """The stateful operators applied to streaming data in `relation`."""
    found: list[StatefulOperator] = []
    _visit(relation, reads_stream, found)
    if any(op.description == "watermark" for op in found):
        # A watermark is run for the deduplication or aggregation it feeds.
        used = any(op.supported and op.description != "watermark" for op in found)
        found = [StatefulOperator(op.description, used) if op.description == "watermark" else op
                 for op in found]
    return found


def is_streaming_relation(relation: proto.Relation,
                          reads_stream: Callable[[PlanRead], bool]) -> bool:
    """Whether `relation` produces streaming data (reads a stream somewhere below it)."""
    return _visit(relation, reads_stream, [])


def _visit(rel: proto.Relation, reads_stream: Callable[[PlanRead], bool],
           found: list[StatefulOperator]) -> bool:
    kind = rel.WhichOneof("rel_type")
    if kind == "read":
        return reads_stream(plan_read(rel.read))
    if kind == "sql":
        return _visit_sql(rel.sql.query, reads_stream, found)
    children = list(child_relations(rel))
    streaming_children = [_visit(child, reads_stream, found) for child in children]
    streaming = any(streaming_children)
    if not streaming:
        return False
    if kind == "join" and len(children) == 2 and all(streaming_children):
        inner = rel.join.join_type == proto.Join.JOIN_TYPE_INNER
        kind_name = proto.Join.JoinType.Name(rel.join.join_type).removeprefix("JOIN_TYPE_")
        found.append(StatefulOperator(
            "stream-stream join" if inner else f"{kind_name.lower()} stream-stream join",
            rel.join.join_type in _SUPPORTED_JOINS))
    elif kind == "deduplicate":
        within = rel.deduplicate.within_watermark
        found.append(StatefulOperator(
            "dropDuplicatesWithinWatermark" if within else "dropDuplicates", True))
    elif kind == "aggregate":
        problem = aggregation_problem(rel.aggregate, watermark_columns(rel.aggregate.input))
        found.append(StatefulOperator(
            "aggregation (groupBy/agg)", problem is None, problem,
            NO_WATERMARK_HINT if problem == NO_WATERMARK else None))
    elif kind == "with_watermark":
        found.append(StatefulOperator("watermark", False))
    elif kind == "group_map" and rel.group_map.HasField("transform_with_state_info"):
        found.append(StatefulOperator("transformWithState (transformWithStateInPandas)", False))
    elif kind == "group_map" and rel.group_map.is_map_groups_with_state:
        found.append(StatefulOperator("flatMapGroupsWithState (mapGroupsWithState)", False))
    elif kind in _UNSUPPORTED_ON_STREAM:
        found.append(StatefulOperator(_UNSUPPORTED_ON_STREAM[kind], False))
    return True


def child_relations(rel: proto.Relation) -> Iterator[proto.Relation]:
    """The relations directly below `rel` (not their descendants)."""
    kind = rel.WhichOneof("rel_type")
    if kind is None:
        return
    yield from _relations_below(getattr(rel, kind))


def _relations_below(message: Message) -> Iterator[proto.Relation]:
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            continue
        items = value if descriptor.is_repeated else [value]
        for item in items:
            if item.DESCRIPTOR.full_name == _RELATION:
                yield item
            else:
                yield from _relations_below(item)


def _visit_sql(text: str, reads_stream: Callable[[PlanRead], bool],
               found: list[StatefulOperator]) -> bool:
    from lakesmith.engine.stateful_sql import analyze_streaming_sql  # sqlglot: SQL text only

    analysis = analyze_streaming_sql(text, lambda ref: reads_stream(sql_read(ref)))
    found += [StatefulOperator(f"{description} in SQL", False) for description in analysis.operators]
    return analysis.streaming


def batch_equivalent(relation: proto.Relation) -> proto.Relation:
    """`relation` with the nodes that only mean something on a stream (`withWatermark`, the
    "within watermark" of a deduplication) replaced by what they output: the engine analyses
    the plan of a streaming flow as a batch plan, and refuses those nodes there."""
    from lakesmith.engine.plans import all_relations

    copied = proto.Relation()
    copied.CopyFrom(relation)
    for node in reversed(list(all_relations(copied))):
        kind = node.WhichOneof("rel_type")
        if kind == "with_watermark":
            plan_id = node.common.plan_id if node.HasField("common") else None
            node.CopyFrom(node.with_watermark.input)
            if plan_id is not None:
                node.common.plan_id = plan_id
        elif kind == "deduplicate" and node.deduplicate.within_watermark:
            node.deduplicate.within_watermark = False
    for node in list(all_relations(copied)):
        if node.WhichOneof("rel_type") == "aggregate":
            _group_by_session_column(node.aggregate)
    for expression in list(nested_messages(copied, _EXPRESSION)):
        assert isinstance(expression, proto.Expression)
        if expression.WhichOneof("expr_type") == "unresolved_function" \
                and expression.unresolved_function.function_name.lower() == "session_window" \
                and expression.unresolved_function.arguments:
            expression.CopyFrom(_session_stand_in(expression.unresolved_function.arguments[0]))
    return copied


def _group_by_session_column(aggregate: proto.Aggregate) -> None:
    """`groupBy(session_window(ts, gap) [AS name])` as a group by the column `name` added to the
    input: the aggregate's own expressions may then name it (`session_window.start` in SQL), as
    they can in Spark, where the session column is the input's."""
    for index, grouping in enumerate(aggregate.grouping_expressions):
        function = grouping
        while function.WhichOneof("expr_type") == "alias":
            function = function.alias.expr
        if function.WhichOneof("expr_type") != "unresolved_function" \
                or function.unresolved_function.function_name.lower() != "session_window" \
                or not function.unresolved_function.arguments:
            continue
        name = (grouping.alias.name[0] if grouping.WhichOneof("expr_type") == "alias"
                else "session_window")
        stand_in = _session_stand_in(function.unresolved_function.arguments[0])
        stand_in.alias.name[0] = name
        project = proto.Relation()
        project.project.input.CopyFrom(aggregate.input)
        project.project.expressions.add().unresolved_star.SetInParent()
        project.project.expressions.append(stand_in)
        aggregate.input.CopyFrom(project)
        column = proto.Expression()
        column.unresolved_attribute.unparsed_identifier = f"`{name}`"
        aggregate.grouping_expressions[index].CopyFrom(column)


def _session_stand_in(time: proto.Expression) -> proto.Expression:
    """`struct(time AS start, time AS end) AS session_window`: what `session_window(time, gap)`
    is to analysis (its type and name), since the engine has no session_window (lakesmith forms
    sessions itself)."""
    stand_in = proto.Expression()
    stand_in.alias.name.append("session_window")
    struct = stand_in.alias.expr.unresolved_function
    struct.function_name = "struct"
    for name in ("start", "end"):
        field = struct.arguments.add()
        field.alias.expr.CopyFrom(time)
        field.alias.name.append(name)
    return stand_in
