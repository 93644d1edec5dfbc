"""Delta table metadata through delta-rs: no engine round trip and no table data in Python.

Row counts come from the add actions' statistics, versions and commit metrics from the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError


def is_delta_table(path: Path) -> bool:
    return (path / "_delta_log").is_dir() and any((path / "_delta_log").glob("*.json"))


def open_table(path: Path) -> DeltaTable | None:
    if not is_delta_table(path):
        return None
    try:
        return DeltaTable(str(path))
    except TableNotFoundError:
        return None


@dataclass(frozen=True)
class TableInfo:
    version: int
    row_count: int | None  # None when some file has no statistics
    num_files: int
    size_bytes: int
    partition_columns: tuple[str, ...]
    description: str | None
    properties: Mapping[str, str]


def table_info(path: Path) -> TableInfo | None:
    table = open_table(path)
    if table is None:
        return None
    actions = pa.table(table.get_add_actions(flatten=True))
    row_count: int | None = None
    if "num_records" in actions.column_names:
        counts = actions.column("num_records").to_pylist()
        row_count = None if any(c is None for c in counts) else int(sum(counts))
    elif actions.num_rows == 0:
        row_count = 0
    size = int(sum(actions.column("size_bytes").to_pylist())) if actions.num_rows else 0
    metadata = table.metadata()
    return TableInfo(
        version=table.version(),
        row_count=row_count,
        num_files=actions.num_rows,
        size_bytes=size,
        partition_columns=tuple(metadata.partition_columns),
        description=metadata.description,
        properties=dict(metadata.configuration),
    )


def last_commit(path: Path) -> dict[str, Any]:
    """The newest commit's info (operation, operationMetrics, userMetadata, version)."""
    table = DeltaTable(str(path))
    history = table.history(1)
    return history[0] if history else {}


def output_rows(commit: Mapping[str, Any]) -> int | None:
    metrics = commit.get("operationMetrics") or {}
    value = metrics.get("numOutputRows")
    return int(value) if value is not None else None


def apply_metadata(path: Path, *, description: str | None, properties: Mapping[str, str]) -> None:
    """Set the table comment and properties the definition asks for, only when they differ, so an
    unchanged definition adds no commit."""
    table = DeltaTable(str(path))
    metadata = table.metadata()
    wanted = {k: str(v) for k, v in properties.items()}
    changed = {k: v for k, v in wanted.items() if metadata.configuration.get(k) != v}
    if changed:
        table.alter.set_table_properties(changed, raise_if_not_exists=False)
    if description is not None and metadata.description != description:
        table.alter.set_table_description(description)
