"""The durable record of the files a stream has discovered, in discovery order.

Each listing that finds new files appends one entry (put-if-absent, like the checkpoint's own
records) before any batch reads them; a batch's offsets are positions in this sequence, so a batch
re-run after a crash reads exactly the files it read before, and a file is never taken twice.
Like Spark's file-source log, every `COMPACT_INTERVAL`-th entry is also written as a compact file
holding every entry so far, and the entries it covers are deleted: loading the log reads one
compact file and a few entries, whatever the number of files already ingested.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lakesmith.errors import LakesmithError
from lakesmith.files import store_for
from lakesmith.locations import Location
from lakesmith.sources.files.inputs import InputFile

FORMAT = 1
COMPACT_INTERVAL = 10  # Spark's spark.sql.streaming.fileSource.log.compactInterval
_COMPACT_SUFFIX = ".compact"


@dataclass(frozen=True)
class LogEntry:
    number: int
    files: tuple[InputFile, ...]
    # The files present when the stream started with includeExistingFiles=false: known, so that
    # they are not taken as new later, but never read.
    existing: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"entry": self.number, "existing": self.existing,
                "files": [[f.location.uri, f.size, f.modification_time_ms,
                           [list(v) for v in f.partition_values]] for f in self.files]}

    @staticmethod
    def from_json(data: dict[str, Any], options: dict[str, str]) -> LogEntry:
        files = tuple(
            InputFile(Location.parse(uri, options=options), int(size), int(modified),
                      tuple((str(k), None if v is None else str(v)) for k, v in partitions))
            for uri, size, modified, partitions in data["files"])
        return LogEntry(int(data["entry"]), files, bool(data.get("existing", False)))


class FileLog:
    """The entries under `folder`; one writer at a time (the pipeline lock)."""

    def __init__(self, folder: Location, source_options: dict[str, str]) -> None:
        self.folder = folder
        self.source_options = source_options  # storage options the files' locations carry
        self.store = store_for(folder)

    def load(self) -> list[LogEntry]:
        names = {e.name for e in self.store.list(self.folder) if not e.is_dir}
        compacts = sorted(int(n[:-len(_COMPACT_SUFFIX)]) for n in names
                          if n.endswith(_COMPACT_SUFFIX) and n[:-len(_COMPACT_SUFFIX)].isdigit())
        entries: list[LogEntry] = []
        if compacts:
            data = self._read(f"{compacts[-1]}{_COMPACT_SUFFIX}")
            entries = [LogEntry.from_json(e, self.source_options) for e in data["entries"]]
        numbers = sorted(int(n) for n in names if n.isdigit())
        for number in numbers:
            if number < len(entries):
                continue
            if number != len(entries):
                raise LakesmithError(
                    f"The file log at {self.folder} is missing entry {len(entries)} (the next "
                    f"one found is {number}); the stream cannot tell which files it read.",
                    hint="run a full refresh of the streaming table to read the folder again.")
            entries.append(LogEntry.from_json(self._read(str(number)), self.source_options))
        return entries

    def append(self, entry: LogEntry, previous: list[LogEntry]) -> None:
        """Write `entry` (number len(previous)); every COMPACT_INTERVAL-th also compacts."""
        if entry.number != len(previous):
            raise ValueError(f"entry {entry.number} appended after {len(previous)} entries")
        data = json.dumps({"format": FORMAT, **entry.to_json()}).encode()
        if self.store.create(self.folder.join(str(entry.number)), data) is None:
            raise LakesmithError(
                f"Entry {entry.number} of the file log at {self.folder} already exists: another "
                "process is running this stream.",
                hint="make sure only one update of the pipeline runs at a time.")
        if (entry.number + 1) % COMPACT_INTERVAL == 0:
            self._compact([*previous, entry])

    def _compact(self, entries: list[LogEntry]) -> None:
        last = entries[-1].number
        data = json.dumps({"format": FORMAT, "through": last,
                           "entries": [e.to_json() for e in entries]}).encode()
        self.store.write(self.folder.join(f"{last}{_COMPACT_SUFFIX}"), data)
        for entry in entries[:-1]:
            self.store.delete(self.folder.join(str(entry.number)))
        for name in (e.name for e in self.store.list(self.folder)):
            if name.endswith(_COMPACT_SUFFIX) and name != f"{last}{_COMPACT_SUFFIX}":
                self.store.delete(self.folder.join(name))

    def _read(self, name: str) -> dict[str, Any]:
        location = self.folder.join(name)
        raw = self.store.read(location)
        if raw is None:
            raise LakesmithError(f"The file log entry {location} disappeared while it was read.")
        try:
            data: dict[str, Any] = json.loads(raw)
        except ValueError as e:
            raise LakesmithError(f"The file log entry {location} is not valid JSON: {e}.",
                                 hint="restore it, or run a full refresh of the streaming "
                                 "table.") from e
        if data.get("format") != FORMAT:
            raise LakesmithError(f"The file log entry {location} has format "
                                 f"{data.get('format')!r}; this lakesmith reads format {FORMAT}.")
        return data
