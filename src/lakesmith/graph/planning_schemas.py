"""Schemas of pipeline datasets while the graph is built, before any of them exists.

Query functions may look at `df.columns` or `df.schema` of what they read (Databricks pipelines
often build an `except_column_list` or a `select` that way). When the read is of another dataset of
this pipeline, the engine has no such table yet (or an old version of it). While query functions
run, schema requests for plans that read pipeline datasets are answered for a plan in which each
such read is a read of no rows with the dataset's columns:

- a table with a declared `schema` has those columns;
- any other dataset has the columns of its flows' queries (their reads of datasets resolved the
  same way, recursively; streaming-only nodes such as watermarks replaced by their batch
  equivalent), the first flow's columns first, as the graph's analysis merges them.

Inside SQL text (`spark.sql("SELECT * FROM LIVE.x")`, a SQL-defined dataset's query) the name
is replaced by a temp view of no rows, dropped when the graph is built.

Nothing runs and nothing is ingested. A dataset whose columns cannot be known this way (an AUTO
CDC target without a declared schema, a cycle) is left as written, and the engine's own error
names the table.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pyspark.sql.connect import proto
from pyspark.sql.connect.catalog import Catalog
from pyspark.sql.connect.dataframe import DataFrame
from pyspark.sql.types import StructType

from lakesmith.engine.analysis_hook import schema_requests_rewritten
from lakesmith.engine.plans import all_relations, dataframe_of, plan_read, relation_of, sql_read
from lakesmith.engine.stateful import batch_equivalent
from lakesmith.errors import LakesmithError, SqlRefError
from lakesmith.graph.datasets import Dataset, Table
from lakesmith.graph.flows import AnyFlow, QueryFlow
from lakesmith.graph.identifiers import NameResolver, TableName

if TYPE_CHECKING:  # SQL text is read with sqlglot, imported where a plan has SQL text
    from lakesmith.engine.sql_refs import SqlTableRef

# The plan of a flow's query (computed once), or None when it has none or it failed.
FlowPlanner = Callable[[QueryFlow], "proto.Relation | None"]

# Taken before any query function runs: `pyspark.pipelines` blocks them for user code while it runs.
_create_temp_view = DataFrame.createOrReplaceTempView
_drop_temp_view = Catalog.dropTempView
_view_numbers = itertools.count()


class PlanningSchemas:
    """Answers schema requests for plans that read pipeline datasets while the graph is built."""

    def __init__(self, spark: Any, datasets: dict[TableName, Dataset], flows: list[AnyFlow],
                 names: NameResolver, plan_flow: FlowPlanner) -> None:
        self.spark = spark
        self.datasets = datasets
        self.names = names
        self.plan_flow = plan_flow
        self._flows: dict[TableName, list[QueryFlow]] = {}
        for flow in flows:
            if isinstance(flow, QueryFlow):
                target = self._dataset_name(flow.target)
                if target is not None:
                    self._flows.setdefault(target, []).append(flow)
        self._schemas: dict[TableName, StructType | None] = {}
        self._in_progress: set[TableName] = set()
        self._views: dict[TableName, str] = {}

    @contextmanager
    def analysable(self) -> Iterator[None]:
        """While the block runs, `df.columns` / `df.schema` of plans reading datasets work."""
        try:
            with schema_requests_rewritten(self.spark, self.resolved):
                yield
        finally:
            self.drop_temp_views()

    def resolved(self, relation: proto.Relation) -> proto.Relation:
        """`relation` with each read of a dataset whose schema is known replaced by a read of no
        rows with that schema (the same object when there is none). In SQL text the dataset's
        name is replaced by a temp view of no rows."""
        if not any(self._bindable(rel) for rel in all_relations(relation)):
            return relation
        copied = proto.Relation()
        copied.CopyFrom(relation)
        for rel in list(all_relations(copied)):
            kind = rel.WhichOneof("rel_type")
            if kind == "sql":
                rel.sql.query = self._resolved_sql(rel.sql.query)
                continue
            empty = self._empty(rel.read) if kind == "read" else None
            if empty is not None:
                plan_id = rel.common.plan_id if rel.HasField("common") else None
                rel.CopyFrom(empty)
                if plan_id is not None:  # df["c"] names the read's plan id
                    rel.common.plan_id = plan_id
        return copied

    def drop_temp_views(self) -> None:
        for view in self._views.values():
            _drop_temp_view(self.spark.catalog, view)
        self._views.clear()

    def _bindable(self, rel: proto.Relation) -> bool:
        kind = rel.WhichOneof("rel_type")
        if kind == "read":
            return self._empty(rel.read) is not None
        if kind == "sql":
            return any(self._known(sql_read(ref).name) for ref in self._table_refs(rel.sql.query))
        return False

    def _resolved_sql(self, text: str) -> str:
        replacements = []
        for ref in self._table_refs(text):
            name = self._known(sql_read(ref).name)
            if name is not None:
                replacements.append((ref.start, ref.end, self._empty_view(name)))
        if not replacements:
            return text
        from lakesmith.engine.sql_refs import replace_spans, strip_stream_keywords

        # The engine does not know STREAM(x): x is the view of no rows.
        return replace_spans(strip_stream_keywords(text), replacements)

    def _table_refs(self, text: str) -> list[SqlTableRef]:
        from lakesmith.engine.sql_refs import SqlTableRef, find_table_refs

        try:
            return [ref for ref in find_table_refs(text) if isinstance(ref, SqlTableRef)]
        except SqlRefError:
            return []  # the graph build reports SQL it cannot read

    def _known(self, text: str | None) -> TableName | None:
        """The dataset `text` names, if its schema is known."""
        name = self._dataset_name(text) if text is not None else None
        return name if name is not None and self.schema(name) is not None else None

    def _empty_view(self, name: TableName) -> str:
        """A temp view of no rows with dataset `name`'s columns (made by lakesmith, so it is not
        a session mutation of the user's query function)."""
        if name not in self._views:
            schema = self.schema(name)
            assert schema is not None
            view = f"__lakesmith_planning_{next(_view_numbers)}"
            _create_temp_view(self.spark.createDataFrame([], schema), view)
            self._views[name] = view
        return f"`{self._views[name]}`"

    def schema(self, name: TableName) -> StructType | None:
        """The columns of dataset `name` as its definition gives them, or None if unknown."""
        if name in self._schemas:
            return self._schemas[name]
        if name in self._in_progress:
            return None  # a cycle: the graph's validation reports it
        self._in_progress.add(name)
        try:
            schema = self._compute(name)
        finally:
            self._in_progress.discard(name)
        self._schemas[name] = schema
        return schema

    def _compute(self, name: TableName) -> StructType | None:
        dataset = self.datasets[name]
        if isinstance(dataset, Table) and dataset.schema is not None:
            return self._declared(dataset)
        merged: StructType | None = None
        for flow in self._flows.get(name, []):
            schema = self._flow_schema(flow)
            if schema is None:
                continue
            if merged is None:
                merged = StructType(list(schema.fields))
                continue
            known = {f.name.lower() for f in merged.fields}
            for field in schema.fields:
                if field.name.lower() not in known:
                    merged.add(field)
        return merged

    def _flow_schema(self, flow: QueryFlow) -> StructType | None:
        relation = self.plan_flow(flow)
        if relation is None:
            return None
        try:
            schema = dataframe_of(self.spark, batch_equivalent(self.resolved(relation))).schema
        except Exception:  # not knowable here: reads of this dataset stay as written
            return None
        return schema if isinstance(schema, StructType) else None

    def _declared(self, dataset: Table) -> StructType | None:
        from lakesmith.runtime.schema import declared_schema

        try:
            return declared_schema(self.spark, dataset)
        except LakesmithError:
            return None  # the table's own flow reports the bad schema

    def _empty(self, read: proto.Read) -> proto.Relation | None:
        """A relation of no rows with the schema of the dataset `read` names, if known."""
        found = plan_read(read)
        if found.name is None:
            return None
        name = self._dataset_name(found.name)
        if name is None:
            return None
        schema = self.schema(name)
        if schema is None:
            return None
        return relation_of(self.spark.createDataFrame([], schema))

    def _dataset_name(self, text: str) -> TableName | None:
        try:
            name = self.names.qualify(text)
        except LakesmithError:
            return None
        return name if name in self.datasets else None
