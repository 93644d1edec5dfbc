"""Tables left behind: datasets an earlier update defined and wrote, whose definition is gone from
the sources. Their Delta tables (and checkpoints) stay where they were, so nothing is lost by
editing a file; `lakesmith tables --orphans` lists them and `lakesmith drop NAME` removes one.

Which tables the pipeline made is read from its event log (`dataset_definition` events), never
guessed from the warehouse folder, which other pipelines may share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakesmith.errors import UsageError
from lakesmith.files import store_for
from lakesmith.graph.graph import DataflowGraph
from lakesmith.graph.identifiers import NameResolver, TableName
from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import read_events
from lakesmith.runtime.flows.quality import QUARANTINE_SUFFIX, quarantine_table
from lakesmith.runtime.storage import PipelineStorage
from lakesmith.tables.catalog import TableCatalog
from lakesmith.tables.delta import DELTA_LOG

DEFINITION = "dataset_definition"  # the events that say which tables an update defined


@dataclass(frozen=True)
class OrphanTable:
    name: TableName
    dataset: str  # as it was defined
    location: Location
    quarantine: Location | None  # its quarantine table, when it has one

    def folders(self, storage: PipelineStorage) -> list[Location]:
        """What `drop` deletes: the table, its quarantine, its flows' checkpoints and state."""
        return [self.location, *([self.quarantine] if self.quarantine else []),
                storage.table_checkpoints(self.name)]


def defined_tables(events: list[dict[str, Any]], names: NameResolver,
                   update_id: str | None = None) -> dict[TableName, str]:
    """The tables the pipeline's updates defined (only `update_id`'s when given), with their
    dataset names."""
    defined: dict[TableName, str] = {}
    for event in events:
        if event["event_type"] != DEFINITION or (
                update_id is not None and event["origin"]["update_id"] != update_id):
            continue
        definition = event["details_json"].get("dataset_definition", {})
        table, dataset = event["origin"].get("table_name"), event["origin"].get("dataset_name")
        if definition.get("dataset_type") == "TABLE" and table and dataset:
            defined[names.qualify(table)] = dataset
    return defined


def orphan_tables(storage: Location, graph: DataflowGraph,
                  catalog: TableCatalog) -> list[OrphanTable]:
    """Tables the event log (at the pipeline's `storage`) says this pipeline defined, that
    exist, and that the current sources no longer define; in name order."""
    if not _unknown_warehouse_tables(graph, catalog):
        return []  # an orphan is a Delta table in the warehouse: none but the pipeline's own
    events = read_events(storage, DEFINITION)
    return _existing(defined_tables(events, graph.names), set(graph.datasets), catalog)


def _unknown_warehouse_tables(graph: DataflowGraph, catalog: TableCatalog) -> bool:
    """Whether the warehouse holds a Delta table that is none of the graph's datasets (nor a
    quarantine table of one). An orphan is such a table (`_existing`: its name is no dataset
    now, so it lives at its warehouse folder); when there is none, every update of a pipeline
    with a long event log need not read the log to find out (docs/benchmarks.md, cold start)."""
    known = {catalog.location(n).uri for name in graph.datasets
             for n in (name, quarantine_table(name))}
    store = store_for(catalog.warehouse)
    for location in _folders(store, catalog.warehouse, depth=3):
        if location.uri not in known and store.exists(location.join(DELTA_LOG)):
            return True
    return False


def _folders(store: Any, location: Location, depth: int) -> list[Location]:
    """The folders `depth` levels below `location` (catalog/schema/table in a warehouse)."""
    if depth == 0:
        return [location]
    return [found for entry in store.list(location) if entry.is_dir
            for found in _folders(store, location.join(entry.name), depth - 1)]


def orphans_since_last_update(storage: Location, names: NameResolver,
                              catalog: TableCatalog) -> list[OrphanTable]:
    """Without loading the sources (`lakesmith sql`): tables an earlier update defined that the
    newest update did not."""
    events = read_events(storage, DEFINITION)
    definitions = [e for e in events if e["event_type"] == DEFINITION]
    if not definitions:
        return []
    latest = defined_tables(events, names, definitions[-1]["origin"]["update_id"])
    return _existing(defined_tables(events, names), set(latest), catalog)


def _existing(defined: dict[TableName, str], current: set[TableName],
              catalog: TableCatalog) -> list[OrphanTable]:
    orphans = []
    for name, dataset in sorted(defined.items(), key=lambda item: str(item[0])):
        if name in current or not catalog.exists(name):
            continue
        quarantine = quarantine_table(name)
        orphans.append(OrphanTable(
            name, dataset, catalog.location(name),
            catalog.location(quarantine) if catalog.exists(quarantine) else None))
    return orphans


def find_orphan(orphans: list[OrphanTable], graph: DataflowGraph, text: str) -> OrphanTable:
    """The orphan `text` names; a clear refusal for a dataset still defined, or an unknown one."""
    name = graph.names.qualify(text)
    for orphan in orphans:
        if orphan.name == name:
            return orphan
    if name in graph.datasets:
        raise UsageError(f"'{text}' is still defined in the pipeline's sources; only tables "
                         "whose definition was removed can be dropped.",
                         hint="remove its definition first, or use `lakesmith run "
                         f"--full-refresh {text}` to recompute it.")
    if text.lower().endswith(QUARANTINE_SUFFIX):
        hint = "a quarantine table is dropped with its table."
    else:
        known = ", ".join(o.dataset for o in orphans) or "(none)"
        hint = f"tables without a definition: {known}"
    raise UsageError(f"'{text}' is not a table this pipeline left without a definition.",
                     hint=hint)


def drop_orphan(orphan: OrphanTable, storage: PipelineStorage) -> None:
    for folder in orphan.folders(storage):
        store_for(folder).delete_tree(folder)
