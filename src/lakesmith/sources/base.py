"""What a streaming source is to lakesmith: something with offsets, that can say what lies between
two of them, and give the engine a DataFrame over exactly that.

A flow's micro-batch reads, from each source, the slice between the previous batch's end offset
and a new one. The checkpoint records both offsets (serialised by the source itself), so a batch
re-run after a crash reads the same slice. Delta tables are one implementation, landing folders
of files (Auto Loader) the next; a new kind is a new module registered in `sources.registry`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SourceOffset(ABC):
    """A position in a stream; serialises itself for the checkpoint."""

    @abstractmethod
    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Backlog:
    """What lies between two offsets: for the update plan and progress reports."""

    files: int = 0
    bytes: int = 0
    records: int | None = 0  # None when some file has no row count
    versions: tuple[int, int] | None = None  # first and last table version, for Delta sources

    def __add__(self, other: Backlog) -> Backlog:
        records = None if self.records is None or other.records is None \
            else self.records + other.records
        versions = self.versions or other.versions
        if self.versions and other.versions:
            versions = (min(self.versions[0], other.versions[0]),
                        max(self.versions[1], other.versions[1]))
        return Backlog(self.files + other.files, self.bytes + other.bytes, records, versions)

    @property
    def is_empty(self) -> bool:
        return self.files == 0


@dataclass(frozen=True)
class SourceSlice:
    """The part of a stream one batch reads: up to `end`, described by `backlog`; `content` is
    the source's own description of it (e.g. the files)."""

    end: SourceOffset
    backlog: Backlog
    content: Any = None

    @property
    def has_data(self) -> bool:
        return not self.backlog.is_empty


@dataclass(frozen=True)
class Bounds:
    """What an update reads from a source: from `start` to `end` (fixed when the update starts,
    like Spark's Trigger.AvailableNow, so a source that keeps growing cannot keep it running)."""

    start: SourceOffset | None
    end: SourceOffset | None  # None: the source does not exist yet


class StreamSource(ABC):
    """One stream read by one flow."""

    key: str  # stable across runs and spellings: the checkpoint's name for this source
    display_name: str  # for messages and progress

    @abstractmethod
    def bounds(self, start: SourceOffset | None) -> Bounds:
        """From `start` (or where a new stream starts, when None) to everything available now."""

    @abstractmethod
    def next_slice(self, start: SourceOffset, end: SourceOffset) -> SourceSlice | None:
        """The next batch's slice after `start`, within the source's per-trigger limits and not
        past `end`; None when `start` is already at `end`."""

    @abstractmethod
    def slice_between(self, start: SourceOffset, end: SourceOffset) -> SourceSlice:
        """A slice already planned (its offsets are in the checkpoint), listed again."""

    @abstractmethod
    def backlog(self, start: SourceOffset, end: SourceOffset) -> Backlog:
        """Everything between two offsets, ignoring per-trigger limits."""

    @abstractmethod
    def dataframe(self, spark: Any, data: SourceSlice | None) -> Any:
        """A DataFrame over exactly the slice's data (no rows for None: the source adds nothing
        to this batch); fails, naming the file, when some of it cannot be read (never returns
        fewer rows silently)."""

    def slice_schema(self, spark: Any) -> Any:
        """The columns and types of `dataframe`'s result when the source can tell them without
        asking the engine (a StructType), else None."""
        return None

    @abstractmethod
    def offset_from_json(self, data: Mapping[str, Any]) -> SourceOffset: ...

    def diagnose(self, data: SourceSlice) -> str | None:
        """After the engine failed to read a slice: which of its files is unreadable, and why
        (None when no file can be blamed)."""
        return None

    def refuse_failed_batch(self, spark: Any, data: SourceSlice,  # noqa: B027
                            error: BaseException) -> None:
        """After a batch failed: raise the source's own error when one of the checks its read
        carries stopped it (a file stream's guard against new fields); otherwise return."""

    def read_again_after(self, spark: Any, data: SourceSlice, error: BaseException) -> bool:
        """After a batch failed with `error`: whether this source now reads the slice another way
        that avoids the failure (the batch then runs once more; nothing of it was committed).
        A file stream reads large files optimistically with the engine's line reader, which
        fails on bytes that are not UTF-8; such files are then read whole."""
        return False

    def identity(self) -> str | None:
        """What the source is (e.g. a Delta table's id): offsets recorded against one source
        must not be applied to another that replaced it under the same name."""
        return None

    def restart(self) -> None:  # noqa: B027 (optional to override)
        """A full refresh: the stream starts over (state the source keeps in the flow's
        checkpoint is about to be deleted)."""

    def begin(self) -> None:  # noqa: B027 (optional to override)
        """The flow is about to run: record what planning discovered (planning and dry-run
        write nothing)."""

    @property
    def has_unwritten_discovery(self) -> bool:
        """Planning found something that must be recorded even if no batch runs."""
        return False

    def check_identity(self, recorded: str | None) -> None:  # noqa: B027 (optional to override)
        """Raise when the source was replaced since `recorded` was taken (sources without an
        identity cannot tell, and accept)."""
