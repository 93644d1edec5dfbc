"""What each read of a flow means in an update.

Reads of pipeline datasets are rewritten before the engine sees a flow's plan: a temporary view's
read becomes the view's own (rewritten) query; a table's read becomes a read of the engine table
once the table exists (`TableBinder`), or of the query that would produce it when analysing a graph
that has not run yet (`AnalysisBinder`). Reads of anything else are left as written.
"""

from __future__ import annotations

import itertools
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.types import StructType

from lakesmith.cdc.snapshot import snapshot_spec
from lakesmith.cdc.spec import END_AT, START_AT, resolve, source_relation, target_dataframe
from lakesmith.engine.file_metadata import (
    rewrite_input_file_name,
    without_hidden_metadata,
)
from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import (
    Binding,
    PathsBinding,
    PlanRead,
    PlanRewriter,
    RelationBinding,
    TableBinding,
    dataframe_of,
    relation_of,
)
from lakesmith.engine.stateful import batch_equivalent
from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.graph.flows import AutoCdcFlow, AutoCdcSnapshotFlow
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.graph.model import Table
from lakesmith.locations import Location
from lakesmith.quality.expectations import ExpectationSet
from lakesmith.runtime.schema import declared_schema, written
from lakesmith.runtime.streaming.sources import reads_file_metadata, source_key
from lakesmith.sources.base import StreamSource
from lakesmith.sources.files.batch import batch_files_dataframe
from lakesmith.sources.files.file_stream_format import is_spark_file_stream
from lakesmith.sources.registry import is_file_stream_format
from lakesmith.tables.catalog import TableCatalog, quote_always
from lakesmith.tables.delta import DeltaLogs

if TYPE_CHECKING:
    from deltalake import DeltaTable

# A flow's stream sources, by key (the workspace's, shared by analysis, planning and running).
StreamSources = Callable[[ResolvedFlow], dict[str, StreamSource]]


class DatasetBinder(ABC):
    """Binds reads of pipeline datasets; subclasses decide what reading a stored table means."""

    def __init__(self, graph: DataflowGraph, spark: Any, project: Location) -> None:
        self.graph = graph
        self.spark = spark
        self.project = project
        self.rewriter = PlanRewriter(spark, self)
        self._views: dict[TableName, proto.Relation] = {}
        self._flow: ResolvedFlow | None = None  # the flow whose query is being bound

    def __call__(self, read: PlanRead) -> Binding | None:
        name = self.dataset_of(read)
        if name is None:
            if is_file_stream_format(read.format) or \
                    is_spark_file_stream(read.format, read.streaming):
                return RelationBinding(relation_of(self.files_dataframe(read)))
            return self.absolute_paths(read)
        if self.graph.kind(name).is_view:
            return RelationBinding(self.view_relation(name))
        return self.bind_table(name, read)

    def dataset_of(self, read: PlanRead) -> TableName | None:
        if read.name is None:
            return None
        name = self.graph.names.qualify(read.name)
        return name if name in self.graph.datasets else None

    def absolute_paths(self, read: PlanRead) -> Binding | None:
        """Relative paths in a data-source read mean the project folder (the engine would read
        them relative to its own working directory)."""
        if read.in_sql or not read.paths:
            return None
        paths = tuple(p if "://" in p else engine_path(Location.parse(p, base=self.project))
                      for p in read.paths)
        return PathsBinding(paths) if paths != read.paths else None

    @abstractmethod
    def bind_table(self, name: TableName, read: PlanRead) -> Binding:
        """What a read of the stored dataset `name` means for this binder."""

    def files_dataframe(self, read: PlanRead) -> Any:
        """An Auto Loader read (`cloudFiles`, SQL `read_files`): as a batch, every file now."""
        if read.streaming:
            raise NotSupportedYet(f"{read.describe()}: a stream of files is read by a streaming "
                                  "table's flow; this read is not one.")
        return batch_files_dataframe(self.spark, read, self.project,
                                     with_metadata=self._flow is not None
                                     and self.reads_file_metadata(self._flow))

    def reads_file_metadata(self, flow: ResolvedFlow) -> bool:
        return reads_file_metadata(flow, self.graph)

    def flow_dataframe(self, flow: ResolvedFlow) -> Any:
        """The flow's query with every read bound, as a DataFrame ready to execute."""
        outer, self._flow = self._flow, flow
        try:
            df = self.rewriter.dataframe(self.prepare(flow.relation))
        finally:
            self._flow = outer
        return without_hidden_metadata(df) if self.reads_file_metadata(flow) else df

    def view_relation(self, name: TableName) -> proto.Relation:
        if name not in self._views:
            (flow,) = self.graph.flows_into(name)
            self._views[name] = self.with_view_expectations(
                flow, self.rewriter.rewrite(self.prepare(flow.relation)))
        return self._views[name]

    def prepare(self, relation: proto.Relation) -> proto.Relation:
        """A flow's or view's plan before its reads are bound: `input_file_name()` made to read
        the `_metadata` column a file source supplies."""
        return rewrite_input_file_name(relation)

    def with_view_expectations(self, flow: ResolvedFlow, relation: proto.Relation) -> proto.Relation:
        """A view's `drop` rules apply wherever the view is read."""
        rules = ExpectationSet.for_flow(self.graph, flow)
        if not rules.drops:
            return relation
        return relation_of(rules.kept(dataframe_of(self.spark, relation)))

    def close(self) -> None:
        self.rewriter.drop_temp_views()


class TableBinder(DatasetBinder):
    """Run time: batch reads of tables read the Delta tables the pipeline maintains."""

    def __init__(self, graph: DataflowGraph, spark: Any, catalog: TableCatalog,
                 project: Location, logs: DeltaLogs | None = None) -> None:
        super().__init__(graph, spark, project)
        self.catalog = catalog
        self.logs = logs

    def bind_table(self, name: TableName, read: PlanRead) -> Binding:
        if read.streaming:
            raise NotSupportedYet(
                f"streaming read of '{self.graph.dataset(name).name}': streaming tables are not "
                "supported by lakesmith yet.")
        log = self.logs(self.catalog.location(name)) if self.logs is not None else None
        table = log.table() if log is not None else None  # (the update's log, often settled)
        exists = table is not None if log is not None else self.catalog.exists(name)
        if not exists:
            raise LakesmithError(
                f"'{self.graph.dataset(name).name}' has no data yet: it was not refreshed in this "
                "update and has never been refreshed.",
                hint="run the pipeline without --refresh/--full-refresh first, or include it.")
        # Registered with the engine when first read (once a session), not every table before
        # an update starts: an update with nothing new reads none (docs/benchmarks.md).
        self.catalog.register(name)
        engine_name = self.catalog.engine_name(name)
        if table is not None:
            self._know_schema(engine_name, table)
        return TableBinding(engine_name)

    def _know_schema(self, engine_name: str, table: DeltaTable) -> None:
        """The table's schema now, from its Delta log (advanced to its newest commit), for the
        plan rewrites that need column types (`known_schemas`): no engine round trip."""
        self.rewriter.table_schemas[engine_name] = StructType.fromJson(
            json.loads(table.schema().to_json()))


class AnalysisBinder(DatasetBinder):
    """Dry run: reads of tables stand for the queries that produce them, so a graph can be
    analysed (schemas, columns, expressions) before any table exists."""

    _view_counter = itertools.count()

    def __init__(self, graph: DataflowGraph, spark: Any, project: Location,
                 stream_sources: StreamSources | None = None) -> None:
        super().__init__(graph, spark, project)
        self._tables: dict[TableName, proto.Relation] = {}
        # Each flow's output, computed once: analysing a graph asks for a flow's output, and
        # again for every table read downstream of it (each asks the engine for schemas).
        self._outputs: dict[str, Any] = {}
        self._table_views: dict[TableName, str] = {}
        self.stream_sources = stream_sources
        # Each flow's output schema once analysed (`analysis.analyze_graph` analyses upstream
        # flows first): the view of a table written by one flow has it, known without a round
        # trip to the plan rewrites that need column types (`known_schemas`).
        self.flow_schemas: dict[str, StructType] = {}

    def bind_table(self, name: TableName, read: PlanRead) -> Binding:
        # a relation (a read of the view), so that the read keeps the table's name as its
        # qualifier (`orders.amount`), as a relation bound in its place does (`_bind_read`)
        view = proto.Relation()
        view.read.named_table.unparsed_identifier = self.table_view(name)
        return RelationBinding(view)

    def table_view(self, name: TableName) -> str:
        """A temporary view of what the flows into `name` write, for the plans that read it.
        A view, not the relation inlined: each flow's plan gets Spark's semantics once
        (`PlanRewriter.spark_semantics`); rewriting a plan that holds the upstream flows'
        rewritten plans would rewrite lakesmith's own rewrites again."""
        if name not in self._table_views:
            view = f"{self.rewriter.view_prefix}_table_{next(self._view_counter)}"
            dataframe_of(self.spark, self.table_relation(name)).createOrReplaceTempView(view)
            self.rewriter.temp_views.append(view)
            self._table_views[name] = view
            flows = self.graph.flows_into(name)
            if len(flows) == 1 and flows[0].name in self.flow_schemas:
                self.rewriter.table_schemas[view] = self.flow_schemas[flows[0].name]
        return self._table_views[name]

    def files_dataframe(self, read: PlanRead) -> Any:
        """A stream of files stands for no rows with the stream's columns (its schema: given,
        stored, or inferred from a sample now, without recording anything)."""
        if not read.streaming:
            return super().files_dataframe(read).limit(0)
        key = source_key(read, self.graph, self.project)
        if self.stream_sources is None or self._flow is None or key is None:
            raise NotSupportedYet(f"{read.describe()} cannot be analysed here.")
        source = self.stream_sources(self._flow).get(key)
        if source is None or not hasattr(source, "empty_dataframe"):
            raise NotSupportedYet(f"{read.describe()} cannot be analysed here.")
        return source.empty_dataframe(self.spark)

    def prepare(self, relation: proto.Relation) -> proto.Relation:
        return batch_equivalent(super().prepare(relation))

    def table_relation(self, name: TableName) -> proto.Relation:
        if name not in self._tables:
            frames = [self.output_dataframe(f) for f in self.graph.flows_into(name)]
            combined = frames[0]
            for frame in frames[1:]:
                combined = combined.unionByName(frame, allowMissingColumns=True)
            self._tables[name] = relation_of(combined)
        return self._tables[name]

    def cdc_dataframe(self, flow: ResolvedFlow) -> Any:
        """What an AUTO CDC flow writes: its source's rows with the target's columns."""
        cdc = flow.flow
        assert isinstance(cdc, AutoCdcFlow)
        outer, self._flow = self._flow, flow
        try:
            source = self.rewriter.dataframe(self.prepare(
                source_relation(self.spark, self.graph, cdc, streaming=False)))
        finally:
            self._flow = outer
        return target_dataframe(resolve(cdc, source), source)

    def snapshot_dataframe(self, flow: ResolvedFlow) -> Any:
        """What an AUTO CDC flow from snapshots writes: a snapshot's columns (SCD type 2: and
        `__START_AT` / `__END_AT` of the versions' type). A table source's are known from its
        plan; a function source is called with None (its first snapshot, a DataFrame not run),
        unless the target declares its schema."""
        cdc = flow.flow
        assert isinstance(cdc, AutoCdcSnapshotFlow)
        version_type = "bigint"  # a table's versions
        if cdc.source_name is not None:
            outer, self._flow = self._flow, flow
            try:
                source = self.rewriter.dataframe(self.prepare(
                    relation_of(self.spark.read.table(cdc.source_name))))
            finally:
                self._flow = outer
        else:
            dataset = self.graph.dataset(flow.target)
            schema = declared_schema(self.spark, dataset) if isinstance(dataset, Table) else None
            if schema is not None:
                declared = {f.name.upper() for f in schema.fields}
                if cdc.stored_as_scd_type == 2 and not {START_AT, END_AT} <= declared:
                    raise LakesmithError(
                        f"AUTO CDC flow '{cdc.name}': the schema declared for '{cdc.target}' "
                        f"lacks {START_AT} / {END_AT}, which an SCD type 2 target holds.",
                        hint=f"add `{START_AT} <type>, {END_AT} <type>` to the schema, of the "
                             "type of the versions next_snapshot_and_version returns (BIGINT "
                             "for integers).")
                return self.spark.createDataFrame([], schema)
            from lakesmith.runtime.flows.snapshots import FunctionSnapshots
            found = FunctionSnapshots(cdc).next(None)
            if found is None:
                raise LakesmithError(
                    f"AUTO CDC flow '{cdc.name}': the columns of '{cdc.target}' are not known: "
                    "next_snapshot_and_version(None) returned None (no snapshot yet).",
                    hint=f"declare them: create_streaming_table('{cdc.target}', schema=...).")
            source, version = found
            version_type = _version_type(version)
        columns = [F.col(quote_always(c)) for c in snapshot_spec(cdc, source).columns]
        if cdc.stored_as_scd_type == 2:
            columns += [F.lit(None).cast(version_type).alias(c) for c in (START_AT, END_AT)]
        return source.select(*columns)

    def output_dataframe(self, flow: ResolvedFlow) -> Any:
        """The flow's result as it would be written: conformed to a declared schema."""
        if flow.name not in self._outputs:
            self._outputs[flow.name] = self._output_dataframe(flow)
        return self._outputs[flow.name]

    def _output_dataframe(self, flow: ResolvedFlow) -> Any:
        if isinstance(flow.flow, AutoCdcSnapshotFlow):
            df = self.snapshot_dataframe(flow)
        elif flow.is_auto_cdc:
            df = self.cdc_dataframe(flow)
        else:
            df = self.flow_dataframe(flow)
        dataset = self.graph.dataset(flow.target)
        if not isinstance(dataset, Table):
            return df
        return written(self.spark, df, dataset)


def _version_type(version: Any) -> str:
    """The SQL type of a snapshot function's versions (`__START_AT` / `__END_AT` have it)."""
    if isinstance(version, int):
        return "bigint"
    if isinstance(version, float):
        return "double"
    return "string"
