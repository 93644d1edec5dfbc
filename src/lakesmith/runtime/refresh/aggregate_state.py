"""GROUP_AGGREGATE below the top of a query: a view whose query aggregates one pipeline table
(in the form `aggregate_form.py` accepts) and then joins, filters or projects the result
(`orders.groupBy("customer_id").agg(...).join(customers, ...)`) keeps that aggregation's result
in a backing table, `state/aggregate` in the flow's checkpoint folder (Databricks keeps such
backing tables too). Each refresh brings the backing table up to date, merged with the
aggregation of the rows the table gained (`group_aggregate.py`) when it only gained rows, else
recomputed; then the rest of the query is recomputed with the backing table in place of the
aggregation, and replaces the view.

The backing table's table id and version are part of the refresh's record: a crash after its
commit and before the record (or after the view's) leaves it at a version the record does not
name, and the next refresh rebuilds it from the whole table instead of merging rows twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import proto
from pyspark.sql.types import StructType

from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import PlanRewriter, all_relations
from lakesmith.engine.semantics.known_schemas import relation_key
from lakesmith.locations import Location
from lakesmith.runtime.refresh.aggregate_form import AggregateForm, aggregate_form
from lakesmith.runtime.refresh.planning import Issue
from lakesmith.tables.delta import DeltaLog

STATE = "aggregate"


@dataclass(frozen=True)
class AggregateBelow:
    """The one aggregation in a query whose top is something else, by its position among the
    relations of `query` (depth first): the flow's plan, or, for SQL text, the plan
    `sql_aggregate_below.py` splits it into (the rest of the text over the aggregation)."""

    index: int
    relation: proto.Relation
    query: proto.Relation


def aggregate_below(relation: proto.Relation) -> AggregateBelow | None:
    """The query's only aggregation, when its top is not that aggregation: a relation of its
    plan, or a subquery of its SQL text (`sql_aggregate_below.py`). Other SQL text in the
    plan hides its aggregations: None."""
    if relation.WhichOneof("rel_type") == "sql":
        from lakesmith.runtime.refresh.sql_aggregate_below import split_sql

        split = split_sql(relation)
        if not isinstance(split, proto.Relation):
            return None
        relations = list(all_relations(split))
        (index,) = [i + 1 for i, r in enumerate(relations)
                    if r.WhichOneof("rel_type") == "subquery_alias"]
        return AggregateBelow(index, _copy(relations[index]), split)
    relations = list(all_relations(relation))
    if any(r.WhichOneof("rel_type") == "sql" for r in relations):
        return None
    found = [(i, r) for i, r in enumerate(relations) if r.WhichOneof("rel_type") == "aggregate"]
    if len(found) != 1 or found[0][0] == 0:
        return None
    index, aggregate = found[0]
    return AggregateBelow(index, _copy(aggregate), _copy(relation))


def state_form(below: AggregateBelow, schema: StructType) -> AggregateForm | Issue:
    """The aggregation's form, its outputs named and typed by `schema` (the backing table's, or
    the engine's analysis of the aggregation before there is one)."""
    return aggregate_form(below.relation, schema)


def with_state(below: AggregateBelow, state: Location) -> proto.Relation:
    """The query with its aggregation replaced by a read of the backing table (the plan id kept:
    columns referenced as `df["c"]` point at it)."""
    copied = _copy(below.query)
    node = list(all_relations(copied))[below.index]
    plan_id = node.common.plan_id if node.HasField("common") else None
    read = proto.Relation()
    read.read.data_source.format = "delta"
    read.read.data_source.paths.append(engine_path(state))
    node.CopyFrom(read)
    if plan_id is not None:
        node.common.plan_id = plan_id
    return copied


def state_read_replaced(relation: proto.Relation, state: Location,
                        rows: proto.Relation) -> proto.Relation | None:
    """`relation` (a query `with_state` made, as the engine will run it) with its read of
    `state` replaced by `rows`, a relation of the same columns; its plan id kept. None when
    the read is not found exactly once."""
    copied = _copy(relation)
    path = engine_path(state)
    found = [r for r in all_relations(copied) if r.WhichOneof("rel_type") == "read"
             and r.read.WhichOneof("read_type") == "data_source"
             and list(r.read.data_source.paths) == [path]]
    if len(found) != 1:
        return None
    (node,) = found
    plan_id = node.common.plan_id if node.HasField("common") else None
    node.CopyFrom(rows)
    if plan_id is not None:
        node.common.plan_id = plan_id
    return copied


def know_state_schema(rewriter: PlanRewriter, below: AggregateBelow, state: DeltaLog) -> None:
    """The backing table's columns, from its Delta log, known to the plan rewrites
    (`known_aggregate_schema`)."""
    table = state.table()
    if table is not None:
        know_aggregate_schema(rewriter, below,
                              StructType.fromJson(json.loads(table.schema().to_json())))


def know_aggregate_schema(rewriter: PlanRewriter, below: AggregateBelow,
                          schema: StructType) -> None:
    """The columns of the rows in the aggregation's place (`schema`) known to the plan rewrites
    (`known_schemas`): by the plan id its replacement keeps (`with_state`), or, in SQL text,
    by the name the rest of the text reads it by. The FLOAT/DOUBLE key pass then types the join
    over it without asking the engine."""
    if below.query.WhichOneof("rel_type") == "with_relations":
        from lakesmith.runtime.refresh.sql_aggregate_below import NAME, is_split

        if is_split(below.query):
            rewriter.table_schemas[f"`{NAME}`"] = schema
        return
    if below.relation.common.HasField("plan_id"):
        rewriter.table_schemas[relation_key(below.relation.common.plan_id)] = schema


def _copy(relation: proto.Relation) -> proto.Relation:
    copied = proto.Relation()
    copied.CopyFrom(relation)
    return copied


def state_location(checkpoint: Location) -> Location:
    return checkpoint.join("state", STATE)


def recorded_state(last: dict[str, Any] | None, *,
                   in_view: bool = False) -> tuple[str | None, int | None]:
    """The backing table's id and version the last refresh recorded: a table of its own, or
    (`in_view`) the view itself (`view_state.py`); (None, None) when it recorded the other."""
    found = (last or {}).get("state") or {}
    if bool(found.get("in_view")) != in_view:
        return None, None
    return found.get("table_id"), found.get("version")
