"""One module per kind of flow; `runner_for` picks the runner for a flow's target."""

from __future__ import annotations

from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.model import DatasetKind
from lakesmith.runtime.flows.base import FlowContext, FlowRunner
from lakesmith.runtime.flows.materialized_view import MaterializedViewRunner
from lakesmith.runtime.flows.once import OnceFlowRunner
from lakesmith.runtime.flows.streaming_table import StreamingTableRunner
from lakesmith.runtime.flows.temporary_view import TemporaryViewRunner
from lakesmith.runtime.flows.unsupported import UnsupportedRunner


def runner_for(flow: ResolvedFlow, graph: DataflowGraph) -> FlowRunner:
    kind = graph.kind(flow.target)
    if flow.is_auto_cdc:
        return UnsupportedRunner("AUTO CDC flows")
    if kind == DatasetKind.MATERIALIZED_VIEW:
        return MaterializedViewRunner()
    if kind == DatasetKind.TEMPORARY_VIEW:
        return TemporaryViewRunner()
    if kind == DatasetKind.SINK:
        return UnsupportedRunner("sinks")
    if flow.query_flow.once:
        return OnceFlowRunner()
    return StreamingTableRunner()


__all__ = ["FlowContext", "FlowRunner", "runner_for"]
