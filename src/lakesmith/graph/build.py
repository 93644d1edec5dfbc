"""Building the dataflow graph from definitions: qualify names, call each query function once,
read its plan to find what it reads, and validate the result before anything runs."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

from pyspark.pipelines.block_session_mutations import block_session_mutations
from pyspark.sql.connect import proto

from lakesmith.authoring.databricks_runtime import conf_problem, missing_conf_key
from lakesmith.authoring.tracebacks import describe, user_location
from lakesmith.engine.plans import PlanRead, find_reads, relation_of
from lakesmith.engine.semantics.deferred_sql import sql_deferred
from lakesmith.engine.sql_variables import pipeline_sql_substituted
from lakesmith.errors import GraphProblem, GraphValidationError, LakesmithError, SqlRefError
from lakesmith.graph.datasets import (
    Dataset,
    DltTable,
    MaterializedView,
    StreamingTable,
    TemporaryView,
)
from lakesmith.graph.flows import (
    AnyFlow,
    AutoCdcFlow,
    AutoCdcSnapshotFlow,
    PythonQuery,
    QueryFlow,
    SqlQuery,
)
from lakesmith.graph.graph import DataflowGraph, FlowInput, ResolvedFlow
from lakesmith.graph.identifiers import NameResolver, TableName
from lakesmith.graph.model import Definitions
from lakesmith.graph.planning_schemas import PlanningSchemas
from lakesmith.graph.validate import validate_graph
from lakesmith.locations import Location
from lakesmith.source_location import SourceLocation
from lakesmith.sources.files.planning import file_reads_analysable

_sql_plan_ids = itertools.count(1 << 40)  # far from the client's own plan ids


def build_graph(definitions: Definitions, spark: Any, names: NameResolver,
                *, user_files: frozenset[str] = frozenset(),
                project: Location | None = None,
                configuration: Mapping[str, str] | None = None) -> DataflowGraph:
    """The validated graph, or a GraphValidationError listing every problem found.
    `configuration` (the pipeline's) gives the values of `${key}` in the query functions'
    `spark.sql(...)` text."""
    problems: list[GraphProblem] = []
    if all(isinstance(d, TemporaryView) for d in definitions.datasets):
        raise GraphValidationError([GraphProblem(
            "[RUN_EMPTY_PIPELINE] Pipelines are expected to have at least one non-temporary "
            "dataset defined (tables, persisted views) but no non-temporary datasets were found "
            "in your pipeline. Check that the spec's `libraries` globs match your source files "
            "and that they define tables (@dp.table, @dp.materialized_view, CREATE MATERIALIZED "
            "VIEW, ...).")])
    datasets = _qualify_datasets(definitions.datasets, names, problems)
    flows: list[ResolvedFlow] = []
    unresolved: set[TableName] = set()
    seen_flows: dict[str, AnyFlow] = {}
    plans = FlowPlans(spark, user_files, problems)
    schemas = PlanningSchemas(spark, datasets, definitions.flows, names, plans.plan)
    with ExitStack() as stack:
        # While query functions run, df.columns of a dataset or an Auto Loader read works.
        stack.enter_context(schemas.analysable())
        if project is not None:
            stack.enter_context(file_reads_analysable(spark, project))
        stack.enter_context(sql_deferred(spark))  # spark.sql("... QUALIFY ...") runs later
        stack.enter_context(pipeline_sql_substituted(spark, configuration or {}))  # (last)
        for flow in definitions.flows:
            key = flow.name.lower()
            if key in seen_flows:
                problems.append(GraphProblem(
                    f"[PIPELINE_DUPLICATE_IDENTIFIERS.FLOW] flow '{flow.name}' is defined twice "
                    f"(first at {seen_flows[key].location}).",
                    flow.location))
                continue
            seen_flows[key] = flow
            resolved = _resolve_flow(flow, datasets, spark, names, problems, plans)
            if resolved is not None:
                flows.append(resolved)
            else:
                unresolved.add(_target_or_none(flow.target, names))
    flows = _propagate_streaming(datasets, flows)
    graph = DataflowGraph(datasets=_resolve_table_kinds(datasets, flows), flows=flows, names=names)
    problems += validate_graph(graph, frozenset(unresolved))
    if problems:
        raise GraphValidationError(problems, partial=PartialGraph(graph, frozenset(
            name for name in unresolved if name is not None)))
    return graph


@dataclass(frozen=True)
class PartialGraph:
    """The flows of an invalid graph that could be resolved, and the datasets whose flows could
    not (analysis skips what reads them: its errors would only repeat theirs)."""

    graph: DataflowGraph
    unresolved: frozenset[TableName]


def _target_or_none(target: str, names: NameResolver) -> Any:
    try:
        return names.qualify(target)
    except LakesmithError:
        return None


def _qualify_datasets(definitions: list[Dataset], names: NameResolver,
                      problems: list[GraphProblem]) -> dict[TableName, Dataset]:
    datasets: dict[TableName, Dataset] = {}
    for dataset in definitions:
        try:
            name = names.qualify(dataset.name)
        except LakesmithError as e:
            problems.append(GraphProblem(e.message, dataset.location))
            continue
        clash = next((other for other in datasets if other != name
                      and (other.schema.lower(), other.table.lower())
                      == (name.schema.lower(), name.table.lower())), None)
        if clash is not None:
            problems.append(GraphProblem(
                f"datasets '{datasets[clash].name}' ({clash}) and '{dataset.name}' ({name}) differ "
                "only by catalog; the engine knows tables as schema.table, so give them different "
                "schema or table names.", dataset.location))
            continue
        if name in datasets:
            first = datasets[name]
            problems.append(GraphProblem(
                f"[PIPELINE_DUPLICATE_IDENTIFIERS.OUTPUT] dataset '{dataset.name}' is defined more "
                f"than once: as a {first.kind.label} at "
                f"{first.location} and as a {dataset.kind.label} here.", dataset.location))
            continue
        datasets[name] = dataset
    return datasets


def _resolve_flow(flow: AnyFlow, datasets: dict[TableName, Dataset], spark: Any,
                  names: NameResolver, problems: list[GraphProblem],
                  plans: FlowPlans) -> ResolvedFlow | None:
    try:
        target = names.qualify(flow.target)
    except LakesmithError as e:
        problems.append(GraphProblem(e.message, flow.location))
        return None
    if target not in datasets:
        hint = (f"define it first, e.g. create_streaming_table('{flow.target}')"
                if not isinstance(flow, QueryFlow) or not flow.is_default else "")
        problems.append(GraphProblem(
            f"flow '{flow.name}' writes to '{flow.target}', which is not defined in this pipeline"
            + (f"; {hint}." if hint else "."), flow.location))
        return None
    if isinstance(flow, AutoCdcFlow):
        read = PlanRead(name=flow.source, streaming=True)
        inputs = _inputs(flow, [read], datasets, spark, names, problems)
        return ResolvedFlow(flow, target, None, inputs, streaming=True)
    if isinstance(flow, AutoCdcSnapshotFlow):
        # A table source is read whole (a batch read) on each update; a function has no edge.
        reads = [PlanRead(name=flow.source_name, streaming=False)] if flow.source_name else []
        inputs = _inputs(flow, reads, datasets, spark, names, problems)
        return ResolvedFlow(flow, target, None, inputs, streaming=True)
    relation = plans.plan(flow)
    if relation is None:
        return None
    try:
        reads = find_reads(relation)
    except SqlRefError as e:
        problems.append(GraphProblem(f"flow '{flow.name}': {e.message}",
                                     _error_location(flow, e)))
        return None
    inputs = _inputs(flow, reads, datasets, spark, names, problems)
    return ResolvedFlow(flow, target, relation, inputs,
                        streaming=any(i.read.streaming for i in inputs))


class FlowPlans:
    """Each query flow's plan, computed once: when the graph reaches the flow, or earlier when
    another flow's query function asks for its dataset's columns (graph/planning_schemas.py)."""

    def __init__(self, spark: Any, user_files: frozenset[str],
                 problems: list[GraphProblem]) -> None:
        self.spark = spark
        self.user_files = user_files
        self.problems = problems
        self._plans: dict[int, proto.Relation | None] = {}

    def plan(self, flow: QueryFlow) -> proto.Relation | None:
        key = id(flow)
        if key not in self._plans:
            self._plans[key] = None  # while its function runs: a read of itself has no plan
            self._plans[key] = self._plan_of(flow)
        return self._plans[key]

    def _plan_of(self, flow: QueryFlow) -> proto.Relation | None:
        """Call the query function once (Python) or wrap the SQL text as a SQL relation."""
        query = flow.query
        if isinstance(query, SqlQuery):
            try:  # a windowed aggregation or a WATERMARK clause: the DataFrame plan
                from lakesmith.engine.sql_streaming_plan import streaming_sql_plan  # sqlglot

                translated = streaming_sql_plan(query.text, self.spark)
            except SqlRefError as e:
                self.problems.append(GraphProblem(f"flow '{flow.name}': {e.message}",
                                                  flow.location))
                return None
            if translated is not None:
                return translated
            relation = proto.Relation()
            relation.common.plan_id = next(_sql_plan_ids)
            relation.sql.query = query.text
            return relation
        assert isinstance(query, PythonQuery)
        try:
            with block_session_mutations():
                df = query.func()
        except Exception as e:  # user code: report it against the line that raised
            where = user_location(e, self.user_files, flow.location)
            key = missing_conf_key(e)
            self.problems.append(GraphProblem(
                conf_problem(key) if key is not None else
                f"the query function of flow '{flow.name}' raised an error: {describe(e)}",
                where))
            return None
        try:
            return relation_of(df)
        except TypeError:
            self.problems.append(GraphProblem(
                f"the query function of flow '{flow.name}' must return a DataFrame, "
                f"but returned {type(df).__name__}.", flow.location))
            return None


def _inputs(flow: AnyFlow, reads: list[PlanRead], datasets: dict[TableName, Dataset],
            spark: Any, names: NameResolver, problems: list[GraphProblem]) -> tuple[FlowInput, ...]:
    inputs: list[FlowInput] = []
    for read in reads:
        if read.name is None:
            inputs.append(FlowInput(read, None))
            continue
        try:
            name = names.qualify(read.name)
        except LakesmithError as e:
            problems.append(GraphProblem(f"flow '{flow.name}': {e.message}", flow.location))
            continue
        if name in datasets:
            inputs.append(FlowInput(read, name))
        elif _external_table_exists(spark, read.name):
            inputs.append(FlowInput(read, None))
        else:
            problems.append(GraphProblem(
                f"[TABLE_OR_VIEW_NOT_FOUND] flow '{flow.name}' reads '{read.name}', which is "
                "neither a dataset of this "
                "pipeline nor an existing table.", flow.location))
    return tuple(inputs)


def _external_table_exists(spark: Any, name: str) -> bool:
    if name.lower().startswith("live."):
        return False
    return bool(spark.catalog.tableExists(name))


def _propagate_streaming(datasets: dict[TableName, Dataset],
                         flows: list[ResolvedFlow]) -> list[ResolvedFlow]:
    """A flow that reads a temporary view over a stream is itself streaming."""
    streaming_views = _streaming_views(datasets, flows)
    return [replace(f, streaming=_reads_stream(f, streaming_views)) for f in flows]


def _resolve_table_kinds(datasets: dict[TableName, Dataset],
                         flows: list[ResolvedFlow]) -> dict[TableName, Dataset]:
    """Decide what each Databricks `@dlt.table` is: a streaming table when a flow into it streams
    (its query, or an AUTO CDC flow), else a materialized view."""
    resolved: dict[TableName, Dataset] = {}
    for name, dataset in datasets.items():
        if isinstance(dataset, DltTable):
            streaming = any(f.streaming for f in flows if f.target == name)
            dataset = (dataset.as_kind(StreamingTable) if streaming
                       else dataset.as_kind(MaterializedView))
        resolved[name] = dataset
    return resolved


def _reads_stream(flow: ResolvedFlow, streaming_views: set[TableName]) -> bool:
    return flow.streaming or any(i.dataset in streaming_views for i in flow.inputs)


def _streaming_views(datasets: dict[TableName, Dataset], flows: list[ResolvedFlow]) -> set[TableName]:
    """Temporary views whose query reads a stream, directly or through other views."""
    views = {f.target: f for f in flows if isinstance(datasets[f.target], TemporaryView)}
    streaming: set[TableName] = set()
    changed = True
    while changed:
        changed = False
        for name, flow in views.items():
            if name not in streaming and _reads_stream(flow, streaming):
                streaming.add(name)
                changed = True
    return streaming


def _error_location(flow: QueryFlow, error: SqlRefError) -> SourceLocation:
    """The file line of a SQL error: the query's first line plus the error's line in it."""
    query = flow.query
    if error.line is None or not isinstance(query, SqlQuery) or query.location.line is None:
        return flow.location
    return replace(query.location, line=query.location.line + error.line - 1)
