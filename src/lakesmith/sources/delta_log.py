"""Reading a Delta table's log: the files each commit added or removed.

Spark's Delta streaming source reads exactly this; lakesmith reads it in the control plane (it is
table metadata, not table data) so that the engine is only asked to read the files of a batch.
The snapshot a stream starts from comes from delta-rs; later changes from the commit JSON files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pyarrow as pa
from deltalake import DeltaTable

from lakesmith.errors import LakesmithError


@dataclass(frozen=True)
class DataFile:
    """A Parquet file of a Delta table, as an add or remove action names it."""

    path: str  # relative to the table root, decoded
    partition_values: tuple[tuple[str, str | None], ...] = ()
    size: int = 0
    num_records: int | None = None
    has_deletion_vector: bool = False

    def absolute(self, table_root: Path) -> str:
        return str(table_root / self.path)


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


def latest_version(table_root: Path) -> int | None:
    """The newest version, from the log directory listing (cheap), or None if no table."""
    log = table_root / "_delta_log"
    if not log.is_dir():
        return None
    versions = [int(p.name[:20]) for p in log.glob("*.json") if p.name[:20].isdigit()]
    return max(versions) if versions else None


def read_commit(table_root: Path, version: int) -> Commit:
    path = table_root / "_delta_log" / f"{version:020d}.json"
    if not path.exists():
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
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        action = json.loads(line)
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


def snapshot_files(table_root: Path, version: int) -> list[DataFile]:
    """Every file of the table at `version`, in a deterministic order (by path)."""
    table = DeltaTable(str(table_root), version=version)
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
        ))
    files.sort(key=lambda f: f.path)
    return files


def table_id(table_root: Path) -> str:
    return DeltaTable(str(table_root)).metadata().id


def _data_file(action: dict[str, Any]) -> DataFile:
    stats = action.get("stats")
    num_records = None
    if stats:
        try:
            num_records = json.loads(stats).get("numRecords")
        except json.JSONDecodeError:
            num_records = None
    values = action.get("partitionValues") or {}
    return DataFile(
        path=unquote(action["path"]),
        partition_values=tuple(sorted(values.items())),
        size=int(action.get("size") or 0),
        num_records=_int_or_none(num_records),
        has_deletion_vector=bool(action.get("deletionVector")),
    )


def _partition_value(value: Any) -> str | None:
    return None if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def commits_after(table_root: Path, version: int | None) -> list[Commit]:
    """The commits newer than `version` (all of them when None), oldest first."""
    latest = latest_version(table_root)
    if latest is None:
        return []
    first = 0 if version is None else version + 1
    return [read_commit(table_root, v) for v in range(first, latest + 1)]
