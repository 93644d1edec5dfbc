"""Printing a pipeline's graph, plan, tables and query results for the CLI (tables as text, or
records for `--format json|csv`)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from lakesmith.authoring.tracebacks import describe
from lakesmith.errors import LakesmithError, UsageError
from lakesmith.graph.identifiers import NameResolver
from lakesmith.graph.model import DatasetKind
from lakesmith.output import OutputFormat, print_records, print_vertical, write_csv, write_json
from lakesmith.runtime.flows.quality import QUARANTINE_SUFFIX, quarantine_table
from lakesmith.runtime.orphans import orphan_tables, orphans_since_last_update
from lakesmith.tables.catalog import TableCatalog
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


def dry_run_record(pipeline: Any, schemas: dict[str, Any], plan: Any) -> dict[str, Any]:
    """`dry-run --format json`: the graph's flows with their columns, and the update plan."""
    graph = pipeline.graph
    flows = []
    for flow in graph.topological_flows():
        schema = schemas.get(flow.name)
        flows.append({
            "flow": flow.name, "dataset": graph.dataset(flow.target).name,
            "kind": graph.dataset(flow.target).kind.value,
            "reads": [{"dataset": graph.dataset(i.dataset).name if i.dataset else None,
                       "name": i.read.name, "format": i.read.format,
                       "paths": list(i.read.paths), "streaming": i.read.streaming}
                      for i in flow.inputs],
            "columns": None if schema is None else [
                {"name": f.name, "type": f.dataType.simpleString(), "nullable": f.nullable}
                for f in schema.fields],
            "defined_at": _location(pipeline, flow.flow.location),
        })
    return {"pipeline": pipeline.spec.name, "valid": True, "flows": flows,
            "plan": plan.to_event(),
            "excluded": [f.name for f in plan.excluded]}


def table_records(pipeline: Any) -> list[dict[str, Any]]:
    """Each dataset (and quarantine table): kind, location, Delta version, files, size,
    clustering state, row count and its comment."""
    graph = pipeline.graph
    records: list[dict[str, Any]] = []
    for name, dataset in graph.datasets.items():
        if dataset.kind.is_view or dataset.kind == DatasetKind.SINK:
            records.append({"dataset": dataset.name, "kind": dataset.kind.label,
                            "location": None, "version": None, "files": None, "bytes": None,
                            "clustering": None, "rows": None, "created": False,
                            "comment": dataset.comment})
            continue
        records.append({**_table_record(pipeline, dataset.name, dataset.kind.label,
                                        pipeline.catalog.location(name)),
                        "comment": dataset.comment})
        quarantine = pipeline.catalog.location(quarantine_table(name))
        if table_info(quarantine) is not None:
            records.append({**_table_record(pipeline, dataset.name + QUARANTINE_SUFFIX,
                                            "quarantine", quarantine), "comment": None})
    return records


def _table_record(pipeline: Any, name: str, kind: str, location: Any) -> dict[str, Any]:
    info = table_info(location)
    return {"dataset": name, "kind": kind,
            "location": str(_relative_location(location, pipeline.spec.root_location)),
            "version": None if info is None else info.version,
            "files": None if info is None else info.num_files,
            "bytes": None if info is None else info.size_bytes,
            "clustering": None if info is None or kind == "quarantine"
            else clustering_state(location),
            "rows": None if info is None else info.row_count, "created": info is not None}


def print_tables(console: Console, pipeline: Any, output: OutputFormat = OutputFormat.TABLE
                 ) -> None:
    def rows(record: dict[str, Any]) -> str:
        if not record["created"]:
            return "-" if record["location"] is None else "not created yet"
        return "?" if record["rows"] is None else f"{record['rows']:,}"

    def size(record: dict[str, Any]) -> str:
        return "-" if record["bytes"] is None else _size(record["bytes"])

    print_records(console, output, table_records(pipeline),
                  ["dataset", "kind", "location", "version", "files", "bytes", "clustering",
                   "rows"],  # the comment is in JSON only: a table's last column stays the rows
                  cells={"rows": rows, "bytes": size}, right=("version", "files", "bytes", "rows"),
                  headers={"bytes": "size"}, whole=("location",))


def _size(size_bytes: int) -> str:
    size = float(size_bytes)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def print_orphans(console: Console, pipeline: Any, output: OutputFormat) -> None:
    orphans = orphan_tables(pipeline.spec.storage, pipeline.graph, pipeline.catalog)
    root = pipeline.spec.root_location
    records = [{"table": o.dataset, "location": str(_relative_location(o.location, root)),
                "quarantine": None if o.quarantine is None
                else str(_relative_location(o.quarantine, root))} for o in orphans]
    print_records(console, output, records, ["table", "location", "quarantine"],
                  empty="Every table of this pipeline has a definition.")


def print_orphans_warning(console: Console, pipeline: Any) -> None:
    """Before an update: the tables whose definitions were removed (they are kept)."""
    orphans = orphan_tables(pipeline.spec.storage, pipeline.graph, pipeline.catalog)
    if orphans:
        names = ", ".join(o.dataset for o in orphans)
        console.print(f"[yellow]Warning: no definition in the sources for table(s) {names}: "
                      "kept as they are, not updated. `lakesmith drop NAME` removes one."
                      "[/yellow]", highlight=False)


def run_statements(console: Console, err_console: Console, spark: Any, text: str, spec: Any, *,
                   max_rows: int, vertical: bool, output: OutputFormat) -> None:
    """Run each statement of `text` in turn and print its result; a failing statement stops the
    rest and is named by its line."""
    from lakesmith.authoring.sql.lexer import LexError
    from lakesmith.authoring.sql.splitter import line_at, split_statements

    try:
        statements = split_statements(text)
    except LexError as e:
        raise UsageError(f"line {line_at(text, e.offset)}: {e.message}") from e
    if not statements:
        raise UsageError("No SQL statement given.")
    orphans = {o.name: o for o in orphans_since_last_update(
        spec.storage, NameResolver(spec.catalog, spec.schema),
        TableCatalog(spec.warehouse, spark))}
    results = []
    for statement in statements:
        where = f"line {statement.line}: " if len(statements) > 1 else ""
        _warn_orphan_reads(err_console, statement.text, orphans, spec, where)
        try:
            df = spark.sql(statement.text)  # a DeltaSession: Delta statements, Databricks SQL
            result = df.limit(max_rows + 1).toArrow() if df.columns else None
        except Exception as e:  # the engine's error for the user's statement
            raise LakesmithError(f"{where}query failed: {describe(e)}") from e
        if output == OutputFormat.TABLE:
            if result is not None:
                _print_result(console, result, max_rows, vertical)
            continue
        rows = [] if result is None else result.to_pylist()[:max_rows]
        if output == OutputFormat.CSV:
            if result is not None:
                write_csv(console, result.column_names, rows)
            continue
        results.append({"line": statement.line, "sql": statement.text, "rows": rows})
    if output == OutputFormat.JSON:
        write_json(console, results[0]["rows"] if len(results) == 1 else results)


def _warn_orphan_reads(err_console: Console, sql: str, orphans: dict[Any, Any], spec: Any,
                       where: str) -> None:
    if not orphans:
        return
    from lakesmith.engine.sql_refs import find_table_refs

    names = NameResolver(spec.catalog, spec.schema)
    try:
        refs = find_table_refs(sql)
    except LakesmithError:
        return  # the engine reports what is wrong with the statement
    for ref in refs:
        name = getattr(ref, "name", None)
        if isinstance(name, str) and names.qualify(name) in orphans:
            err_console.print(f"[yellow]Warning: {where}table '{name}' is no longer defined in "
                              "the pipeline's sources; it holds what an earlier update wrote."
                              "[/yellow]", highlight=False)


def _print_result(console: Console, result: Any, max_rows: int, vertical: bool) -> None:
    rows = result.to_pylist()
    shown = rows[:max_rows]
    if vertical:
        print_vertical(console, result.column_names, [list(r.values()) for r in shown])
    else:
        table = Table(show_edge=False, pad_edge=False)
        for name in result.column_names:
            table.add_column(name, overflow="fold")
        for row in shown:
            table.add_row(*("NULL" if v is None else str(v) for v in row.values()))
        console.print(table)
    more = " (more rows not shown)" if len(rows) > max_rows else ""
    console.print(f"[dim]{len(shown)} row(s){more}[/dim]")
