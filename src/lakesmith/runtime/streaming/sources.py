"""The streaming sources of a flow: every stream it reads, directly or through temporary views,
each with a key that names it in the checkpoint whatever its spelling (`Bronze`, `bronze`,
`LIVE.bronze` are one table; a path is its absolute URI)."""

from __future__ import annotations

from lakesmith.engine.file_metadata import file_metadata_referenced
from lakesmith.engine.plans import PlanRead
from lakesmith.errors import NotSupportedYet
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location
from lakesmith.sources.base import StreamSource
from lakesmith.sources.registry import SourceRequest, create_source
from lakesmith.tables.catalog import TableCatalog
from lakesmith.tables.delta import DeltaLogs


def table_key(name: TableName) -> str:
    return "table:" + ".".join(f"`{part}`" for part in name.key)


def source_key(read: PlanRead, graph: DataflowGraph, base: Location) -> str | None:
    """A stable name for the stream a read names; None for a batch read."""
    if not read.streaming:
        return None
    if read.name is not None:
        name = graph.names.qualify(read.name)
        if name in graph.datasets:
            return table_key(name)
        return "external:" + ".".join(f"`{part}`" for part in name.key)
    paths = ",".join(p.uri for p in read_locations(read, base))
    return f"{(read.format or '').lower()}:{paths}"


def read_locations(read: PlanRead, base: Location) -> tuple[Location, ...]:
    """The locations a data-source read names; relative paths are relative to the project."""
    return tuple(Location.parse(path, base=base, options=base.options) for path in read.paths)


def flow_sources(flow: ResolvedFlow, graph: DataflowGraph, catalog: TableCatalog,
                 logs: DeltaLogs, base: Location,
                 checkpoint: Location | None = None) -> dict[str, StreamSource]:
    """Every stream `flow` reads, by key, including those read through temporary views."""
    sources: dict[str, StreamSource] = {}
    pending = [flow]
    seen_views: set[TableName] = set()
    where = f"flow '{flow.name}'"
    with_metadata = reads_file_metadata(flow, graph)
    while pending:
        current = pending.pop()
        for flow_input in current.inputs:
            read = flow_input.read
            if flow_input.dataset is not None and \
                    graph.kind(flow_input.dataset).is_view:
                if flow_input.dataset not in seen_views:
                    seen_views.add(flow_input.dataset)
                    pending.extend(graph.flows_into(flow_input.dataset))
                continue
            key = source_key(read, graph, base)
            if key is None or key in sources:
                continue
            if flow_input.dataset is not None:
                request = SourceRequest(key, graph.dataset(flow_input.dataset).name,
                                        read.options, where, logs,
                                        location=catalog.location(flow_input.dataset))
                sources[key] = create_source("delta", request)
            elif read.name is None:
                paths = read_locations(read, base)
                request = SourceRequest(key, ", ".join(str(p) for p in paths), read.options,
                                        where, logs, paths=paths, checkpoint=checkpoint,
                                        base=base, schema=read.schema,
                                        with_metadata=with_metadata)
                sources[key] = create_source(read.format or "", request)
            else:
                raise NotSupportedYet(f"{where}: {read.describe()} is not supported yet.")
    return sources


def reachable_flows(flow: ResolvedFlow, graph: DataflowGraph) -> list[ResolvedFlow]:
    """The flow and the flows of the temporary views it reads, at any depth."""
    found = [flow]
    seen: set[TableName] = set()
    for current in found:
        for flow_input in current.inputs:
            name = flow_input.dataset
            if name is not None and name not in seen and \
                    graph.kind(name).is_view:
                seen.add(name)
                found.extend(graph.flows_into(name))
    return found


def reads_file_metadata(flow: ResolvedFlow, graph: DataflowGraph) -> bool:
    """Whether the flow (or a view it reads) reads `_metadata` or `input_file_name()`."""
    return any(f.relation is not None and file_metadata_referenced(f.relation)
               for f in reachable_flows(flow, graph))
