"""The view as its own backing table: a query that is an aggregation LEFT JOINed to something
(`orders.groupBy("customer_id").agg(...).join(customers, "customer_id", "left")`) keeps every
row of the aggregation in the view, its columns as the aggregation computed them: once, or once
per matching row of the other side. The view's rows, projected to the aggregation's columns and
taken once per key, are the aggregation's rows, so GROUP_AGGREGATE below the top reads them
from the view itself and writes no backing table (`aggregate_state.py`): one write per refresh
instead of two (the view's commit is then the only one, so a crash leaves nothing half done).

The same holds of SQL text whose aggregation is a subquery LEFT JOINed at the top
(`SELECT o.k, o.s, c.name FROM (SELECT k, sum(x) AS s FROM t GROUP BY k) o LEFT JOIN c ON ...`,
`sql_aggregate_below.py`), when its SELECT list carries each of the aggregation's columns as it
is.

The shape is checked on the plan (the join at the top, the aggregation its left side, nothing
on the view that drops or changes rows: no expectations, declared schema, partitioning or
clustering), and on the view's stored schema: each of the aggregation's columns there exactly
once, and no FLOAT/DOUBLE key (its values are taken once per key by the engine's grouping,
which does not compare -0.0 and NaN as Spark does). Databricks keeps backing tables for such
views instead (its AGGREGATE_NOT_TOP_NODE shapes are recomputed or row-tracked).
"""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.types import DoubleType, FloatType, StructType

from lakesmith.engine.ddl import quote_name
from lakesmith.engine.paths import engine_path
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.model import Table
from lakesmith.locations import Location
from lakesmith.quality.expectations import ExpectationSet
from lakesmith.runtime.refresh.aggregate_form import KEY, AggregateForm, output_name
from lakesmith.runtime.refresh.aggregate_state import AggregateBelow
from lakesmith.tables.delta import DeltaLog

IN_VIEW = "in_view"  # the refresh record's state: the view's own rows


def keeps_aggregate(graph: DataflowGraph, flow: ResolvedFlow, dataset: Table,
                    below: AggregateBelow) -> bool:
    """Whether the query's shape keeps each of the aggregation's rows in the view, as it is."""
    if not (dataset.schema is None and not dataset.partition_cols and not dataset.cluster_by
            and not dataset.cluster_by_auto and not ExpectationSet.for_flow(graph, flow)):
        return False
    if _in_sql(below):  # SQL text: the rest of it over the aggregation
        from lakesmith.runtime.refresh.sql_aggregate_below import keeps_aggregate_sql

        return keeps_aggregate_sql(below.query)
    relation = below.query
    if relation.WhichOneof("rel_type") != "join":
        return False
    join = relation.join
    if join.join_type != proto.Join.JoinType.JOIN_TYPE_LEFT_OUTER:
        return False
    left = join.left
    while left.WhichOneof("rel_type") == "subquery_alias":
        left = left.subquery_alias.input
    return left.WhichOneof("rel_type") == "aggregate" and left == below.relation


def aggregate_outputs(below: AggregateBelow) -> list[tuple[str, bool]] | None:
    """The aggregation's output names, each with whether it is a grouping key, when its plan
    (or text) says them all."""
    if _in_sql(below):
        from lakesmith.runtime.refresh.sql_aggregate_below import aggregation_outputs

        return aggregation_outputs(below.query)
    aggregate = below.relation.aggregate
    names = [output_name(e) for e in [*aggregate.grouping_expressions,
                                       *aggregate.aggregate_expressions]]
    keys = len(aggregate.grouping_expressions)
    if any(n is None for n in names):
        return None
    return [(n, i < keys) for i, n in enumerate(names) if n is not None]


def stored_schema(table: Any, below: AggregateBelow) -> StructType | None:
    """The aggregation's columns as the view stores them (`table`, a delta-rs table), in the
    aggregation's order; None when one is not there exactly once, or a key is FLOAT/DOUBLE."""
    outputs = aggregate_outputs(below)
    if table is None or outputs is None:
        return None
    schema = StructType.fromJson(json.loads(table.schema().to_json()))
    fields = []
    for name, key in outputs:
        found = [f for f in schema.fields if f.name.lower() == name.lower()]
        if len(found) != 1:
            return None
        if key and isinstance(found[0].dataType, (FloatType, DoubleType)):
            return None
        fields.append(found[0])
    return StructType(fields)


def _in_sql(below: AggregateBelow) -> bool:
    """Whether the aggregation is split from SQL text (`sql_aggregate_below.py`: a DataFrame
    plan's aggregation is never below a `WithRelations`, which only SQL text has). The SQL
    modules read text with sqlglot, which a Python pipeline does not import."""
    return below.query.WhichOneof("rel_type") == "with_relations"


def stored_aggregate(spark: Any, view: Location, version: int, form: AggregateForm,
                     schema: StructType) -> Any:
    """The aggregation's rows the view holds at `version`: its rows projected to the
    aggregation's columns, one per key (every row of a key carries the same values, those of
    its one row of the aggregation: `max` takes them; NULL keys are one group, as in the
    aggregation)."""
    rows = spark.read.format("delta").option("versionAsOf", version).load(engine_path(view))
    keys = [F.col(quote_name(k)) for k in form.keys]
    values = [F.max(F.col(quote_name(name))).alias(name)
              for name, function in form.columns if function != KEY]
    grouped = rows.groupBy(*keys).agg(*values) if keys else rows.agg(*values)
    return grouped.select(*[F.col(quote_name(f.name)) for f in schema.fields])


def recorded_in_view(log: DeltaLog) -> dict[str, Any]:
    """What the refresh records of the view as its backing table: the view's id and version
    (after every commit of the refresh)."""
    identity = log.identity()
    table_id, version = identity if identity is not None else (None, None)
    return {"table_id": table_id, "version": version, IN_VIEW: True}
