"""Delta utility operations the engine lacks, done with delta-rs: history, detail, restore,
optimize (compaction and Z-order), vacuum, table properties, symlink manifests.

Each returns small metadata results (rows as dicts, in the column order and with the column names
Databricks uses), so the SQL statements (`tables/commands/`) and the `DeltaTable` API
(`lakesmith.deltaspark`) give the same answers. Table data never passes through Python: delta-rs
rewrites files itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.tables import clustering, incremental_clustering
from lakesmith.tables.delta import open_table

# Databricks' DESCRIBE HISTORY columns, in order, as engine DDL.
HISTORY_SCHEMA = (
    "version BIGINT, timestamp TIMESTAMP, userId STRING, userName STRING, operation STRING, "
    "operationParameters MAP<STRING, STRING>, "
    "job STRUCT<jobId: STRING, jobName: STRING, jobRunId: STRING, runId: STRING, "
    "jobOwnerId: STRING, triggerType: STRING>, notebook STRUCT<notebookId: STRING>, "
    "clusterId STRING, readVersion BIGINT, isolationLevel STRING, isBlindAppend BOOLEAN, "
    "operationMetrics MAP<STRING, STRING>, userMetadata STRING, engineInfo STRING")

DETAIL_SCHEMA = (
    "format STRING, id STRING, name STRING, description STRING, location STRING, "
    "createdAt TIMESTAMP, lastModified TIMESTAMP, partitionColumns ARRAY<STRING>, "
    "clusteringColumns ARRAY<STRING>, numFiles BIGINT, sizeInBytes BIGINT, "
    "properties MAP<STRING, STRING>, minReaderVersion INT, minWriterVersion INT, "
    "tableFeatures ARRAY<STRING>")

RESTORE_SCHEMA = (
    "table_size_after_restore BIGINT, num_of_files_after_restore BIGINT, "
    "num_removed_files BIGINT, num_restored_files BIGINT, removed_files_size BIGINT, "
    "restored_files_size BIGINT")

_FILE_STATS = "min: BIGINT, max: BIGINT, avg: DOUBLE, totalFiles: BIGINT, totalSize: BIGINT"
OPTIMIZE_SCHEMA = (
    f"path STRING, metrics STRUCT<numFilesAdded: BIGINT, numFilesRemoved: BIGINT, "
    f"filesAdded: STRUCT<{_FILE_STATS}>, filesRemoved: STRUCT<{_FILE_STATS}>, "
    f"partitionsOptimized: BIGINT, zOrderStats: STRUCT<strategyName: STRING, "
    f"inputCubeFiles: STRUCT<num: BIGINT, size: BIGINT>>, numBatches: BIGINT, "
    f"totalConsideredFiles: BIGINT, totalFilesSkipped: BIGINT, "
    f"preserveInsertionOrder: BOOLEAN, clusteringColumns: ARRAY<STRING>>")

VACUUM_SCHEMA = "path STRING"

DEFAULT_DELETED_FILE_RETENTION = timedelta(days=7)
RETENTION_CHECK_CONF = "spark.databricks.delta.retentionDurationCheck.enabled"


class DeltaOperationError(LakesmithError):
    """A Delta utility statement cannot run as asked."""


def require_table(location: Location, name: str) -> DeltaTable:
    table = open_table(location)
    if table is None:
        raise DeltaOperationError(
            f"[DELTA_TABLE_NOT_FOUND] Table {name} is not a Delta table (no Delta log at "
            f"{location}).")
    return table


# -- history and detail -----------------------------------------------------------------------


def history(location: Location, name: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The table's commits, newest first, as DESCRIBE HISTORY shows them."""
    table = require_table(location, name)
    rows = []
    for commit in table.history(limit):
        rows.append({
            "version": int(commit["version"]),
            "timestamp": _timestamp(commit.get("timestamp")),
            "userId": commit.get("userId"),
            "userName": commit.get("userName"),
            "operation": _operation(commit),
            "operationParameters": _string_map(commit.get("operationParameters")),
            "job": None,
            "notebook": None,
            "clusterId": commit.get("clusterId"),
            "readVersion": commit.get("readVersion"),
            "isolationLevel": commit.get("isolationLevel"),
            "isBlindAppend": commit.get("isBlindAppend"),
            "operationMetrics": _string_map(commit.get("operationMetrics")),
            "userMetadata": commit.get("userMetadata"),
            "engineInfo": commit.get("engineInfo"),
        })
    return rows


def _operation(commit: Mapping[str, Any]) -> Any:
    """The commit's operation as Databricks names it: a clustering the engine wrote (a delta-rs
    transaction, recorded as WRITE, which delta-rs does not let us rename) is an OPTIMIZE."""
    if commit.get("operation") == "WRITE" and commit.get(clustering.CLUSTERED_BY_COMMIT_KEY):
        return "OPTIMIZE"
    return commit.get("operation")


def detail(location: Location, name: str) -> dict[str, Any]:
    """One row describing the table, as DESCRIBE DETAIL shows it."""
    table = require_table(location, name)
    metadata = table.metadata()
    protocol = table.protocol()
    actions = pa.table(table.get_add_actions(flatten=True))
    size = int(sum(actions.column("size_bytes").to_pylist())) if actions.num_rows else 0
    newest = table.history(1)
    features = sorted(set(protocol.reader_features or []) | set(protocol.writer_features or []))
    return {
        "format": "delta",
        "id": str(metadata.id),
        "name": name if not name.startswith("delta.") else None,
        "description": metadata.description,
        "location": location.uri,
        "createdAt": _timestamp(metadata.created_time),
        "lastModified": _timestamp(newest[0].get("timestamp")) if newest else None,
        "partitionColumns": list(metadata.partition_columns),
        "clusteringColumns": list(clustering.columns(metadata.configuration)),
        "numFiles": actions.num_rows,
        "sizeInBytes": size,
        "properties": dict(metadata.configuration),
        "minReaderVersion": protocol.min_reader_version,
        "minWriterVersion": protocol.min_writer_version,
        "tableFeatures": features or _legacy_features(protocol.min_writer_version),
    }


def _legacy_features(writer_version: int) -> list[str]:
    """The features a legacy protocol version implies, as Databricks lists them."""
    implied = [(2, "appendOnly"), (2, "invariants"), (3, "checkConstraints"),
               (4, "changeDataFeed"), (4, "generatedColumns"), (5, "columnMapping"),
               (6, "identityColumns")]
    return sorted(name for version, name in implied if writer_version >= version)


# -- restore ----------------------------------------------------------------------------------


def restore(location: Location, name: str, *, version: int | None = None,
            timestamp: datetime | str | None = None) -> dict[str, Any]:
    """RESTORE TABLE ... TO VERSION/TIMESTAMP AS OF: a new commit making the table equal to an
    older version (the files it needs must not have been vacuumed)."""
    table = require_table(location, name)
    before = _files(table)
    target: int | datetime | str
    if version is not None:
        if version < 0 or version > table.version():
            raise DeltaOperationError(
                f"[DELTA_CANNOT_RESTORE_TABLE_VERSION] Cannot restore table {name} to version "
                f"{version}. Available versions: [0, {table.version()}].")
        target = version
    else:
        assert timestamp is not None
        target = _utc(timestamp)
    try:
        table.restore(target)
    except Exception as e:  # delta-rs: missing files, timestamp outside the log
        raise DeltaOperationError(
            f"Cannot restore table {name} to {_target_text(version, timestamp)}: {e}",
            hint="the files of that version may have been removed by VACUUM; pick a newer "
            "version (DESCRIBE HISTORY lists them).") from e
    table.update_incremental()
    after = _files(table)
    removed = {p: s for p, s in before.items() if p not in after}
    restored = {p: s for p, s in after.items() if p not in before}
    return {
        "table_size_after_restore": sum(after.values()),
        "num_of_files_after_restore": len(after),
        "num_removed_files": len(removed),
        "num_restored_files": len(restored),
        "removed_files_size": sum(removed.values()),
        "restored_files_size": sum(restored.values()),
    }


def _target_text(version: int | None, timestamp: datetime | str | None) -> str:
    return f"version {version}" if version is not None else f"timestamp {timestamp}"


def _files(table: DeltaTable) -> dict[str, int]:
    actions = pa.table(table.get_add_actions(flatten=True))
    return dict(zip(actions.column("path").to_pylist(),
                    (int(s) for s in actions.column("size_bytes").to_pylist()), strict=True))


# -- optimize ---------------------------------------------------------------------------------


PartitionFilter = tuple[str, str, Any]


@dataclass(frozen=True)
class OptimizeResult:
    """What an OPTIMIZE did: Databricks' result row, and why it clustered or skipped."""

    row: dict[str, Any]
    reason: str


def optimize(location: Location, name: str, *, where: Sequence[PartitionFilter] = (),
             zorder_by: Sequence[str] = (), target_size: int | None = None,
             spark: Any = None) -> OptimizeResult:
    """OPTIMIZE: bin-packing compaction of small files, or, on a clustered table or with ZORDER
    BY, a rewrite ordered by a Z-order curve over the columns (delta-rs). A clustered table that
    is clustered already has only its new files clustered, in the engine (`spark`), when it can
    (`incremental_clustering.py`). Its commit changes no data (`dataChange=false`), so streams
    reading the table skip it."""
    table = require_table(location, name)
    metadata = table.metadata()
    cluster_columns = clustering.columns(metadata.configuration)
    if zorder_by and cluster_columns:
        raise DeltaOperationError(
            f"[DELTA_CLUSTERING_WITH_ZORDER_BY] OPTIMIZE of {name}: ZORDER BY cannot be used on "
            f"a table with liquid clustering (clustered by {', '.join(cluster_columns)}).",
            hint="run OPTIMIZE without ZORDER BY: it clusters by the clustering columns.")
    _check_partition_filters(name, where, metadata.partition_columns)
    _check_columns(table, name, zorder_by, "ZORDER BY")
    if zorder_by and set(zorder_by) & set(metadata.partition_columns):
        raise DeltaOperationError(
            f"OPTIMIZE of {name}: ZORDER BY cannot use the partition column(s) "
            f"{', '.join(sorted(set(zorder_by) & set(metadata.partition_columns)))}.")
    filters = list(where) or None
    auto_reason = ""
    if clustering.is_auto(metadata.configuration) and not zorder_by:
        cluster_columns, auto_reason = _auto_columns(location, table, name, cluster_columns)
    curve = list(zorder_by) or list(cluster_columns)
    if cluster_columns:
        pending = clustering.unclustered_files(location, table, cluster_columns)
        if not pending:
            return OptimizeResult(_optimize_row(location, {}, cluster_columns),
                                  f"every file is already clustered by {cluster_columns}")
    total = len(_files(table))
    if cluster_columns and spark is not None and pending \
            and incremental_clustering.supported(location, table):
        # The engine clusters the first time too: faster than delta-rs' z_order of the whole
        # table (benchmarks/optimize.py), and the same code as later incremental clusterings.
        try:
            metrics = incremental_clustering.cluster(spark, location, table, pending,
                                                     cluster_columns, target_size)
        except Exception as e:
            raise _commit_error("OPTIMIZE", name, e) from e
        reason = f"clustered {len(pending)} file(s) not yet clustered"
        if len(pending) < total:
            reason += f", keeping {total - len(pending)} clustered file(s)"
        return OptimizeResult(_optimize_row(location, metrics, list(cluster_columns)),
                              f"{auto_reason}; {reason}" if auto_reason else reason)
    properties = CommitProperties(custom_metadata={
        clustering.CLUSTERED_BY_COMMIT_KEY: json.dumps(curve)}) if curve else None
    try:
        if curve:
            metrics = table.optimize.z_order(curve, partition_filters=filters,
                                             target_size=target_size,
                                             commit_properties=properties)
            reason = (f"clustered {len(pending)} file(s) not yet clustered"
                      if cluster_columns else f"Z-ordered by {curve}")
            if auto_reason:
                reason = f"{auto_reason}; {reason}"
        else:
            metrics = table.optimize.compact(partition_filters=filters, target_size=target_size)
            reason = f"{auto_reason}; compacted small files" if auto_reason else \
                "compacted small files"
    except Exception as e:
        raise _commit_error("OPTIMIZE", name, e) from e
    return OptimizeResult(_optimize_row(location, metrics, list(cluster_columns)), reason)


def _auto_columns(location: Location, table: DeltaTable, name: str,
                  current: Sequence[str]) -> tuple[tuple[str, ...], str]:
    """CLUSTER BY AUTO: the columns chosen from the recorded query filters, recorded on the
    table when they change."""
    from lakesmith.tables import query_filters

    fields = [field.name for field in table.schema().fields]
    candidates = [c for c in fields if c in clustering.indexed_columns(table, fields)]
    chosen, reason = query_filters.choose(location, candidates)
    if chosen and tuple(chosen) != tuple(current):
        set_properties(location, name, clustering.properties(chosen, auto=True))
        table.update_incremental()
    return (chosen or tuple(current)), reason


def _optimize_row(location: Location, metrics: Mapping[str, Any],
                  cluster_columns: Sequence[str]) -> dict[str, Any]:
    def stats(key: str) -> dict[str, Any]:
        value = metrics.get(key)
        parsed = json.loads(value) if isinstance(value, str) else (value or {})
        return {"min": parsed.get("min"), "max": parsed.get("max"), "avg": parsed.get("avg"),
                "totalFiles": parsed.get("totalFiles", 0), "totalSize": parsed.get("totalSize", 0)}

    strategy = metrics.get("plannerStrategy")
    return {"path": location.uri, "metrics": {
        "numFilesAdded": metrics.get("numFilesAdded", 0),
        "numFilesRemoved": metrics.get("numFilesRemoved", 0),
        "filesAdded": stats("filesAdded"),
        "filesRemoved": stats("filesRemoved"),
        "partitionsOptimized": metrics.get("partitionsOptimized", 0),
        "zOrderStats": {"strategyName": "all", "inputCubeFiles": {"num": 0, "size": 0}}
        if strategy == "zOrder" else None,
        "numBatches": metrics.get("numBatches", 0),
        "totalConsideredFiles": metrics.get("totalConsideredFiles", 0),
        "totalFilesSkipped": metrics.get("totalFilesSkipped", 0),
        "preserveInsertionOrder": metrics.get("preserveInsertionOrder", False),
        "clusteringColumns": list(cluster_columns) or None,
    }}


def _check_partition_filters(name: str, filters: Sequence[PartitionFilter],
                             partition_columns: Sequence[str]) -> None:
    wrong = sorted({column for column, _, _ in filters if column not in partition_columns})
    if wrong:
        raise DeltaOperationError(
            f"[DELTA_NON_PARTITION_COLUMN_REFERENCE] OPTIMIZE of {name}: the WHERE clause may "
            f"only use partition columns; {', '.join(wrong)} "
            f"{'is' if len(wrong) == 1 else 'are'} not (partition columns: "
            f"{', '.join(partition_columns) or 'none'}).")


def _check_columns(table: DeltaTable, name: str, columns: Sequence[str], clause: str) -> None:
    known = {field.name for field in table.schema().fields}
    missing = [c for c in columns if c not in known]
    if missing:
        raise DeltaOperationError(
            f"{clause} of {name}: no column named {', '.join(missing)} (columns: "
            f"{', '.join(sorted(known))}).")


# -- vacuum -----------------------------------------------------------------------------------


def vacuum(location: Location, name: str, *, retain_hours: float | None = None,
           dry_run: bool = False, check_retention: bool = True,
           keep_versions: Sequence[int] = (), table: DeltaTable | None = None) -> list[str]:
    """VACUUM: delete files no version inside the retention needs. Refuses a RETAIN shorter than
    the table's `delta.deletedFileRetentionDuration` (7 days by default) unless the retention
    check is off, as Databricks does: time travel and running readers need those files. Files
    of `keep_versions` (those a checkpoint of the project still reads) are kept whatever the
    retention. Returns the files deleted (or, dry run, that would be). `table` is the table at
    `location` when the caller has it loaded already."""
    table = table if table is not None else require_table(location, name)
    retention = deleted_file_retention(table.metadata().configuration)
    hours = retention.total_seconds() / 3600 if retain_hours is None else retain_hours
    if hours < 0:
        raise DeltaOperationError(f"VACUUM of {name}: the retention cannot be negative.")
    if check_retention and hours < retention.total_seconds() / 3600:
        raise DeltaOperationError(
            f"[DELTA_VACUUM_RETENTION_PERIOD_TOO_SHORT] VACUUM of {name}: RETAIN {hours:g} HOURS "
            f"is shorter than the table's delta.deletedFileRetentionDuration "
            f"({retention.total_seconds() / 3600:g} hours). Deleting those files breaks time "
            "travel to recent versions and readers still using them.",
            hint=f"keep the default retention, or set {RETENTION_CHECK_CONF} = false if you "
            "are sure no reader needs them.")
    try:
        return list(table.vacuum(retention_hours=int(hours), dry_run=dry_run,
                                 enforce_retention_duration=False,
                                 keep_versions=sorted(set(keep_versions)) or None))
    except Exception as e:
        raise _commit_error("VACUUM", name, e) from e


_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def deleted_file_retention(configuration: Mapping[str, str | None]) -> timedelta:
    """`delta.deletedFileRetentionDuration` ("interval 7 days"), 7 days when unset."""
    text = configuration.get("delta.deletedFileRetentionDuration")
    if not text:
        return DEFAULT_DELETED_FILE_RETENTION
    words = text.lower().replace("interval", "").split()
    try:
        amount = float(words[0])
        unit = words[1].rstrip("s") if len(words) > 1 else "day"
        return timedelta(seconds=amount * _UNITS[unit])
    except (IndexError, ValueError, KeyError):
        raise DeltaOperationError(
            f"delta.deletedFileRetentionDuration = {text!r} is not an interval such as "
            "'interval 7 days'.") from None


# -- properties and manifests -----------------------------------------------------------------


def set_properties(location: Location, name: str, properties: Mapping[str, str]) -> None:
    table = require_table(location, name)
    try:
        table.alter.set_table_properties(dict(properties), raise_if_not_exists=False)
    except Exception as e:
        raise _commit_error("SET TBLPROPERTIES", name, e) from e


def generate_symlink_manifest(location: Location, name: str) -> None:
    """`_symlink_format_manifest/manifest`: the absolute paths of the current files, for readers
    such as Presto and Athena (unpartitioned tables; one manifest per partition otherwise)."""
    from lakesmith.files import store_for

    table = require_table(location, name)
    partitions = table.metadata().partition_columns
    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    manifests: dict[str, list[str]] = {}
    for action in actions:
        folder = "/".join(f"{c}={action.get(f'partition.{c}')}" for c in partitions)
        manifests.setdefault(folder, []).append(location.join(action["path"]).uri)
    if not manifests:
        manifests[""] = []
    root = location.join("_symlink_format_manifest")
    store = store_for(root)
    for folder, paths in manifests.items():
        target = root.join(*(part for part in folder.split("/") if part), "manifest")
        store.write(target, ("\n".join(paths) + ("\n" if paths else "")).encode())


# -- shared -----------------------------------------------------------------------------------


def _commit_error(operation: str, name: str, error: Exception) -> DeltaOperationError:
    text = str(error)
    lowered = text.lower()
    if type(error).__name__ == "CommitFailedError" or any(
            word in lowered for word in ("version already exists", "conflict", "concurrent")):
        return DeltaOperationError(
            f"[DELTA_CONCURRENT_MODIFICATION] {operation} of {name} conflicted with a concurrent "
            f"commit to the table: {text.splitlines()[0]}",
            hint=f"run {operation} again; nothing was changed by the failed attempt.")
    return DeltaOperationError(f"{operation} of {name} failed: {text}")


def _timestamp(millis: Any) -> datetime | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(int(millis) / 1000, tz=timezone.utc)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise DeltaOperationError(
                f"{value!r} is not a timestamp such as '2026-01-31 12:00:00'.") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _string_map(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}
