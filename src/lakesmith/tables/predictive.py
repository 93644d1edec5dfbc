"""Predictive optimization: after an update, decide per table whether compaction, clustering or
VACUUM is due, from the table's metadata alone, run what is, and say why.

- **Compaction** when at least `spark.databricks.delta.autoCompact.minNumFiles` (50, Databricks'
  default) files are smaller than a quarter of the target file size (`delta.targetFileSize`,
  128 MiB by default): many small appends, not a few large ones.
- **Clustering** (instead of compaction) when the table is clustered (`CLUSTER BY`, or
  `pipelines.autoOptimize.zOrderCols`) and as many files are not clustered yet.
- **VACUUM** when files removed longer ago than `delta.deletedFileRetentionDuration` are still
  on storage; files of every version a stream checkpoint of the project still reads are kept.

Off for a table with `pipelines.autoOptimize.managed = false` (a table property, or the pipeline
configuration for every table), as on Databricks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable

from lakesmith.locations import Location
from lakesmith.tables import clustering, operations
from lakesmith.tables.delta import open_table

MANAGED_KEY = "pipelines.autoOptimize.managed"
ZORDER_COLS_KEY = "pipelines.autoOptimize.zOrderCols"
MIN_FILES_KEY = "spark.databricks.delta.autoCompact.minNumFiles"
DEFAULT_MIN_FILES = 50
DEFAULT_TARGET_FILE_SIZE = 128 * 1024 * 1024


@dataclass(frozen=True)
class MaintenanceAction:
    """One operation that is due, and why."""

    operation: str  # OPTIMIZE (compaction), CLUSTER (OPTIMIZE by the clustering columns), VACUUM
    reason: str
    columns: tuple[str, ...] = ()


@dataclass
class MaintenanceOutcome:
    action: MaintenanceAction
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def is_managed(properties: Mapping[str, str | None], configuration: Mapping[str, str]) -> bool:
    value = properties.get(MANAGED_KEY) or configuration.get(MANAGED_KEY) or "true"
    return value.strip().lower() != "false"


def decide(location: Location, name: str, configuration: Mapping[str, str],
           keep_from_version: int | None = None,
           table: DeltaTable | None = None) -> list[MaintenanceAction]:
    """What maintenance the table needs now (metadata only); `table` is the table at `location`
    when the caller has it loaded already (its log is then not read again)."""
    table = table if table is not None else open_table(location)
    if table is None:
        return []
    properties = dict(table.metadata().configuration)
    if not is_managed(properties, configuration):
        return []
    actions: list[MaintenanceAction] = []
    min_files = int(configuration.get(MIN_FILES_KEY) or DEFAULT_MIN_FILES)
    files = pa.table(table.get_add_actions(flatten=True))
    sizes = [int(s) for s in files.column("size_bytes").to_pylist()] if files.num_rows else []
    target = int(properties.get("delta.targetFileSize") or DEFAULT_TARGET_FILE_SIZE)
    small = sum(1 for s in sizes if s < target // 4)
    columns = clustering.columns(properties) or _zorder_columns(properties)
    if columns:
        pending = clustering.unclustered_files(location, table, columns)
        if len(pending) >= min_files:
            actions.append(MaintenanceAction(
                "CLUSTER", f"{len(pending)} of {len(sizes)} files are not clustered by "
                f"{', '.join(columns)} (threshold {min_files})", columns))
    elif small >= min_files:
        actions.append(MaintenanceAction(
            "OPTIMIZE", f"{small} of {len(sizes)} files are smaller than "
            f"{target // 4 // (1024 * 1024)} MiB (threshold {min_files})"))
    expired = operations.vacuum(location, name, dry_run=True,
                                keep_versions=_keep(table.version(), keep_from_version),
                                table=table)
    if expired:
        retention = operations.deleted_file_retention(properties)
        actions.append(MaintenanceAction(
            "VACUUM", f"{len(expired)} removed file(s) are older than the retention "
            f"({retention.total_seconds() / 3600:g} hours)"))
    return actions


def run(location: Location, name: str, actions: Sequence[MaintenanceAction],
        keep_from_version: int | None = None, spark: Any = None) -> list[MaintenanceOutcome]:
    """Run the due operations in order (clustering incrementally in the engine `spark` when
    given); a failure is reported in its outcome, never raised (maintenance must not fail the
    update that triggered it)."""
    outcomes = []
    for action in actions:
        outcome = MaintenanceOutcome(action)
        try:
            if action.operation == "VACUUM":
                table = open_table(location)
                assert table is not None
                deleted = operations.vacuum(location, name,
                                            keep_versions=_keep(table.version(),
                                                                keep_from_version))
                outcome.metrics = {"numDeletedFiles": len(deleted)}
            else:
                zorder = action.columns if action.operation == "CLUSTER" and not \
                    _is_clustered(location) else ()
                result = operations.optimize(location, name, zorder_by=zorder, spark=spark)
                metrics = result.row["metrics"]
                outcome.metrics = {"numFilesAdded": metrics["numFilesAdded"],
                                   "numFilesRemoved": metrics["numFilesRemoved"],
                                   "outcome": result.reason}
        except Exception as e:  # recorded in the event log as this operation's error
            outcome.error = str(e)
        outcomes.append(outcome)
    return outcomes


def _is_clustered(location: Location) -> bool:
    table = open_table(location)
    return table is not None and bool(clustering.columns(table.metadata().configuration))


def _zorder_columns(properties: Mapping[str, str]) -> tuple[str, ...]:
    text = properties.get(ZORDER_COLS_KEY) or ""
    return tuple(c.strip().strip("`") for c in text.split(",") if c.strip())


def _keep(latest: int, keep_from_version: int | None) -> list[int]:
    if keep_from_version is None:
        return []
    return list(range(max(keep_from_version, 0), latest + 1))
