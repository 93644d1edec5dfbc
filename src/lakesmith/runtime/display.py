"""Printing a pipeline's graph, tables and query results for the CLI."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from lakesmith.graph.model import DatasetKind
from lakesmith.runtime.flows.quality import QUARANTINE_SUFFIX, quarantine_table
from lakesmith.tables.clustering import clustering_state
from lakesmith.tables.delta import table_info


def _location(pipeline: Any, location: Any) -> str:
    return str(location.relative_to(pipeline.spec.root))


def _relative_location(location: Any, root: Any) -> str:
    relative = location.relative_to(root)
    return str(location) if relative is None else relative


def print_graph(console: Console, pipeline: Any, schemas: dict[str, Any]) -> None:
    graph = pipeline.graph
    console.print(f"Pipeline '{pipeline.spec.name}': {len(graph.datasets)} datasets, "
                  f"{len(graph.flows)} flows.")
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("flow", "target", "kind", "reads", "columns", "defined at"):
        table.add_column(column)
    for flow in graph.topological_flows():
        dataset = graph.dataset(flow.target)
        reads = []
        for flow_input in flow.inputs:
            prefix = "stream " if flow_input.read.streaming else ""
            if flow_input.dataset is not None:
                reads.append(prefix + graph.dataset(flow_input.dataset).name)
            else:
                reads.append(prefix + (flow_input.read.name or
                                       f"{flow_input.read.format}:{','.join(flow_input.read.paths)}")
                             + " (external)")
        schema = schemas.get(flow.name)
        columns = ", ".join(f.name for f in schema.fields) if schema is not None else "-"
        table.add_row(flow.name, dataset.name, dataset.kind.label, ", ".join(reads) or "-",
                      columns, _location(pipeline, flow.flow.location))
    console.print(table)


def print_plan(console: Console, plan: Any) -> None:
    """What an update would do, flow by flow: the plan `lakesmith run` executes."""
    console.print("Update plan:")
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("flow", "dataset", "action", "reads"):
        table.add_column(column)
    for planned in plan.flows:
        work = planned.work
        reads = [_source_work(source) for source in work.sources]
        style = "red" if work.error is not None else ("dim" if work.action == "skip" else "")
        action = f"[{style}]{work.describe()}[/]" if style else work.describe()
        table.add_row(planned.name, plan.graph.dataset(planned.flow.target).name, action,
                      "; ".join(reads) or "-")
    for flow in plan.excluded:
        table.add_row(flow.name, plan.graph.dataset(flow.target).name,
                      "[dim]excluded (not selected)[/dim]", "-")
    console.print(table)


def _source_work(source: Any) -> str:
    backlog = source.backlog
    if source.start is None and backlog.is_empty and not source.internal:
        return f"{source.name}: does not exist yet"
    size = f"{backlog.files:,} file(s), {_bytes(backlog.bytes)}"
    if backlog.records is not None:
        size += f", {backlog.records:,} row(s)"
    versions = ""
    if backlog.versions is not None:
        first, last = backlog.versions
        versions = f" @{first}" if first == last else f" @{first}-{last}"
    text = f"{source.name}{versions}: {size}" if not backlog.is_empty else \
        f"{source.name}: nothing new"
    if source.internal:
        text += " (+ what upstream flows write)"
    return text


def _bytes(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:,.0f} {unit}" if unit == "B" else f"{count:,.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count} B"


def print_tables(console: Console, pipeline: Any) -> None:
    graph = pipeline.graph
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in ("dataset", "kind", "location", "version", "files", "size", "clustering",
                   "rows"):
        # Locations are shown whole: other columns wrap first.
        table.add_column(column, justify="right" if column in ("version", "files", "size",
                                                               "rows") else "left",
                         no_wrap=column == "location", overflow="ignore"
                         if column == "location" else "fold")
    for name, dataset in graph.datasets.items():
        if dataset.kind == DatasetKind.TEMPORARY_VIEW or dataset.kind == DatasetKind.SINK:
            table.add_row(dataset.name, dataset.kind.label, "-", "-", "-", "-", "-", "-")
            continue
        location = pipeline.catalog.location(name)
        info = table_info(location)
        shown = _relative_location(location, pipeline.spec.root_location)
        if info is None:
            table.add_row(dataset.name, dataset.kind.label, shown, "-", "-", "-", "-",
                          "not created yet")
        else:
            rows = f"{info.row_count:,}" if info.row_count is not None else "?"
            table.add_row(dataset.name, dataset.kind.label, shown, str(info.version),
                          str(info.num_files), _size(info.size_bytes),
                          clustering_state(location), rows)
        quarantine = pipeline.catalog.location(quarantine_table(name))
        quarantine_info = table_info(quarantine)
        if quarantine_info is not None:
            rows = f"{quarantine_info.row_count:,}" if quarantine_info.row_count is not None else "?"
            table.add_row(dataset.name + QUARANTINE_SUFFIX, "quarantine",
                          _relative_location(quarantine, pipeline.spec.root_location),
                          str(quarantine_info.version), str(quarantine_info.num_files),
                          _size(quarantine_info.size_bytes), "-", rows)
    console.print(table)


def _size(size_bytes: int) -> str:
    size = float(size_bytes)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def print_query(console: Console, df: Any, max_rows: int) -> None:
    """Fetch at most `max_rows` rows of a user's query (this is output, not pipeline work)."""
    result = df.limit(max_rows + 1).toArrow()
    table = Table(show_edge=False, pad_edge=False)
    for name in result.column_names:
        table.add_column(name)
    rows = result.to_pylist()
    for row in rows[:max_rows]:
        table.add_row(*("NULL" if v is None else str(v) for v in row.values()))
    console.print(table)
    more = " (more rows not shown)" if len(rows) > max_rows else ""
    console.print(f"[dim]{min(len(rows), max_rows)} row(s){more}[/dim]")
