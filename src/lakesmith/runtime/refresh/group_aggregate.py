"""GROUP_AGGREGATE: a view that aggregates a table that only gained rows is refreshed from its
stored rows and the aggregation of the new rows alone.

The user's query runs over the appended rows only (its read of the table bound to them, every
other part as written, Spark's semantics applied as for any flow), giving each group's aggregates
over the new rows. Stored rows and those are then grouped by the view's keys and merged: counts
and sums add, minimums and maximums compare; every column is cast back to the view's type (a
merged decimal sum to `decimal(p+10, s)` as Spark's `sum` types it). NULL keys are one group, as in
the query, and FLOAT/DOUBLE keys are normalized as everywhere (`engine/semantics/float_keys.py`);
a sum whose values are all NULL stays NULL (a sum of NULLs ignores them). The result replaces the
view in one commit, so readers see the old or the new rows.

Reading the view costs its rows (one per group) plus the appended rows, where a recompute reads
every input row.
"""

from __future__ import annotations

import itertools
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import StructType

from lakesmith.engine.ddl import quote_name
from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import Binding, PlanRead, RelationBinding, relation_of
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location
from lakesmith.runtime.binding import TableBinder
from lakesmith.runtime.refresh.aggregate_form import KEY, AggregateForm
from lakesmith.tables.catalog import TableCatalog

MERGE = {"count": F.sum, "sum": F.sum, "min": F.min, "max": F.max}


class AppendedRowsBinder(TableBinder):
    """Binds the aggregated table's read to its appended rows; every other read as at run
    time."""

    _counter = itertools.count()

    def __init__(self, graph: DataflowGraph, spark: Any, catalog: TableCatalog,
                 project: Location, table: TableName, rows: Any) -> None:
        super().__init__(graph, spark, catalog, project)
        self.table = table
        self.rows = relation_of(rows)

    def bind_table(self, name: TableName, read: PlanRead) -> Binding:
        if name == self.table:
            return RelationBinding(self.rows)
        return super().bind_table(name, read)

    def temp_view(self, df: Any) -> Any:
        """`df` read through a temporary view (dropped by `close`): a plan built on it gets
        Spark's semantics for its own operators only, not again for `df`'s."""
        name = f"{self.rewriter.view_prefix}_partial_{next(self._counter)}"
        df.createOrReplaceTempView(name)
        self.rewriter.temp_views.append(name)
        return self.spark.table(name)


def merged(binder: AppendedRowsBinder, flow: ResolvedFlow, form: AggregateForm,
           view: Location, schema: StructType) -> Any:
    """The view's new rows: its stored rows merged with the query over the appended rows."""
    spark = binder.spark
    partial = binder.temp_view(binder.flow_dataframe(flow))
    stored = spark.read.format("delta").load(engine_path(view))
    both = stored.unionByName(partial)
    types = {f.name: f.dataType for f in schema.fields}
    aggregates = [MERGE[function](F.col(quote_name(name))).cast(types[name]).alias(name)
                  for name, function in form.columns if function != KEY]
    keys = [F.col(quote_name(k)) for k in form.keys]
    grouped = both.groupBy(*keys).agg(*aggregates) if keys else both.agg(*aggregates)
    result = grouped.select(*[F.col(quote_name(f.name)) for f in schema.fields])
    return binder.rewriter.dataframe(relation_of(result))
