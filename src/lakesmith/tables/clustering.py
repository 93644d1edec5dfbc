"""Liquid clustering as lakesmith records it.

Delta records clustering columns in the `delta.clustering` domain metadata with the `clustering`
writer feature; delta-rs 1.6 cannot write that feature (and a table carrying it could no longer
be written by delta-rs or the engine), so lakesmith records them in the table property
`clusteringColumns` (a JSON list, the column Databricks' DESCRIBE DETAIL shows), and
`clusterByAuto = true` for CLUSTER BY AUTO. Any Delta reader sees an ordinary table.

A file is clustered when the newest OPTIMIZE that clustered by the current columns wrote it (its
commit carries `clusteredBy` in commitInfo); files appended since are not. OPTIMIZE
re-clusters when some file is not clustered.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from deltalake import DeltaTable

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location

COLUMNS_PROPERTY = "clusteringColumns"
AUTO_PROPERTY = "clusterByAuto"
CLUSTERED_BY_COMMIT_KEY = "clusteredBy"
HISTORY_LOOKBACK = 1000


def columns(configuration: Mapping[str, str | None]) -> tuple[str, ...]:
    """The table's clustering columns (empty when not clustered)."""
    text = configuration.get(COLUMNS_PROPERTY)
    if not text:
        return ()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise LakesmithError(
            f"The table property {COLUMNS_PROPERTY} = {text!r} is not a JSON list of column "
            "names.", hint="set it with ALTER TABLE ... CLUSTER BY (...)") from None
    return tuple(str(c) for c in value)


def is_auto(configuration: Mapping[str, str | None]) -> bool:
    return (configuration.get(AUTO_PROPERTY) or "").lower() == "true"


def properties(cluster_by: Sequence[str] | None, *, auto: bool = False) -> dict[str, str]:
    """The table properties recording `CLUSTER BY (cluster_by)`, `CLUSTER BY AUTO` or NONE."""
    return {COLUMNS_PROPERTY: json.dumps(list(cluster_by or [])),
            AUTO_PROPERTY: "true" if auto else "false"}


def check_columns(table: DeltaTable, name: str, cluster_by: Sequence[str]) -> None:
    """Clustering columns must exist, be distinct, not be partition columns, and have file
    statistics (Delta collects them for the first `delta.dataSkippingNumIndexedCols` columns)."""
    fields = [field.name for field in table.schema().fields]
    missing = [c for c in cluster_by if c not in fields]
    if missing:
        raise LakesmithError(
            f"[DELTA_COLUMN_NOT_FOUND_IN_SCHEMA] CLUSTER BY of {name}: no column named "
            f"{', '.join(missing)} (columns: {', '.join(fields)}).")
    if len(set(cluster_by)) != len(cluster_by):
        raise LakesmithError(f"CLUSTER BY of {name}: a column is listed twice.")
    if len(cluster_by) > 4:
        raise LakesmithError(
            f"[DELTA_CLUSTER_BY_INVALID_NUM_COLUMNS] CLUSTER BY of {name}: at most 4 clustering "
            f"columns, got {len(cluster_by)}.")
    partitions = set(table.metadata().partition_columns)
    if partitions:
        raise LakesmithError(
            f"[DELTA_CLUSTER_BY_WITH_PARTITIONED_BY] CLUSTER BY of {name}: a partitioned table "
            f"(by {', '.join(sorted(partitions))}) cannot be clustered.")
    indexed = indexed_columns(table, fields)
    unindexed = [c for c in cluster_by if c not in indexed]
    if unindexed:
        raise LakesmithError(
            f"[DELTA_CLUSTERING_COLUMN_MISSING_STATS] CLUSTER BY of {name}: no file statistics "
            f"are collected for {', '.join(unindexed)} (only the first "
            f"{len(indexed)} columns are indexed).",
            hint="raise delta.dataSkippingNumIndexedCols, or list the column in "
            "delta.dataSkippingStatsColumns.")


def indexed_columns(table: DeltaTable, fields: Sequence[str]) -> set[str]:
    configuration = table.metadata().configuration
    listed = configuration.get("delta.dataSkippingStatsColumns")
    if listed:
        return {c.strip().strip("`") for c in listed.split(",")}
    count = int(configuration.get("delta.dataSkippingNumIndexedCols") or 32)
    return set(fields if count < 0 else fields[:count])


def unclustered_files(location: Location, table: DeltaTable,
                      cluster_by: Sequence[str]) -> list[str]:
    """The table's files no clustering by `cluster_by` wrote: neither a whole-table OPTIMIZE
    (delta-rs Z-order) nor an incremental clustering since (`incremental_clustering.py`)."""
    from lakesmith.tables.delta_log import commit_location

    clustered: set[str] = set()
    # Clusterings older than this many commits are not looked at: their files count as not
    # clustered, so the table is due again.
    for commit in table.history(HISTORY_LOOKBACK):
        if commit.get(CLUSTERED_BY_COMMIT_KEY) != json.dumps(list(cluster_by)):
            continue
        clustered |= _added_paths(commit_location(location, int(commit["version"])))
        if commit.get("operation") == "OPTIMIZE":
            break  # a whole-table clustering: nothing older is still there
    current = _current_paths(table)
    return sorted(current - clustered)


def _added_paths(commit: Location) -> set[str]:
    from lakesmith.files import store_for

    data = store_for(commit).read(commit)
    if data is None:  # the log was cleaned up past it: treat every file as not clustered
        return set()
    paths = set()
    for line in data.decode().splitlines():
        action: dict[str, Any] = json.loads(line) if line.strip() else {}
        if "add" in action:
            paths.add(action["add"]["path"])
    return paths


def _current_paths(table: DeltaTable) -> set[str]:
    import pyarrow as pa

    return set(pa.table(table.get_add_actions(flatten=True)).column("path").to_pylist())


def clustering_state(location: Location) -> str:
    """For `lakesmith tables`: the clustering columns and how many files are not clustered."""
    from lakesmith.tables.delta import open_table

    table = open_table(location)
    if table is None:
        return "-"
    configuration = table.metadata().configuration
    cluster_by = columns(configuration)
    if not cluster_by:
        return "AUTO (no columns chosen yet)" if is_auto(configuration) else "-"
    pending = unclustered_files(location, table, cluster_by)
    state = "clustered" if not pending else f"{len(pending)} file(s) not clustered"
    return f"{', '.join(cluster_by)}: {state}"
