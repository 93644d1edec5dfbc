"""The streaming sources of a flow: every stream it reads, directly or through temporary views,
each with a stable key for the checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from lakesmith.engine.plans import PlanRead
from lakesmith.errors import NotSupportedYet
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.graph.model import DatasetKind
from lakesmith.sources.delta_stream import DeltaStreamSource, StreamOptions
from lakesmith.tables.catalog import TableCatalog


@dataclass(frozen=True)
class SourceRef:
    """How a streaming read is recognised while a batch plan is bound."""

    dataset: TableName | None
    path: Path | None


def source_key(read: PlanRead, graph: DataflowGraph) -> str | None:
    """A stable name for the stream a read names; None for a batch read."""
    if not read.streaming:
        return None
    if read.name is not None:
        name = graph.names.qualify(read.name)
        return f"table:{name}" if name in graph.datasets else f"external:{read.name}"
    return f"delta:{delta_path(read)}"


def delta_path(read: PlanRead) -> Path:
    if len(read.paths) != 1:
        raise NotSupportedYet(f"{read.describe()}: a Delta stream reads exactly one path.")
    location = read.paths[0]
    if location.startswith("file:"):
        location = unquote(urlparse(location).path)
    return Path(location).resolve()


def flow_sources(flow: ResolvedFlow, graph: DataflowGraph,
                 catalog: TableCatalog) -> dict[str, DeltaStreamSource]:
    """Every stream `flow` reads, by key, including those read through temporary views."""
    sources: dict[str, DeltaStreamSource] = {}
    pending = [flow]
    seen_views: set[TableName] = set()
    while pending:
        current = pending.pop()
        for flow_input in current.inputs:
            read = flow_input.read
            if flow_input.dataset is not None and \
                    graph.kind(flow_input.dataset) == DatasetKind.TEMPORARY_VIEW:
                if flow_input.dataset not in seen_views:
                    seen_views.add(flow_input.dataset)
                    pending.extend(graph.flows_into(flow_input.dataset))
                continue
            key = source_key(read, graph)
            if key is None or key in sources:
                continue
            where = f"flow '{flow.name}'"
            options = StreamOptions.parse(read.options, where)
            if flow_input.dataset is not None:
                dataset = graph.dataset(flow_input.dataset)
                sources[key] = DeltaStreamSource(key, catalog.location(flow_input.dataset),
                                                 options, dataset.name)
            elif read.name is None and (read.format or "").lower() == "delta":
                path = delta_path(read)
                sources[key] = DeltaStreamSource(key, path, options, str(path))
            else:
                raise NotSupportedYet(f"{where}: {read.describe()} is not supported yet.")
    return sources
