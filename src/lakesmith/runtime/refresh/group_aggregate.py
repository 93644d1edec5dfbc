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

Sums can overflow over the appended rows alone where the total does not: a BIGINT sum of new
rows `9223372036854775807, 50` added to a stored `-100` is `9223372036854775757`, which fits,
while the new rows' own sum does not. A recompute (lakesmith's, and Spark 4.3's under ANSI
whenever its running sums do not pass the limit in the order it adds) gives the total, so a
merge that fails on an overflow is not the answer: the refresh recomputes instead
(`overflow_issue`). Nothing was committed by then (the merge is one commit).
"""

from __future__ import annotations

from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.types import DataType, LongType, StructField, StructType

from lakesmith.engine.ddl import quote_name
from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import (
    Binding,
    PlanRead,
    RelationBinding,
    relation_of,
    sql_read,
    sql_with_relation,
)
from lakesmith.engine.semantics.known_schemas import relation_key
from lakesmith.graph.graph import DataflowGraph
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location
from lakesmith.runtime.binding import TableBinder
from lakesmith.runtime.refresh.aggregate_form import KEY, AggregateForm
from lakesmith.runtime.refresh.planning import Issue
from lakesmith.tables.catalog import TableCatalog
from lakesmith.tables.delta import DeltaLogs


def _merge(function: str, column: Any, stored: DataType) -> Any:
    """One aggregate of the stored and the new rows' values, typed as the view stores it.

    Written as Spark computes it, not left to `engine/semantics`: a BIGINT sum exact in
    DECIMAL(38, 0) and cast back, failing on overflow as Spark does under ANSI (the engine's
    own wraps around: `semantics/arithmetic.py`); a DECIMAL sum cast back to the view's
    `decimal(p+10, s)`, failing when the total no longer fits."""
    if function in ("count", "sum"):
        if isinstance(stored, LongType):
            return F.sum(column.cast("decimal(38,0)")).cast(stored)
        return F.sum(column).cast(stored)
    return (F.min if function == "min" else F.max)(column)


OVERFLOW = "APPENDED_ROWS_AGGREGATE_OVERFLOW"
# How the engine and lakesmith's rewrites word an overflow: Spark's error classes (raised by
# `engine/semantics`), and the engine's own cast errors (a BIGINT sum cast back from DECIMAL).
_OVERFLOW_WORDS = ("ARITHMETIC_OVERFLOW", "NUMERIC_VALUE_OUT_OF_RANGE", "out of range",
                   "overflow")


def overflow_issue(error: BaseException) -> Issue | None:
    """Why the refresh recomputes after its merge failed with `error`, if that was an
    overflow (the new rows' sums, or the merged total: then the recompute fails the same way,
    with its own words); None for any other failure."""
    if not isinstance(error, PySparkException):
        return None
    text = str(error)
    if not any(word.lower() in text.lower() for word in _OVERFLOW_WORDS):
        return None
    first = text.strip().splitlines()[0] if text.strip() else type(error).__name__
    return Issue(OVERFLOW, "the merge of the appended rows' aggregates overflowed "
                 f"({first[:200]}); a recompute aggregates all rows at once")


class AppendedRowsBinder(TableBinder):
    """Binds the aggregated table's read to its appended rows; every other read as at run
    time. The rows' schema is the table's (`appended.py` reads them with it), from its Delta
    log: the plan rewrites that need column types (`known_schemas`) do not ask the engine."""

    def __init__(self, graph: DataflowGraph, spark: Any, catalog: TableCatalog,
                 project: Location, table: TableName, rows: Any, schema: StructType,
                 logs: DeltaLogs | None = None) -> None:
        super().__init__(graph, spark, catalog, project, logs)
        self.table = table
        self.rows = relation_of(rows)
        if self.rows.common.HasField("plan_id"):
            self.rewriter.table_schemas[relation_key(self.rows.common.plan_id)] = schema

    def bind_table(self, name: TableName, read: PlanRead) -> Binding:
        if name == self.table:
            return RelationBinding(self.rows)
        return super().bind_table(name, read)

    def over_rows(self, relation: proto.Relation) -> proto.Relation:
        """SQL text (`relation`) with its reads of the aggregated table bound to the appended
        rows as a relation of the query (Spark Connect's `WithRelations`, the rows under a
        name the text reads), where binding them by name would make a temporary view of them:
        two round trips (made, then dropped) at every merge. Any other relation as it is."""
        if relation.WhichOneof("rel_type") != "sql":
            return relation
        from lakesmith.engine.sql_refs import SqlTableRef, find_table_refs, replace_spans

        text = relation.sql.query
        refs = [ref for ref in find_table_refs(text) if isinstance(ref, SqlTableRef)
                and not ref.streaming and self.dataset_of(sql_read(ref)) == self.table]
        if not refs:
            return relation
        name = f"{self.rewriter.view_prefix}_appended_rows"
        # Unaliased, the rows keep the table's name: `orders.amount` still means them.
        replaced = replace_spans(text, [
            (ref.start, ref.end, name if ref.aliased else
             f"{name} AS `{ref.parts[-1].replace('`', '``')}`") for ref in refs])
        bound = sql_with_relation(relation, replaced, name, self.rows)
        if self.rows.common.HasField("plan_id"):  # the rows' columns, known by their name
            known = self.rewriter.table_schemas.get(relation_key(self.rows.common.plan_id))
            if known is not None:
                self.rewriter.table_schemas[f"`{name}`"] = known
        return bound


def merged(binder: AppendedRowsBinder, relation: proto.Relation, form: AggregateForm,
           view: Location, schema: StructType, *, stored: Any | None = None) -> Any:
    """The new rows of `view` (the view, or a backing table): its stored rows (or `stored`,
    rows of its columns: those of a view holding its aggregation, `view_state.py`) merged with
    the aggregation `relation` over the appended rows.

    Only the query over the appended rows gets `engine/semantics` (as every flow's query does);
    the merge around it is written as Spark computes it (`_merge`). Its keys need no
    normalization: both sides' keys are outputs of the query's grouping, normalized there
    (`engine/semantics/float_keys.py`), so equal keys have equal bits."""
    spark = binder.spark
    partial = binder.rewriter.dataframe(binder.over_rows(binder.prepare(relation)))
    if stored is None:
        stored = spark.read.format("delta").load(engine_path(view))
    both = stored.unionByName(partial)
    types = {f.name: f.dataType for f in schema.fields}
    aggregates = [_merge(function, F.col(quote_name(name)), types[name]).alias(name)
                  for name, function in form.columns if function != KEY]
    keys = [F.col(quote_name(k)) for k in form.keys]
    grouped = both.groupBy(*keys).agg(*aggregates) if keys else both.agg(*aggregates)
    result = grouped.select(*[F.col(quote_name(f.name)) for f in schema.fields])
    # Its schema is the view's (each column cast to it, every column nullable as the view's
    # are: no declared schema): known, so writing it asks the engine nothing.
    result._cached_schema = StructType([StructField(f.name, f.dataType, True)
                                        for f in schema.fields])
    return result
