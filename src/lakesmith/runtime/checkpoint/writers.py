"""The ways a batch writes a table, each able to say whether its write of batch N already landed.

A crash can come between any two writes of a batch, so recovery asks every writer `landed()`
before writing again:
- `AppendWithMarker` and `Overwrite`: the engine's Delta commit carries the batch's marker in its
  `userMetadata`; it landed when a commit made after the recorded version carries it.
- `StateAppend`: the same, into a state table in the checkpoint (deduplication keys, ...).
- `IdempotentMerge`: the engine's MERGE cannot carry a marker, so a merge-based writer (AUTO CDC)
  must be idempotent by construction: applying batch N again leaves the table unchanged. It never
  claims to have landed; recovery simply applies it again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lakesmith.locations import Location
from lakesmith.runtime.checkpoint import crash
from lakesmith.runtime.checkpoint.records import Marker
from lakesmith.tables.delta import DeltaLog, output_rows
from lakesmith.tables.delta_log import commits_after
from lakesmith.tables.writes import replace_rows, write_delta


@dataclass(frozen=True)
class Landed:
    """Where a batch's marked commit is: its version and the rows it wrote."""

    version: int
    rows: int


class BatchWriter(ABC):
    """One table a batch writes. `name` keys its version in the offset record."""

    name: str
    crash_point: str
    # May land in either order with the batch's output, so it writes while the output writes:
    # neither reads what the other writes, and a rerun of the batch does not read it.
    alongside_output: bool = False

    @abstractmethod
    def version(self) -> int | None:
        """The table's version now (recorded before the batch writes)."""

    @abstractmethod
    def landed(self, marker: Marker, version_before: int | None) -> Landed | None:
        """This batch's commit, if it is already in the table."""

    @abstractmethod
    def write(self, marker: Marker) -> None:
        """Write the batch (one commit, marked), or nothing when there is nothing to write."""


class MarkedDeltaWriter(BatchWriter):
    """Writes the batch's rows to a Delta table through the engine, in one commit carrying the
    batch's marker, and finds that commit again in the table's log. `mode` is the Delta write
    mode; `rows` gives the DataFrame, or None for nothing (an empty write makes no commit)."""

    mode: str

    def __init__(self, name: str, log: DeltaLog, rows: Callable[[], Any | None], *,
                 partition_cols: Sequence[str] = (), crash_point: str = crash.AFTER_OUTPUT,
                 columns: Sequence[str] | None = None) -> None:
        self.name = name
        self.log = log
        self.rows = rows
        self.partition_cols = tuple(partition_cols)
        self.crash_point = crash_point
        self.columns = tuple(columns) if columns is not None else None  # the rows' names, if known

    @property
    def location(self) -> Location:
        return self.log.location

    def version(self) -> int | None:
        return self.log.version()

    def landed(self, marker: Marker, version_before: int | None) -> Landed | None:
        assert marker.checkpoint is not None and marker.batch is not None
        for commit in commits_after(self.location, version_before, self.log.version()):
            found = Marker.parse(commit.user_metadata)
            if found is not None and found.is_batch(marker.checkpoint, marker.batch):
                return Landed(commit.version, output_rows(commit.info) or 0)
        return None

    def write(self, marker: Marker) -> None:
        df = self.rows()
        if df is not None:
            write_delta(df, self.location, mode=self.mode, user_metadata=marker.to_json(),
                        partition_cols=self.partition_cols, columns=self.columns, log=self.log)


class AppendWithMarker(MarkedDeltaWriter):
    """Append the batch's rows (new columns are added to the table)."""

    mode = "append"


class Overwrite(MarkedDeltaWriter):
    """Replace the table's contents (and schema) in one commit."""

    mode = "overwrite"


class ReplaceRows(MarkedDeltaWriter):
    """Replace the table's rows in one commit that keeps its schema as it is, field metadata
    included (the engine writes no metadata action): the rows' columns must be the table's.
    A materialized view merged incrementally keeps the schema its last recompute wrote."""

    mode = "overwrite"

    def write(self, marker: Marker) -> None:
        df = self.rows()
        if df is not None:
            replace_rows(df, self.location, user_metadata=marker.to_json())


class StateAppend(AppendWithMarker):
    """Append rows to a state table kept in the checkpoint (e.g. deduplication keys).
    `alongside_output`: see `BatchWriter`."""

    def __init__(self, name: str, log: DeltaLog, rows: Callable[[], Any | None], *,
                 columns: Sequence[str] | None = None, alongside_output: bool = False) -> None:
        super().__init__(name, log, rows, crash_point=crash.AFTER_STATE, columns=columns)
        self.alongside_output = alongside_output


class IdempotentMerge(BatchWriter):
    """A MERGE whose second application changes nothing (the caller guarantees it, e.g. by
    merging only events newer than what the target holds per key)."""

    def __init__(self, name: str, log: DeltaLog, merge: Callable[[Marker], None], *,
                 crash_point: str = crash.AFTER_OUTPUT) -> None:
        self.name = name
        self.log = log
        self.merge = merge
        self.crash_point = crash_point

    def version(self) -> int | None:
        return self.log.version()

    def landed(self, marker: Marker, version_before: int | None) -> Landed | None:
        return None  # never known: applying again is harmless by construction

    def write(self, marker: Marker) -> None:
        self.merge(marker)
