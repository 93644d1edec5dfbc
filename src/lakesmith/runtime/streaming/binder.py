"""Binding the plan of one micro-batch: each streaming read becomes exactly the data the batch
owns; stateful operators are rewritten against their state; everything else as at run time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.file_metadata import rewrite_input_file_name, without_hidden_metadata
from lakesmith.engine.plans import Binding, PlanRead, RelationBinding, dataframe_of, relation_of
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location
from lakesmith.runtime.binding import TableBinder
from lakesmith.runtime.streaming.sources import source_key
from lakesmith.sources.files.file_stream_format import is_spark_file_stream
from lakesmith.sources.registry import is_file_stream_format
from lakesmith.tables.catalog import TableCatalog

RelationTransform = Callable[[proto.Relation, str], proto.Relation]


class StreamBatchBinder(TableBinder):
    """A binder for one batch: `slices` maps each source key to the batch's slice DataFrame.
    `scope` names the flow (its checkpoint) whose batches this binds: each batch of a flow
    replaces the same slice views, so no batch drops its own (a round trip on the critical
    path); a flow leaves one view per file source in the session, as its last batch read it."""

    def __init__(self, graph: DataflowGraph, spark: Any, catalog: TableCatalog, project: Location,
                 slices: Mapping[str, Any], transform: RelationTransform | None = None, *,
                 scope: str) -> None:
        super().__init__(graph, spark, catalog, project)
        self.slices = {key: relation_of(df) for key, df in slices.items()}
        self._slice_views: dict[str, str] = {}
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
        if key not in self._slice_views:
            view = self.slice_view_name(key)
            try:
                dataframe_of(self.spark, self.slices[key]).createOrReplaceTempView(view)
            except Exception:  # e.g. an unreadable file: the slice stays inline, and the batch
                return self.slices[key]  # fails where its files are read and named
            self._slice_views[key] = view
        relation = proto.Relation()
        relation.read.named_table.unparsed_identifier = self._slice_views[key]
        return relation

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
                relation = self.transform(relation, f"view:{name}")
            self._views[name] = self.with_view_expectations(flow, self.rewriter.rewrite(relation))
        return self._views[name]

    def batch_dataframe(self, flow: ResolvedFlow) -> Any:
        relation = rewrite_input_file_name(flow.relation)
        if self.transform is not None:
            relation = self.transform(relation, "flow")
        df = self.rewriter.dataframe(relation)
        return without_hidden_metadata(df) if self.reads_file_metadata(flow) else df
