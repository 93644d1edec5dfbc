"""Predictive optimization of a pipeline's tables, after each successful update (under the
pipeline's lock, so it never races the pipeline's own writes) and on demand (`lakesmith
maintain`). What ran and why goes to the event log as `maintenance` events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from lakesmith.errors import LakesmithError
from lakesmith.graph.graph import DataflowGraph
from lakesmith.graph.identifiers import TableName
from lakesmith.runtime.checkpoint.retention import oldest_versions
from lakesmith.runtime.storage import PipelineStorage
from lakesmith.tables import predictive
from lakesmith.tables.catalog import TableCatalog
from lakesmith.tables.delta import DeltaLogs, open_table

DECIDING_THREADS = 4


@dataclass(frozen=True)
class TableMaintenance:
    table: TableName
    dataset: str
    outcomes: tuple[predictive.MaintenanceOutcome, ...]


def maintain_tables(graph: DataflowGraph, catalog: TableCatalog, storage: PipelineStorage,
                    configuration: Mapping[str, str],
                    tables: Sequence[TableName] | None = None,
                    spark: Any = None, logs: DeltaLogs | None = None) -> list[TableMaintenance]:
    """Decide and run each table's due maintenance (every stored dataset, or `tables`). `logs`
    are the table logs the update that just ran has loaded (read again only from where it
    left them)."""
    stored = graph.stored_datasets()
    unknown = [str(n) for n in tables or () if n not in stored]
    if unknown:
        raise LakesmithError(f"{', '.join(unknown)}: not a table of this pipeline (its tables: "
                             f"{', '.join(graph.dataset(n).name for n in stored)}).")
    needed = oldest_versions(storage.checkpoints)

    def decide(name: TableName) -> tuple[TableName, int | None, list[predictive.MaintenanceAction]]:
        location = catalog.location(name)
        table = logs(location).table() if logs is not None else open_table(location)
        if table is None:
            return name, None, []
        keep_from = needed.get(str(table.metadata().id))
        return name, keep_from, predictive.decide(location, graph.dataset(name).name,
                                                  configuration, keep_from, table=table)

    # Deciding reads metadata only (delta-rs lists each table's folder for VACUUM, without
    # Python's lock): the tables are looked at side by side; what is due runs one table at a time.
    with ThreadPoolExecutor(max_workers=DECIDING_THREADS,
                            thread_name_prefix="maintenance") as deciding:
        decisions = list(deciding.map(decide, tables if tables is not None else stored))
    done = []
    for name, keep_from, actions in decisions:
        if actions:
            display = graph.dataset(name).name
            outcomes = predictive.run(catalog.location(name), display, actions, keep_from, spark)
            done.append(TableMaintenance(name, display, tuple(outcomes)))
    return done
