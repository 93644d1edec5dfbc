"""Binding the plan of one micro-batch: each streaming read becomes exactly the data the batch
owns; stateful operators are rewritten against their state; everything else as at run time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.file_metadata import rewrite_input_file_name, without_hidden_metadata
from lakesmith.engine.plans import Binding, PlanRead, RelationBinding, relation_of
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location
from lakesmith.runtime.binding import TableBinder
from lakesmith.runtime.streaming.sources import source_key
from lakesmith.tables.catalog import TableCatalog

RelationTransform = Callable[[proto.Relation, str], proto.Relation]


class StreamBatchBinder(TableBinder):
    """A binder for one batch: `slices` maps each source key to the batch's slice DataFrame."""

    def __init__(self, graph: DataflowGraph, spark: Any, catalog: TableCatalog, project: Location,
                 slices: Mapping[str, Any], transform: RelationTransform | None = None) -> None:
        super().__init__(graph, spark, catalog, project)
        self.slices = {key: relation_of(df) for key, df in slices.items()}
        self.transform = transform

    def __call__(self, read: PlanRead) -> Binding | None:
        name = self.dataset_of(read)
        if name is not None and self.graph.kind(name).is_view:
            # A streaming read of a view (`dlt.read_stream("view")`) is the view's query, whose
            # own streaming reads are bound to their slices.
            return super().__call__(read)
        key = source_key(read, self.graph, self.project)
        if key is not None:
            return RelationBinding(self.slices[key])
        return super().__call__(read)

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
