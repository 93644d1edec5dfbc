"""One module per kind of flow, each registered under its kind; `runner_for` looks the kind up.

The kinds are: a materialized view's flow, a streaming flow into a streaming table, a once flow,
a temporary view, an AUTO CDC flow (from a change feed, or from snapshots) and a flow into a
sink. Adding one is a module with a `@register_runner` class; no existing branch changes.
"""

from __future__ import annotations

from collections.abc import Callable

from lakesmith.graph.flows import AutoCdcSnapshotFlow
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.runtime.flows.base import FlowContext, FlowRunner

_RUNNERS: dict[str, Callable[[], FlowRunner]] = {}

AUTO_CDC = "auto_cdc"
AUTO_CDC_SNAPSHOT = "auto_cdc_snapshot"
ONCE = "once"


def register_runner(kind: str) -> Callable[[type[FlowRunner]], type[FlowRunner]]:
    def register(cls: type[FlowRunner]) -> type[FlowRunner]:
        _RUNNERS[kind] = cls
        return cls
    return register


def flow_kind(flow: ResolvedFlow, graph: DataflowGraph) -> str:
    """A flow's kind: how it writes, which depends on the flow and on its target's kind."""
    if isinstance(flow.flow, AutoCdcSnapshotFlow):
        return AUTO_CDC_SNAPSHOT
    if flow.is_auto_cdc:
        return AUTO_CDC
    if flow.query_flow.once:
        return ONCE
    return graph.kind(flow.target).value


def runner_for(flow: ResolvedFlow, graph: DataflowGraph) -> FlowRunner:
    _load_runners()
    kind = flow_kind(flow, graph)
    return _RUNNERS[kind]()


def _load_runners() -> None:
    # Imported for their registrations.
    from lakesmith.runtime.flows import (  # noqa: F401
        auto_cdc,
        auto_cdc_snapshot,
        materialized_view,
        once,
        persisted_view,
        streaming_table,
        temporary_view,
        unsupported,
    )


__all__ = ["FlowContext", "FlowRunner", "flow_kind", "register_runner", "runner_for"]
