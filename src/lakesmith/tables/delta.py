"""Delta table metadata through delta-rs: no engine round trip and no table data in Python.

Every function takes a `Location`, so local folders and object stores are read the same way, with
the location's storage options. Row counts come from the add actions' statistics, versions and
commit metrics from the log. `DeltaLogs` keeps each table's log loaded during an update and
advances it incrementally: re-reading a long log for every batch would dominate small batches.

An advance lists the store's log folder (a fraction of a millisecond locally, a request on an
object store, milliseconds under load), and most reads of an update ask about a table nothing can
have written since its last advance. So a log is not advanced while nothing can write its table:
- during a quiet period (`DeltaLogs.quiet()`: the update's planning, when no flow runs and the
  pipeline's lock keeps every other writer out), after its first read in that period;
- once it is settled (`DeltaLog.settle()`: every flow writing a dataset has finished this
  triggered update), after one last advance;
- for a local table, while the next version's commit file is absent (a file check, not a
  listing; a table deleted and made again is found by its loaded version's file and loaded
  afresh).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from lakesmith.locations import Location
from lakesmith.tables.logs_ahead import LoadedLog, take

DELTA_LOG = "_delta_log"


def open_table(location: Location, version: int | None = None) -> DeltaTable | None:
    """The table at `location` (at `version`), or None when there is no Delta table there."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return DeltaTable(location.delta_uri(), version=version,
                              storage_options=location.storage_options() or None)
    except TableNotFoundError:
        return None


def is_delta_table(location: Location) -> bool:
    if location.is_local and not (location.local_path / DELTA_LOG).is_dir():
        return False  # cheap answer for the common case
    return open_table(location) is not None


def latest_version(location: Location) -> int | None:
    table = open_table(location)
    return None if table is None else table.version()


def table_id(location: Location) -> str | None:
    table = open_table(location)
    return None if table is None else str(table.metadata().id)


def commit_file(location: Location, table: DeltaTable | None) -> tuple[int, int, int, int] | None:
    """A local table's newest commit as found on disk: its version and its file (inode,
    modification time, size); None when it cannot be told (an object store, no table, no such
    file)."""
    if table is None or not location.is_local:
        return None
    version = table.version()
    try:
        found = os.stat(location.local_path / DELTA_LOG / f"{version:020d}.json")
    except OSError:
        return None
    return version, found.st_ino, found.st_mtime_ns, found.st_size


class DeltaLog:
    """One table's log, loaded once, then advanced to the newest commit on each `version()`,
    unless nothing can have written the table since its last advance (the module's docstring)."""

    def __init__(self, location: Location,
                 quiet_period: Callable[[], object | None] = lambda: None,
                 loaded: LoadedLog | None = None) -> None:
        """`loaded`: the log as loaded ahead (`tables/logs_ahead.py`), checked like any log
        this holds at its first read."""
        self.location = location
        self._table: DeltaTable | None = loaded.table if loaded is not None else None
        self._lock = threading.Lock()
        self._quiet_period = quiet_period
        self._read_in: object | None = None  # the quiet period of the last advance, if any
        self._settling = False  # settled at the next advance
        self._settled = False
        # `commit_file`, at the last read
        self._commit_seen = loaded.commit if loaded is not None else None

    def table(self) -> DeltaTable | None:
        """The table at its newest version, or None when it does not exist (yet)."""
        with self._lock:
            quiet = self._quiet_period()
            if self._table is not None and (
                    self._settled or (quiet is not None and self._read_in is quiet)):
                return self._table  # nothing can have committed since the last advance
            if self._table is None:
                self._table = open_table(self.location)
            elif self._remade():  # (an advance would keep the old table's files)
                self._table = open_table(self.location)
            elif not self._no_commit_since():
                try:
                    self._table.update_incremental()
                except Exception:  # replaced or deleted since loaded: load it afresh
                    self._table = open_table(self.location)
            self._commit_seen = self._commit_file(self._table)
            self._read_in = quiet
            if self._settling and self._table is not None:
                self._settled, self._settling = True, False
            return self._table

    def _commit_file(self, table: DeltaTable | None) -> tuple[int, int, int, int] | None:
        return commit_file(self.location, table)

    def _remade(self) -> bool:
        """Whether the loaded version's commit file of a local table is another file than the
        one read (the table deleted and made again since): gone, or a different file. (A table
        object that advanced itself, by a delta-rs commit through it, is not asked.)"""
        seen, table = self._commit_seen, self._table
        if seen is None or table is None or table.version() != seen[0]:
            return False
        return self._commit_file(table) != seen

    def _no_commit_since(self) -> bool:
        """Whether a local table has no commit after the loaded version, told by a file check
        instead of an advance (a listing of the log folder and a read of what it finds): the
        next version's commit file is absent (`_remade` checked the loaded version's)."""
        seen, table = self._commit_seen, self._table
        if seen is None or table is None or table.version() != seen[0]:
            return False
        return not (self.location.local_path / DELTA_LOG / f"{seen[0] + 1:020d}.json").exists()

    def loaded(self) -> DeltaTable | None:
        """The table as last loaded or advanced, without asking the store for newer commits:
        for a caller that advanced it itself just before (each advance lists the log)."""
        with self._lock:
            return self._table

    def settle(self) -> None:
        """Nothing writes the table any more until the update ends (its flows have finished and
        the pipeline's lock keeps other writers out): advance it once more, on the next read,
        and no more after that."""
        with self._lock:
            if not self._settled:
                self._settling = True

    def version(self) -> int | None:
        table = self.table()
        return None if table is None else table.version()

    def table_id(self) -> str | None:
        table = self.table()
        return None if table is None else str(table.metadata().id)

    def identity(self) -> tuple[str, int] | None:
        """The table's id and newest version, from one advance (None: no table)."""
        table = self.table()
        return None if table is None else (str(table.metadata().id), table.version())


class DeltaLogs:
    """The logs one update reads, by location (shared by its flows)."""

    def __init__(self) -> None:
        self._logs: dict[Location, DeltaLog] = {}
        self._lock = threading.Lock()
        self._quiet: object | None = None

    def __call__(self, location: Location) -> DeltaLog:
        with self._lock:
            log = self._logs.get(location)
        if log is not None:
            return log
        loaded = take(location)  # (awaited outside the lock: other logs are not held up)
        with self._lock:
            return self._logs.setdefault(location, DeltaLog(location, self._quiet_period, loaded))

    def tables(self) -> list[Location]:
        """Every location where a table was found."""
        with self._lock:
            logs = list(self._logs.values())
        return [log.location for log in logs if log.loaded() is not None]

    def _quiet_period(self) -> object | None:
        return self._quiet

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """A period in which nothing writes the update's tables (its planning: no flow runs,
        and the pipeline's lock keeps other writers out): each log is advanced at its first read
        in it, not again."""
        outer = self._quiet
        self._quiet = outer if outer is not None else object()
        try:
            yield
        finally:
            self._quiet = outer


@dataclass(frozen=True)
class TableInfo:
    version: int
    row_count: int | None  # None when some file has no statistics
    num_files: int
    size_bytes: int
    partition_columns: tuple[str, ...]
    description: str | None
    properties: Mapping[str, str]


def stats_row_count(table: DeltaTable, *, below: tuple[str, int] | None = None) -> int | None:
    """The rows of the table's version, from its add actions' statistics (None when a file has
    none). `below=(column, n)`: only the rows whose non-NULL integer `column` is below n, None
    when a file's statistics cannot tell (rows on both sides, or NULLs)."""
    return actions_row_count(add_actions(table), below)


def add_actions(table: DeltaTable) -> pa.Table:
    """The add actions of the table's version, with their statistics flattened: read once when
    several counts come from them (each read costs milliseconds)."""
    return pa.table(table.get_add_actions(flatten=True))


def actions_row_count(actions: pa.Table, below: tuple[str, int] | None = None) -> int | None:
    """`stats_row_count` of add actions already read (`add_actions`)."""
    if actions.num_rows == 0:
        return 0
    if "num_records" not in actions.column_names:
        return None
    counts = actions.column("num_records").to_pylist()
    if any(c is None for c in counts):
        return None
    if below is None:
        return int(sum(counts))
    column, bound = below
    names = [f"min.{column}", f"max.{column}", f"null_count.{column}"]
    if any(name not in actions.column_names for name in names):
        return None
    total = 0
    for rows, low, high, nulls in zip(counts, *(actions.column(n).to_pylist() for n in names),
                                      strict=True):
        if rows == 0:
            continue
        if low is None or high is None or nulls is None or nulls:
            return None
        if high < bound:
            total += rows
        elif low < bound:
            return None  # the file holds rows on both sides
    return total


def table_info(location: Location, table: DeltaTable | None = None) -> TableInfo | None:
    """`table`: the table at its newest version, when the caller has its log loaded."""
    table = table if table is not None else open_table(location)
    if table is None:
        return None
    actions = pa.table(table.get_add_actions(flatten=True))
    row_count = actions_row_count(actions)
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


def output_rows(commit_info: Mapping[str, Any]) -> int | None:
    metrics = commit_info.get("operationMetrics") or {}
    value = metrics.get("numOutputRows")
    return int(value) if value is not None else None


def apply_metadata(location: Location, *, description: str | None,
                   properties: Mapping[str, str],
                   column_comments: Mapping[str, str] | None = None,
                   log: DeltaLog | None = None) -> None:
    """Set the table comment, properties and column comments the definition asks for, only when
    they differ, so an unchanged definition adds no commit. `log`: the table's log an update
    keeps loaded (advanced, not loaded again)."""
    table = log.table() if log is not None else open_table(location)
    if table is None:
        return
    metadata = table.metadata()
    wanted = {k: str(v) for k, v in properties.items()}
    changed = {k: v for k, v in wanted.items() if metadata.configuration.get(k) != v}
    if changed:
        table.alter.set_table_properties(changed, raise_if_not_exists=False)
    if description is not None and metadata.description != description:
        table.alter.set_table_description(description)
    if column_comments:
        current = {f.name: f.metadata.get("comment") for f in table.schema().fields}
        for column, comment in column_comments.items():
            if column in current and current[column] != comment:
                table.alter.set_column_metadata(column, {"comment": comment})
