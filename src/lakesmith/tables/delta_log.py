"""Reading a Delta table's log: the files each commit added or removed, and who made it.

Spark's Delta streaming source reads exactly this; lakesmith reads it in the control plane (it is
table metadata, not table data) so that the engine is only asked to read the files of a batch.
Versions and snapshots come from delta-rs; a single commit's actions from its JSON file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import pyarrow as pa

from lakesmith.errors import LakesmithError
from lakesmith.files import store_for
from lakesmith.locations import Location
from lakesmith.tables.delta import DELTA_LOG, latest_version, open_table


@dataclass(frozen=True)
class DataFile:
    """A Parquet file of a Delta table, as an add or remove action names it."""

    path: str  # relative to the table root, decoded
    partition_values: tuple[tuple[str, str | None], ...] = ()
    size: int = 0
    num_records: int | None = None
    has_deletion_vector: bool = False
    modification_time: int = 0  # milliseconds since the epoch

    def location(self, table_root: Location) -> Location:
        return table_root.join(self.path)


@dataclass(frozen=True)
class Commit:
    version: int
    adds: tuple[DataFile, ...] = ()  # data-changing adds, in log order
    removes: tuple[DataFile, ...] = ()  # data-changing removes
    operation: str | None = None
    user_metadata: str | None = None
    metadata_changed: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def changes_existing_data(self) -> bool:
        """An update, delete, overwrite or merge: the commit removes rows, not only appends."""
        return bool(self.removes)


class DeltaLogError(LakesmithError):
    pass


def commit_location(table_root: Location, version: int) -> Location:
    return table_root.join(DELTA_LOG, f"{version:020d}.json")


def read_commit(table_root: Location, version: int) -> Commit:
    location = commit_location(table_root, version)
    data = store_for(location).read(location)
    if data is None:
        raise DeltaLogError(
            f"Version {version} of the Delta table at {table_root} is no longer in its log (the "
            "log was cleaned up); the stream cannot continue from it.",
            hint="run a full refresh of the streaming table (--full-refresh) to restart from the "
            "table's current snapshot.")
    adds: list[DataFile] = []
    removes: list[DataFile] = []
    operation = user_metadata = None
    metadata_changed = False
    info: dict[str, Any] = {}
    for number, line in enumerate(data.decode().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            action = json.loads(line)
        except json.JSONDecodeError as e:
            raise DeltaLogError(
                f"The Delta log file {location} is corrupt (line {number}: {e.msg}).",
                hint="restore the file from a backup, or recreate the table.") from e
        if "add" in action and action["add"].get("dataChange", True):
            adds.append(_data_file(action["add"]))
        elif "remove" in action and action["remove"].get("dataChange", True):
            removes.append(_data_file(action["remove"]))
        elif "commitInfo" in action:
            info = action["commitInfo"]
            operation = info.get("operation")
            user_metadata = info.get("userMetadata")
        elif "metaData" in action:
            metadata_changed = True
    return Commit(version, tuple(adds), tuple(removes), operation, user_metadata,
                  metadata_changed, info)


def removed_paths(table_root: Location, version: int) -> list[str]:
    """The paths (relative to the table root, decoded) of every file the commit of `version`
    removes, whatever its `dataChange`."""
    location = commit_location(table_root, version)
    data = store_for(location).read(location)
    if data is None:
        raise DeltaLogError(f"Version {version} of the Delta table at {table_root} is not in "
                            "its log.")
    return [unquote(action["remove"]["path"]) for line in data.decode().splitlines()
            if line.strip() and "remove" in (action := json.loads(line))]


def commits_after(table_root: Location, version: int | None,
                  latest: int | None = None) -> list[Commit]:
    """The commits newer than `version` (all of them when None) up to `latest` (default: the
    newest), oldest first."""
    if latest is None:
        latest = latest_version(table_root)
    if latest is None:
        return []
    first = 0 if version is None else version + 1
    return [read_commit(table_root, v) for v in range(first, latest + 1)]


def snapshot_files(table_root: Location, version: int) -> list[DataFile]:
    """Every file of the table at `version`, in the order Spark's Delta source reads a snapshot:
    by modification time, then path (so a snapshot split into batches splits the same way)."""
    table = open_table(table_root, version)
    if table is None:
        raise DeltaLogError(f"There is no Delta table at {table_root}.")
    actions = pa.table(table.get_add_actions(flatten=True)).to_pylist()
    partition_columns = table.metadata().partition_columns
    files = []
    for action in actions:
        partition_values = tuple(
            (column, _partition_value(action.get(f"partition.{column}")))
            for column in partition_columns
        )
        files.append(DataFile(
            path=unquote(action["path"]), partition_values=partition_values,
            size=int(action.get("size_bytes") or 0),
            num_records=_int_or_none(action.get("num_records")),
            has_deletion_vector=bool(action.get("deletionVector.storageType")),
            modification_time=_millis(action.get("modification_time")),
        ))
    files.sort(key=lambda f: (f.modification_time, f.path))
    return files


def _data_file(action: dict[str, Any]) -> DataFile:
    stats = action.get("stats")
    num_records = None
    if stats:
        try:
            num_records = json.loads(stats).get("numRecords")
        except json.JSONDecodeError:
            num_records = None  # statistics are optional: the count is then unknown
    values = action.get("partitionValues") or {}
    return DataFile(
        path=unquote(action["path"]),
        partition_values=tuple(sorted(values.items())),
        size=int(action.get("size") or 0),
        num_records=_int_or_none(num_records),
        has_deletion_vector=bool(action.get("deletionVector")),
        modification_time=int(action.get("modificationTime") or 0),
    )


def _millis(value: Any) -> int:
    if value is None:
        return 0
    if hasattr(value, "timestamp"):
        return int(value.timestamp() * 1000)
    return int(value)


def _partition_value(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
