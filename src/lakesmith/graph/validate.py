"""Graph rules checked before anything runs; every problem names the dataset and where it was
defined, and all problems are reported together."""

from __future__ import annotations

from lakesmith.answer_settings import unsupported_setting
from lakesmith.engine.plans import PlanRead
from lakesmith.engine.stateful import stateful_operators
from lakesmith.errors import GraphProblem, GraphValidationError
from lakesmith.graph.datasets import (
    Dataset,
    DatasetKind,
    MaterializedView,
    PersistedView,
    Sink,
    StreamingTable,
    TemporaryView,
)
from lakesmith.graph.flows import OnceFlow, QueryFlow
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.sources.registry import is_stream_format, stream_formats


def validate_graph(graph: DataflowGraph,
                   unresolved_targets: frozenset[TableName] = frozenset()) -> list[GraphProblem]:
    """Every rule violation; `unresolved_targets` are datasets with a flow that could not be
    resolved (already reported), whose missing flows are not reported again."""
    problems: list[GraphProblem] = []
    problems += _check_flows_per_dataset(graph, unresolved_targets)
    problems += _check_flow_kinds(graph)
    problems += _check_spark_conf(graph)
    problems += _check_reads(graph)
    problems += _check_streaming_queries(graph)
    if not problems:
        problems += _check_cycles(graph)
    return problems


def check_graph(graph: DataflowGraph) -> None:
    problems = validate_graph(graph)
    if problems:
        raise GraphValidationError(problems)


def _check_flows_per_dataset(graph: DataflowGraph,
                             unresolved_targets: frozenset[TableName]) -> list[GraphProblem]:
    problems: list[GraphProblem] = []
    for name, dataset in graph.datasets.items():
        if name in unresolved_targets:
            continue
        flows = graph.flows_into(name)
        if isinstance(dataset, (MaterializedView, TemporaryView, PersistedView)):
            if not flows:
                problems.append(GraphProblem(
                    f"[PIPELINE_DATASET_WITHOUT_FLOW] {dataset.kind.label} '{dataset.name}' has no "
                    "query.", dataset.location))
            # AUTO CDC flows into a view are reported by _check_flow_kinds.
            extra = [f for f in flows if isinstance(f.flow, QueryFlow) and not f.flow.is_default]
            for flow in extra:
                problems.append(GraphProblem(
                    f"[MATERIALIZED_VIEW_WITH_MULTIPLE_QUERIES] flow '{flow.name}' appends to "
                    f"{dataset.kind.label} '{dataset.name}'; only streaming tables and sinks accept "
                    "append flows.", flow.flow.location))
        if isinstance(dataset, StreamingTable) and not flows:
            problems.append(GraphProblem(
                f"[PIPELINE_DATASET_WITHOUT_FLOW] streaming table '{dataset.name}' has no flow "
                "writing to it; add a query or an append flow.", dataset.location))
        cdc = [f for f in flows if f.is_auto_cdc]
        if cdc and len(flows) > 1 and isinstance(dataset, StreamingTable):
            problems.append(GraphProblem(
                f"[AUTOCDC_MULTIPLE_FLOWS_TO_TARGET] streaming table '{dataset.name}' is the target "
                f"of an AUTO CDC flow and of other flows ({', '.join(f.name for f in flows)}); an "
                "AUTO CDC target must have exactly one flow writing to it.", cdc[0].flow.location))
    return problems


def _check_flow_kinds(graph: DataflowGraph) -> list[GraphProblem]:
    """Batch and streaming flows only where Spark allows them."""
    problems: list[GraphProblem] = []
    for flow in graph.flows:
        dataset = graph.dataset(flow.target)
        where = flow.flow.location
        once = isinstance(flow.flow, OnceFlow)
        if flow.is_auto_cdc and not isinstance(dataset, StreamingTable):
            problems.append(_auto_cdc_target_problem(flow, graph))
        elif flow.is_auto_cdc and isinstance(dataset, StreamingTable) and dataset.generated_columns:
            problems.append(GraphProblem(
                f"streaming table '{dataset.name}' has generated columns "
                f"({', '.join(dataset.generated_columns)}) and is the target of AUTO CDC flow "
                f"'{flow.name}'; generated columns on an AUTO CDC target are not supported yet.",
                dataset.location))
        elif isinstance(dataset, MaterializedView) and flow.streaming:
            problems.append(GraphProblem(
                "[INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW] "
                f"materialized view '{dataset.name}' reads a stream ({_streaming_reads(flow)}); a "
                "materialized view must be defined by a batch query. Use a streaming table, or read "
                f"the source as a batch ({_batch_read_hint(flow)}).", where))
        elif isinstance(dataset, PersistedView) and flow.streaming:
            problems.append(GraphProblem(
                "[INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_PERSISTED_VIEW] "
                f"persisted view '{dataset.name}' reads a stream ({_streaming_reads(flow)}); "
                "persisted views may only be defined by a batch query. Read the source as a "
                f"batch ({_batch_read_hint(flow)}), or use a streaming table.", where))
        elif once and flow.streaming:
            problems.append(GraphProblem(
                f"[INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_ONCE_FLOW] flow '{flow.name}' is "
                "an append once-flow defined by a streaming query; once flows must be batch "
                "queries.", where))
        elif isinstance(dataset, StreamingTable) and not flow.streaming and not once:
            problems.append(GraphProblem(
                "[INVALID_FLOW_QUERY_TYPE.BATCH_RELATION_FOR_STREAMING_TABLE] "
                f"streaming table '{dataset.name}' is written by flow '{flow.name}', whose query is "
                "a batch query; a streaming table's flows must read a stream (spark.readStream..., "
                "STREAM(...), STREAM read_files(...)). Use a materialized view for a batch query.",
                where))
        elif isinstance(dataset, Sink) and not flow.streaming:
            problems.append(GraphProblem(
                f"sink '{dataset.name}' is written by flow '{flow.name}', whose query is a batch "
                "query; flows into a sink must read a stream.", where))
    return problems


def _check_spark_conf(graph: DataflowGraph) -> list[GraphProblem]:
    """A flow's `spark_conf` (or SQL `SET`) must not change answers away from Spark's defaults
    (`answer_settings.py`): lakesmith would not give Spark's answers under it."""
    return [GraphProblem(f"flow '{flow.name}': {refusal}", flow.flow.location)
            for flow in graph.flows
            for key, value in (flow.flow.spark_conf or {}).items()
            if (refusal := unsupported_setting(key, value)) is not None]


# Spark's error class for an AUTO CDC flow into each kind of dataset other than a streaming table.
_AUTO_CDC_TARGET_ERRORS: dict[type[Dataset], str] = {
    MaterializedView: "INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW",
    TemporaryView: "INVALID_FLOW_QUERY_TYPE.AUTOCDC_RELATION_FOR_TEMPORARY_VIEW",
}


def _auto_cdc_target_problem(flow: ResolvedFlow, graph: DataflowGraph) -> GraphProblem:
    """AUTO CDC merges changes into stored rows, so only a streaming table can be its target."""
    dataset = graph.dataset(flow.target)
    error_class = _AUTO_CDC_TARGET_ERRORS.get(type(dataset))
    prefix = f"[{error_class}] " if error_class else ""
    return GraphProblem(
        f"{prefix}AUTO CDC flow '{flow.name}' writes to {dataset.kind.label} '{dataset.name}' "
        f"(defined at {dataset.location}); an AUTO CDC target must be a streaming table: define "
        f"it with create_streaming_table('{dataset.name}') (SQL: CREATE STREAMING TABLE "
        f"{dataset.name}) and make the AUTO CDC flow its only flow.", flow.flow.location)


def _streaming_reads(flow: ResolvedFlow) -> str:
    names = [i.read.describe() for i in flow.inputs if i.read.streaming]
    return ", ".join(names) or "through a temporary view over a stream"


def _batch_read_hint(flow: ResolvedFlow) -> str:
    """How to read this flow's streams as a batch, in the language the reads are written in."""
    reads = [i.read for i in flow.inputs if i.read.streaming]
    if reads and all(r.in_sql for r in reads):
        return ("in SQL, without STREAM; for files, read_files(...) instead of cloud_files(...), "
                "which always streams")
    return "spark.read instead of spark.readStream"


def _check_reads(graph: DataflowGraph) -> list[GraphProblem]:
    problems: list[GraphProblem] = []
    for flow in graph.flows:
        target = graph.dataset(flow.target)
        for flow_input in flow.inputs:
            if flow_input.dataset is None:
                continue
            source = graph.dataset(flow_input.dataset)
            if isinstance(source, Sink):
                problems.append(GraphProblem(
                    f"flow '{flow.name}' reads sink '{source.name}'; sinks can only be written.",
                    flow.flow.location))
            elif isinstance(source, TemporaryView) and isinstance(target, PersistedView):
                problems.append(GraphProblem(
                    f"[INVALID_TEMP_OBJ_REFERENCE] Cannot create the persistent object "
                    f"'{target.name}' of the type view because it references to the temporary "
                    f"object '{source.name}' of the type temporary view. Please make the "
                    f"temporary object '{source.name}' persistent (CREATE VIEW), or make the "
                    f"persistent object '{target.name}' temporary (CREATE TEMPORARY VIEW).",
                    flow.flow.location))
            elif flow_input.read.streaming and isinstance(source, MaterializedView):
                problems.append(GraphProblem(
                    f"flow '{flow.name}' reads materialized view '{source.name}' as a stream; a "
                    "materialized view is recomputed in full and cannot be a streaming source. "
                    "Read it with spark.read (a batch read), or make it a streaming table.",
                    flow.flow.location))
    return problems


def _check_streaming_queries(graph: DataflowGraph) -> list[GraphProblem]:
    """Streaming sources and stateful operators lakesmith cannot run yet, refused by name."""
    problems: list[GraphProblem] = []
    streaming_views = {f.target for f in graph.flows
                       if f.streaming and graph.kind(f.target) == DatasetKind.TEMPORARY_VIEW}

    def reads_stream(read: PlanRead) -> bool:
        if read.streaming:
            return True
        if read.name is None:
            return False
        return graph.names.qualify(read.name) in streaming_views

    for flow in graph.flows:
        if flow.relation is None or not flow.streaming:
            continue
        dataset = graph.dataset(flow.target)
        for flow_input in flow.inputs:
            read = flow_input.read
            if read.streaming and flow_input.dataset is None and read.name is None \
                    and not is_stream_format(read.format):
                problems.append(GraphProblem(
                    f"flow '{flow.name}' reads a stream of format '{read.format}' "
                    f"({read.describe()}): streaming reads of this format are not supported yet; "
                    "lakesmith streams from pipeline datasets and, so far, from sources of "
                    f"format {', '.join(stream_formats())} only.",
                    flow.flow.location))
            elif read.streaming and flow_input.dataset is None and read.name is not None:
                problems.append(GraphProblem(
                    f"flow '{flow.name}' streams from table '{read.name}', which is not a dataset "
                    "of this pipeline; stream from a Delta path instead "
                    "(spark.readStream.format('delta').load(path)), not supported yet by name.",
                    flow.flow.location))
        for operator in stateful_operators(flow.relation, reads_stream):
            if not operator.supported and operator.problem is not None:
                problems.append(GraphProblem(
                    f"{dataset.kind.label} '{dataset.name}' (flow '{flow.name}') applies "
                    f"{operator.description} to a stream: {operator.problem}"
                    + (f" Hint: {operator.hint}" if operator.hint else ""), flow.flow.location))
            elif not operator.supported and operator.description.endswith(" in SQL"):
                problems.append(GraphProblem(
                    f"{dataset.kind.label} '{dataset.name}' (flow '{flow.name}') applies "
                    f"{operator.description} to a stream, which lakesmith does not support in "
                    "SQL yet: it runs GROUP BY with a WATERMARK clause, joins of streams and "
                    "the WATERMARK clause in a query's own SELECT (not in a subquery), and the "
                    "DataFrame API runs deduplication too (docs/stateful-streaming.md).",
                    flow.flow.location))
            elif not operator.supported:
                problems.append(GraphProblem(
                    f"{dataset.kind.label} '{dataset.name}' (flow '{flow.name}') applies "
                    f"{operator.description} to a stream; this stateful streaming operator is "
                    "not supported by lakesmith yet (dropDuplicates and aggregations with a "
                    "watermark are).", flow.flow.location))
    return problems


def _check_cycles(graph: DataflowGraph) -> list[GraphProblem]:
    """Report each cycle once, as `a -> b -> a`, at the first dataset's definition."""
    edges: dict[TableName, set[TableName]] = {name: set() for name in graph.datasets}
    for flow in graph.flows:
        for upstream in flow.upstream:
            edges[upstream].add(flow.target)
    state: dict[TableName, int] = {}  # 1 = on the current path, 2 = finished
    path: list[TableName] = []
    problems: list[GraphProblem] = []

    def visit(node: TableName) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges[node], key=str):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                text = " -> ".join(graph.dataset(n).name for n in cycle)
                problems.append(GraphProblem(
                    f"[PIPELINE_GRAPH_NOT_TOPOLOGICALLY_SORTED] the pipeline has a cycle: {text}. "
                    "A dataset cannot read itself, directly or "
                    "through other datasets.", graph.dataset(nxt).location))
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in graph.datasets:
        if node not in state:
            visit(node)
    return problems
