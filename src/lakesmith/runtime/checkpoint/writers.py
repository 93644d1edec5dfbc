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
from lakesmith.tables.writes import write_delta


@dataclass(frozen=True)
class Landed:
    """Where a batch's marked commit is: its version and the rows it wrote."""

    version: int
    rows: int


class BatchWriter(ABC):
    """One table a batch writes. `name` keys its version in the offset record."""

    name: str
    crash_point: str

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
    """A writer whose commits carry the batch's marker, found again in the table's log."""

    def __init__(self, name: str, log: DeltaLog, crash_point: str) -> None:
        self.name = name
        self.log = log
        self.crash_point = crash_point

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


class AppendWithMarker(MarkedDeltaWriter):
    """Append the batch's rows (an empty result makes no commit: nothing to find, nothing lost)."""

    def __init__(self, name: str, log: DeltaLog, rows: Callable[[], Any | None], *,
                 partition_cols: Sequence[str] = (), crash_point: str = crash.AFTER_OUTPUT) -> None:
        super().__init__(name, log, crash_point)
        self.rows = rows  # the DataFrame to append, or None for nothing
        self.partition_cols = tuple(partition_cols)

    def write(self, marker: Marker) -> None:
        df = self.rows()
        if df is not None:
            write_delta(df, self.location, mode="append", user_metadata=marker.to_json(),
                        partition_cols=self.partition_cols)


class Overwrite(MarkedDeltaWriter):
    """Replace the table's contents (and schema) in one commit."""

    def __init__(self, name: str, log: DeltaLog, rows: Callable[[], Any | None], *,
                 partition_cols: Sequence[str] = (), crash_point: str = crash.AFTER_OUTPUT) -> None:
        super().__init__(name, log, crash_point)
        self.rows = rows
        self.partition_cols = tuple(partition_cols)

    def write(self, marker: Marker) -> None:
        df = self.rows()
        if df is not None:
            write_delta(df, self.location, mode="overwrite", user_metadata=marker.to_json(),
                        partition_cols=self.partition_cols)


class StateAppend(AppendWithMarker):
    """Append rows to a state table kept in the checkpoint (e.g. deduplication keys)."""

    def __init__(self, name: str, log: DeltaLog, rows: Callable[[], Any | None]) -> None:
        super().__init__(name, log, rows, crash_point=crash.AFTER_STATE)


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
