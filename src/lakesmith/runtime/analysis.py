"""Analysing a graph before it runs: every flow's query is resolved by the engine against the
queries upstream of it, so a missing column or a bad expression is reported by `dry-run` (and before
`run` writes anything) with the flow's file and line."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import BooleanType, NullType, StructType

from lakesmith.authoring.tracebacks import describe
from lakesmith.engine.plans import relation_of
from lakesmith.errors import GraphProblem, GraphValidationError, LakesmithError
from lakesmith.graph.flows import AutoCdcFlow, AutoCdcSnapshotFlow
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.graph.model import DatasetKind
from lakesmith.locations import Location
from lakesmith.quality.expectations import ExpectationSet
from lakesmith.runtime.binding import AnalysisBinder, StreamSources


def analyze_graph(graph: DataflowGraph, spark: Any, project: Location,
                  stream_sources: StreamSources | None = None,
                  reported: frozenset[TableName] = frozenset()) -> dict[str, StructType]:
    """The output schema of every query flow (as written to its target), by flow name; raises
    with every problem found. Flows into `reported` datasets (whose problems are known already)
    and flows reading them are skipped."""
    binder = AnalysisBinder(graph, spark, project, stream_sources)
    schemas: dict[str, StructType] = {}
    problems: list[GraphProblem] = []
    failed: set[TableName] = set(reported)
    try:
        for flow in graph.topological_flows():
            if flow.relation is None and not _analysable_cdc(flow):
                continue
            if flow.target in reported or flow.upstream & failed:
                failed.add(flow.target)  # its own error would only repeat the upstream one
                continue
            try:
                df = binder.output_dataframe(flow)
                schemas[flow.name] = binder.flow_schemas[flow.name] = df.schema
                problems += _check_expectations(graph, flow, df)
            except LakesmithError as e:
                problems.append(GraphProblem(f"flow '{flow.name}': {e.message}", flow.flow.location))
                failed.add(flow.target)
            except Exception as e:  # the engine's analysis error, reported against the flow
                problems.append(GraphProblem(
                    f"flow '{flow.name}' cannot be analysed: {_as_spark_says(e, binder, flow)}",
                    flow.flow.location))
                failed.add(flow.target)
    finally:
        binder.close()
    if problems:
        raise GraphValidationError(problems)
    return schemas



def _as_spark_says(error: Exception, binder: AnalysisBinder, flow: ResolvedFlow) -> str:
    """The engine's error, in Spark's words where lakesmith knows them (an unresolved column
    with the columns that were available)."""
    message = describe(error)
    if flow.relation is None or flow.is_auto_cdc:
        return message
    from lakesmith.engine.unresolved_columns import explain_unresolved_column  # sqlglot

    try:
        spark_message = explain_unresolved_column(
            message, binder.spark, relation_of(binder.flow_dataframe(flow)), flow.relation)
    except Exception:  # finding the candidates failed too: the engine's message stands
        return message
    return spark_message or message


def _analysable_cdc(flow: ResolvedFlow) -> bool:
    """AUTO CDC flows (analysis knows their target's columns)."""
    return isinstance(flow.flow, (AutoCdcFlow, AutoCdcSnapshotFlow))


def dataset_schemas(graph: DataflowGraph, flow_schemas: dict[str, StructType]
                    ) -> dict[TableName, StructType]:
    """Each stored dataset's schema: its flows' output columns, by name, in first-seen order."""
    schemas: dict[TableName, StructType] = {}
    for flow in graph.flows:
        schema = flow_schemas.get(flow.name)
        if schema is None or not graph.kind(flow.target).is_stored:
            continue
        merged = schemas.setdefault(flow.target, StructType())
        known = {f.name.lower() for f in merged.fields}
        for field in schema.fields:
            if field.name.lower() not in known:
                merged.add(field)
    return schemas


def _check_expectations(graph: DataflowGraph, flow: ResolvedFlow, df: Any) -> list[GraphProblem]:
    """Each rule must be a valid boolean SQL expression over the flow's columns."""
    problems: list[GraphProblem] = []
    rules = ExpectationSet.for_flow(graph, flow)
    if rules and flow.streaming and graph.kind(flow.target) == DatasetKind.TEMPORARY_VIEW:
        return [GraphProblem(
            f"expectations on temporary view '{graph.dataset(flow.target).name}', which reads a "
            "stream, are not supported yet; declare them on the streaming table that reads it.",
            flow.flow.location)]
    fields = _rule_types(df, [rule.expectation.condition for rule in rules.rules])
    for i, rule in enumerate(rules.rules):
        expectation = rule.expectation
        where = expectation.location or flow.flow.location
        try:
            field = fields[i] if fields is not None else \
                df.select(F.expr(expectation.condition).alias("rule")).schema.fields[0]
        except Exception as e:  # the engine's parse or analysis error for the condition
            problems.append(GraphProblem(
                f"expectation '{expectation.name}' of dataset '{rule.dataset}' is not valid: "
                f"`{expectation.condition}`: {describe(e)}", where))
            continue
        if not isinstance(field.dataType, (BooleanType, NullType)):
            problems.append(GraphProblem(
                f"expectation '{expectation.name}' of dataset '{rule.dataset}' must be a boolean "
                f"condition, but `{expectation.condition}` is {field.dataType.simpleString()}.",
                where))
    return problems


def _rule_types(df: Any, conditions: list[str]) -> list[Any] | None:
    """The result field of each condition, in one analysis round trip; None when one of them
    does not analyse (then each is analysed alone, to report exactly which)."""
    if not conditions:
        return []
    try:
        schema = df.select(*[F.expr(c).alias(f"rule_{i}")
                             for i, c in enumerate(conditions)]).schema
    except Exception:  # some rule is invalid: found and reported one by one
        return None
    return list(schema.fields)
