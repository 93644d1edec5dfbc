"""A log of one record per batch (`offsets/N`, `commits/N`), as Spark's OffsetSeqLog and CommitLog.

Records are created put-if-absent: batch N is written once, and a second writer of N (which only a
broken lock allows) fails instead of overwriting. The newest batch is listed once and then
tracked, and old records are purged beyond a retention, so a long continuous run neither rescans
nor grows its folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from lakesmith.files import FileStore
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint.records import CheckpointError, dumps

R = TypeVar("R")

# Spark's default for spark.sql.streaming.minBatchesToRetain.
DEFAULT_BATCHES_TO_RETAIN = 100


class BatchLog(Generic[R]):
    def __init__(self, store: FileStore, location: Location,
                 parse: Callable[[Mapping[str, Any]], R], *, what: str,
                 hint: str) -> None:
        self.store = store
        self.location = location
        self._parse = parse
        self._what = what  # e.g. "offsets of flow 'x'", for messages
        self._hint = hint  # what to do when a record is unreadable
        self._latest: int | None = None
        self._listed = False
        self._purged_backlog = False

    def batches(self) -> list[int]:
        """Every batch with a record, ascending (lists the folder)."""
        found = sorted(int(e.name) for e in self.store.list(self.location)
                       if not e.is_dir and e.name.isdigit())
        self._latest = found[-1] if found else None
        self._listed = True
        return found

    def latest_batch(self) -> int | None:
        if not self._listed:
            self.batches()
        return self._latest

    def latest(self) -> R | None:
        batch = self.latest_batch()
        return None if batch is None else self.get(batch)

    def get(self, batch: int) -> R | None:
        location = self.location.join(str(batch))
        data = self.store.read(location)
        if data is None:
            return None
        try:
            return self._parse(json.loads(data))
        except (ValueError, KeyError, TypeError, AttributeError, CheckpointError) as e:
            raise CheckpointError(
                f"The {self._what} record {location} is unreadable ({_reason(e)}); the "
                "checkpoint cannot be trusted.", hint=self._hint) from e

    def add(self, batch: int, record: Mapping[str, Any]) -> None:
        """Write batch N's record; it must not exist yet."""
        location = self.location.join(str(batch))
        if not self.store.create(location, dumps(record)):
            raise CheckpointError(
                f"The {self._what} record {location} already exists: another process wrote batch "
                f"{batch} (two updates of one pipeline must not run at once).",
                hint="make sure only one update runs, then run the pipeline again.")
        if self._listed and (self._latest is None or batch > self._latest):
            self._latest = batch

    def replace(self, batch: int, record: Mapping[str, Any]) -> None:
        """Rewrite batch N's record (recovery of a commit whose output was lost)."""
        self.store.write(self.location.join(str(batch)), dumps(record))

    def purge(self, newest: int, retain: int = DEFAULT_BATCHES_TO_RETAIN) -> None:
        """Delete records older than the last `retain` batches. Each batch drops one record, so
        steady state costs one delete; the first purge after a change removes the backlog."""
        oldest_kept = newest - retain + 1
        if oldest_kept <= 0:
            return
        if not self._purged_backlog:
            for batch in self.batches():
                if batch < oldest_kept:
                    self.store.delete(self.location.join(str(batch)))
            self._purged_backlog = True
            return
        self.store.delete(self.location.join(str(oldest_kept - 1)))


def _reason(error: BaseException) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"not valid JSON: {error.msg} at line {error.lineno}"
    if isinstance(error, KeyError):
        return f"field {error} is missing"
    return str(error) or type(error).__name__
