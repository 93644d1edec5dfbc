"""Binding the plan of one micro-batch: each streaming read becomes exactly the data the batch
owns; stateful operators are rewritten against their state; everything else as at run time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from pyspark.sql.connect import proto
from pyspark.sql.types import StructType

from lakesmith.engine.analysis_hook import this_threads_schema_requests_rewritten
from lakesmith.engine.file_metadata import rewrite_input_file_name, without_hidden_metadata
from lakesmith.engine.plans import (
    Binding,
    PlanRead,
    RelationBinding,
    all_relations,
    dataframe_of,
    relation_of,
)
from lakesmith.engine.semantics.known_schemas import known_schema, relation_key
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location
from lakesmith.runtime.binding import TableBinder
from lakesmith.runtime.streaming.sources import reachable_flows, source_key
from lakesmith.sources.files.file_stream_format import is_spark_file_stream
from lakesmith.sources.registry import is_file_stream_format
from lakesmith.tables.catalog import TableCatalog

RelationTransform = Callable[[proto.Relation, str], proto.Relation]


class StreamBatchBinder(TableBinder):
    """A binder for one batch: `slices` maps each source key to the batch's slice DataFrame.
    `scope` names the flow (its checkpoint) whose batches this binds: each batch of a flow
    replaces the same slice views, so no batch drops its own (a round trip on the critical
    path); a flow leaves one view per file source in the session, as its last batch read it.

    A file source's slice is read through a temporary view while the flow's plan is rewritten
    (`_slice_view`), so Spark's semantics leave its own expressions alone. The view itself is
    only created when something runs against it before the batch's plan is final: a stateful
    operator's query, or SQL text. Otherwise its name is replaced by the slice in the final
    plan, and in any schema request made meanwhile: one round trip less per batch."""

    def __init__(self, graph: DataflowGraph, spark: Any, catalog: TableCatalog, project: Location,
                 slices: Mapping[str, Any], transform: RelationTransform | None = None, *,
                 scope: str, slice_schemas: Mapping[str, StructType | None] | None = None
                 ) -> None:
        super().__init__(graph, spark, catalog, project)
        self.slices = {key: relation_of(df) for key, df in slices.items()}
        # A slice's columns, when its source tells them without the engine.
        self._slice_keys_schemas = dict(slice_schemas or {})
        self._slice_schemas: dict[str, StructType] = {}
        self._slice_views: dict[str, str] = {}
        # Slice views named in the plan being rewritten but not created: view name -> slice.
        self._inlined: dict[str, proto.Relation] = {}
        self._inline = False  # set while the batch's final plan is rewritten
        self.transform = transform
        self.scope = scope

    def __call__(self, read: PlanRead) -> Binding | None:
        name = self.dataset_of(read)
        if name is not None and self.graph.kind(name).is_view:
            # A streaming read of a view (`dlt.read_stream("view")`) is the view's query, whose
            # own streaming reads are bound to their slices.
            return super().__call__(read)
        key = source_key(read, self.graph, self.project)
        if key is not None:
            if is_file_stream_format(read.format) or \
                    is_spark_file_stream(read.format, read.streaming):
                return RelationBinding(self._slice_view(key))
            return RelationBinding(self.slices[key])
        return super().__call__(read)

    def _slice_view(self, key: str) -> proto.Relation:
        """A read of a temporary view of a file source's batch slice. lakesmith builds that
        slice (parsing, rescued data, file metadata) with Spark's answers already; inlined in
        the flow's plan, Spark's semantics would rewrite its expressions again and ask the
        engine the types of their arguments against the whole batch's plan of files: a round
        trip each, dozens per batch, each analysing a thousand files."""
        if self._inline and key not in self._slice_views:
            view = self.slice_view_name(key)
            self._inlined[view] = self.slices[key]
            known = self._slice_keys_schemas.get(key)
            if known is not None:
                self._slice_schemas[view] = known
            return _named_read(view)
        if key not in self._slice_views:
            view = self.slice_view_name(key)
            try:
                dataframe_of(self.spark, self.slices[key]).createOrReplaceTempView(view)
            except Exception:  # e.g. an unreadable file: the slice stays inline, and the batch
                return self.slices[key]  # fails where its files are read and named
            self._slice_views[key] = view
        return _named_read(self._slice_views[key])

    def slice_view_name(self, key: str) -> str:
        """The same name for every batch of the flow reading source `key` (replaced by the next
        batch), and another for any other flow or source."""
        digest = hashlib.sha1(f"{self.scope}\n{key}".encode()).hexdigest()[:16]
        return f"{self.rewriter.view_prefix}_slice_{digest}"

    def view_relation(self, name: TableName) -> proto.Relation:
        if name not in self._views:
            (flow,) = self.graph.flows_into(name)
            relation = rewrite_input_file_name(flow.relation)
            if self.transform is not None:
                inline, self._inline = self._inline, False  # its operators run their views
                try:
                    relation = self.transform(relation, f"view:{name}")
                finally:
                    self._inline = inline
            self._views[name] = self.with_view_expectations(flow, self.rewriter.rewrite(relation))
        return self._views[name]

    def batch_dataframe(self, flow: ResolvedFlow) -> Any:
        relation = rewrite_input_file_name(flow.relation)
        if self.transform is not None:
            relation = self.transform(relation, "flow")  # stateful operators run their views
        # SQL text reads a slice by name: its view must exist (`PlanRewriter._sql_name`).
        self._inline = not any(_has_sql(f.relation) for f in reachable_flows(flow, self.graph))
        try:
            with this_threads_schema_requests_rewritten(self._with_slices):
                df = self.rewriter.dataframe(relation)
        finally:
            self._inline = False
        if self._inlined:
            df = dataframe_of(self.spark, self._with_slices(relation_of(df)))
        return without_hidden_metadata(df) if self.reads_file_metadata(flow) else df

    def _with_slices(self, relation: proto.Relation) -> proto.Relation:
        """`relation` with each read of a slice view not created replaced by the slice (the
        read's plan id kept: columns referenced as df["c"] point at it); itself when it reads
        none."""
        if not any(self._inlined_view(rel) for rel in all_relations(relation)):
            return relation
        copied = proto.Relation()
        copied.CopyFrom(relation)
        for rel in list(all_relations(copied)):
            view = self._inlined_view(rel)
            if view is not None:
                plan_id = rel.common.plan_id if rel.HasField("common") else None
                rel.CopyFrom(self._inlined[view])
                if plan_id is not None:
                    rel.common.plan_id = plan_id
                    known = self._slice_schemas.get(view)
                    if known is not None:  # the slice's columns, by the plan id it carries
                        self.rewriter.table_schemas[relation_key(plan_id)] = known
        return copied

    def known_schema(self, df: Any) -> StructType | None:
        """The columns and types of `df` (built on this batch's plan) when lakesmith can tell
        them without asking the engine: a projection of an inlined slice (`known_schemas`)."""
        return known_schema(relation_of(df), self.rewriter.table_schemas.get)

    def _inlined_view(self, rel: proto.Relation) -> str | None:
        """The slice view `rel` reads, when it is one not created."""
        if rel.WhichOneof("rel_type") != "read" or \
                rel.read.WhichOneof("read_type") != "named_table":
            return None
        name = rel.read.named_table.unparsed_identifier
        return name if name in self._inlined else None


def _named_read(name: str) -> proto.Relation:
    relation = proto.Relation()
    relation.read.named_table.unparsed_identifier = name
    return relation


def _has_sql(relation: proto.Relation | None) -> bool:
    return relation is not None and any(rel.WhichOneof("rel_type") == "sql"
                                        for rel in all_relations(relation))
