"""A landing folder read as a stream (Auto Loader, `cloudFiles`): every file exactly once.

Each update lists the folder, and the files not seen before become one entry of the stream's file
log (`file_log`), written before any batch reads them. Offsets are positions in the log, so a
batch's files can be listed again, identically, from its offsets; a crash anywhere re-reads the
same files, and a file is never read twice or skipped. A file overwritten in place after it was
discovered is ignored unless `cloudFiles.allowOverwrites` is true.

Discovery is written only when the flow runs (`begin`): planning and `dry-run` list the folder
but write nothing, and a full refresh (`restart`) forgets what was discovered before the reset
deletes the log.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from lakesmith.errors import LakesmithError
from lakesmith.files import store_for
from lakesmith.locations import Location
from lakesmith.sources.base import Backlog, Bounds, SourceOffset, SourceSlice, StreamSource
from lakesmith.sources.files import schema_evolution
from lakesmith.sources.files.file_log import FileLog, LogEntry
from lakesmith.sources.files.file_schema import (
    inference_sample,
    inferred_columns,
    with_partitions,
)
from lakesmith.sources.files.inputs import InputFile
from lakesmith.sources.files.listing import ListingRules, ReadPath, list_files
from lakesmith.sources.files.options import FIXED_SCHEMAS, RESCUE, AutoLoaderOptions
from lakesmith.sources.files.schema_location import SchemaLocation, StoredSchema


@dataclass(frozen=True)
class FileOffset(SourceOffset):
    """Every file of the log entries before `entry` is done, and the first `index` files of
    entry `entry`."""

    entry: int
    index: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"entry": self.entry, "index": self.index}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> FileOffset:
        return FileOffset(int(data["entry"]), int(data["index"]))


@dataclass(frozen=True)
class FileSourceConfig:
    key: str
    display_name: str
    paths: tuple[Location, ...]
    options: AutoLoaderOptions
    user_schema: str | None  # DDL from `.schema(...)`
    log_folder: Location
    schema_location: Location
    with_metadata: bool  # the query reads `_metadata` or `input_file_name()`
    where: str


class FileStreamSource(StreamSource):
    def __init__(self, config: FileSourceConfig) -> None:
        self.config = config
        self.key = config.key
        self.display_name = config.display_name
        self.options = config.options
        self.log = FileLog(config.log_folder, dict(config.paths[0].options) if config.paths
                           else {})
        self._entries: list[LogEntry] | None = None
        # A listing made for analysis serves the plan that follows it (one listing per update).
        self._unplanned_listing = False
        self._persisted = 0
        self._seen: dict[str, tuple[int, int]] = {}
        self._schema: StoredSchema | None = None
        self.schema_inferred = False  # (not given by the query, nor fixed by the format)
        self._schema_version: int | None = None  # the stored version the schema is
        # The files the schema was inferred from in this update: nothing in them is new.
        self._inferred_from: frozenset[str] = frozenset()
        self.schemas = SchemaLocation(config.schema_location)
        # Unreadable files left out under ignoreCorruptFiles, and why (reported in the event log).
        self.ignored_files: dict[str, str] = {}
        # The files of the last batch read (after ignoreCorruptFiles left some out).
        self._read: tuple[InputFile, ...] | None = None
        # A batch held a record a plain JSON read could not read: the full read from then on.
        self._not_plain = False

    # -- discovery -----------------------------------------------------------------------------

    def _log(self) -> list[LogEntry]:
        if self._entries is None:
            self._entries = self.log.load()
            self._persisted = len(self._entries)
            for entry in self._entries:
                for f in entry.files:
                    self._seen[f.location.uri] = (f.size, f.modification_time_ms)
        return self._entries

    def discover(self) -> None:
        """List the folder; files not seen before (or overwritten, with allowOverwrites) become
        a new log entry, in memory until `begin` writes it."""
        entries = self._log()
        self._unplanned_listing = True
        listing = list_files(self.config.paths, ListingRules.parse(
            self.options.reader, self.options.path_glob_filter, self.config.where))
        new: list[InputFile] = []
        for status, partitions in listing.files:
            seen = self._seen.get(status.location.uri)
            if seen is not None and (not self.options.allow_overwrites
                                     or seen == (status.size, status.modified_ms)):
                continue
            new.append(InputFile(status.location, status.size, status.modified_ms, partitions))
        new = _settled(new)
        # With includeExistingFiles=false the first entry records what the stream starts after,
        # even nothing: files that arrive later are all new.
        existing = not entries and not self.options.include_existing_files
        if not new and not existing:
            return
        # Spark's file source reads the oldest files first.
        new.sort(key=lambda f: (f.modification_time_ms, f.location.uri))
        entries.append(LogEntry(len(entries), tuple(new), existing=existing))
        for f in new:
            self._seen[f.location.uri] = (f.size, f.modification_time_ms)

    def begin(self) -> None:
        """Write the entries discovered since the log was loaded (the flow is about to run)."""
        entries = self._log()
        while self._persisted < len(entries):
            self.log.append(entries[self._persisted], entries[:self._persisted])
            self._persisted += 1

    @property
    def has_unwritten_discovery(self) -> bool:
        return self._entries is not None and self._persisted < len(self._entries)

    def restart(self) -> None:
        """A full refresh: the log (and a schema inferred into the checkpoint) will be deleted;
        the stream starts again from an empty log."""
        self._entries = []
        self._persisted = 0
        self._seen = {}
        self._unplanned_listing = False  # the next bounds() lists again, from scratch
        if self.options.schema_location is None:  # inside the checkpoint: deleted too
            self._schema = None
            self._schema_version = None

    # -- offsets -------------------------------------------------------------------------------

    def bounds(self, start: SourceOffset | None) -> Bounds:
        if not self._unplanned_listing:
            self.discover()
        self._unplanned_listing = False
        entries = self._log()
        if start is None:
            start = FileOffset(1 if entries and entries[0].existing else 0)
        return Bounds(start, FileOffset(max(len(entries), _file(start).entry)))

    def next_slice(self, start: SourceOffset, end: SourceOffset) -> SourceSlice | None:
        begin, last = self._normalized(_file(start), _file(end)), _file(end)
        if (begin.entry, begin.index) >= (last.entry, last.index):
            return None
        if last.entry > self._persisted:
            raise RuntimeError("a batch would read file log entries not yet written")
        budget = self.options.limits.budget()
        files: list[InputFile] = []
        position = begin
        for entry, index, data_file in self._positions(begin, last):
            if budget.exhausted:
                break
            budget.add(data_file.size)
            files.append(data_file)
            position = FileOffset(entry, index + 1)
        return _slice(files, self._normalized(position, last))

    def _normalized(self, position: FileOffset, last: FileOffset) -> FileOffset:
        """Past the end of a fully read entry: at the start of the next one."""
        entries = self._log()
        while position.entry < last.entry and position.entry < len(entries) and \
                position.index >= _readable(entries[position.entry]):
            position = FileOffset(position.entry + 1)
        return position

    def slice_between(self, start: SourceOffset, end: SourceOffset) -> SourceSlice:
        begin, last = _file(start), _file(end)
        entries = self._log()
        if last.entry > len(entries) or (last.entry < len(entries)
                                         and last.index > len(entries[last.entry].files)):
            raise LakesmithError(
                f"The checkpoint of a stream over {self.display_name} names offset {last}, "
                f"which its file log at {self.log.folder} does not reach.",
                hint="the file log was deleted or replaced; run a full refresh of the "
                "streaming table.")
        return _slice([f for _, _, f in self._positions(begin, last)], last)

    def backlog(self, start: SourceOffset, end: SourceOffset) -> Backlog:
        files = [f for _, _, f in self._positions(_file(start), _file(end))]
        return _slice(files, _file(end)).backlog

    def offset_from_json(self, data: Mapping[str, Any]) -> FileOffset:
        return FileOffset.from_json(data)

    def _positions(self, start: FileOffset,
                   end: FileOffset) -> Iterator[tuple[int, int, InputFile]]:
        """(entry, index, file) for each file after `start` and before `end`."""
        entries = self._log()
        for number in range(start.entry, min(end.entry + 1, len(entries))):
            entry = entries[number]
            if entry.existing:
                continue
            first = start.index if number == start.entry else 0
            stop = end.index if number == end.entry else len(entry.files)
            for index in range(first, stop):
                yield number, index, entry.files[index]

    # -- schema --------------------------------------------------------------------------------

    def schema(self, spark: Any, *, persist: bool) -> StoredSchema:
        """The stream's schema: given by the query, stored in the schema location, or inferred
        from a sample of the files (and then stored, when `persist`)."""
        if self._schema is None:
            self._schema = self._resolve_schema(spark)
        if persist and self.schema_inferred and self._schema_version is None:
            self.schemas.add(0, self._schema)
            self._schema_version = 0
        return self._schema

    def _resolve_schema(self, spark: Any) -> StoredSchema:
        files = inference_sample((f for entry in self._log() for f in entry.files),
                                 self.options)
        self.schema_inferred = False
        if self.config.user_schema is not None:
            return with_partitions(spark._parse_ddl(self.config.user_schema), files,
                                   self.options)
        if self.options.format in FIXED_SCHEMAS:
            return with_partitions(FIXED_SCHEMAS[self.options.format], files, self.options)
        self.schema_inferred = True
        stored = self.schemas.latest()
        if stored is not None:
            self._schema_version = stored[0]
            return stored[1]
        if not files:
            raise LakesmithError(
                f"{self.config.where}: cannot infer the schema of {self.options.format} files "
                f"at {self.display_name}: the folder has no files yet.",
                hint="give the schema with .schema(...), or run again once files have arrived.")
        data = inferred_columns(spark, files, self.options, self.config.where)
        self._inferred_from = frozenset(f.location.uri for f in files)
        return with_partitions(data, files, self.options)

    def evolve(self, schema: StoredSchema) -> None:
        """Store a new schema version (schema evolution): the next run reads with it."""
        number = 0 if self._schema_version is None else self._schema_version + 1
        self.schemas.add(number, schema)
        self._schema_version = number

    # -- reading -------------------------------------------------------------------------------

    def read_spec(self, spark: Any, *, persist: bool) -> Any:
        from lakesmith.sources.files import formats

        schema = self.schema(spark, persist=persist)
        rescued = schema_evolution.rescued_column(self.options, inferred=self.schema_inferred)
        return formats.ReadSpec(
            format=self.options.format, options=self.options.reader, schema=schema.data,
            partition_schema=schema.partitions, rescued_data_column=rescued,
            with_metadata=self.config.with_metadata, where=self.config.where)

    def dataframe(self, spark: Any, data: SourceSlice | None) -> Any:
        from lakesmith.sources.files import formats

        # Large files skip the UTF-8 check before the line reader, and JSON records are read
        # plainly until one is not plain (`read_again_after`).
        spec = replace(self.read_spec(spark, persist=True), unchecked_utf8=True,
                       plain_records=None if self._not_plain else self._plain_records())
        files: tuple[InputFile, ...] = data.content if data is not None else ()
        if not files:
            return formats.read_files(spark, (), spec)
        self._check_files_exist(files)
        if self.options.ignore_corrupt_files:
            files = self._without_corrupt_files(files, spec)
            if not files:
                return formats.read_files(spark, (), spec)
        self._read = files
        guard = self._new_field_guard(files)
        if guard is not None:
            # The batch's read fails at a record with a field the schema lacks; the flow then
            # asks `refuse_failed_batch` for the exact names and the evolution mode's stop.
            return formats.read_files(spark, files, replace(spec, new_field_guard=guard))
        mode = schema_evolution.mode(self.options, inferred=self.schema_inferred)
        if mode in schema_evolution.CHECKS_NEW_COLUMNS and not self._inferred_from_all(files):
            self._refuse_new_columns(spark, files, spec)
        return formats.read_files(spark, files, spec)

    def slice_schema(self, spark: Any) -> Any:
        """A batch's columns, as its read gives them (`formats.output_schema`), when every data
        column is a STRING (Auto Loader's inferred default): the readers make each such column,
        the partition, rescued and `_metadata` columns of exactly their types. (A typed column
        is left to the engine: CHAR and VARCHAR are read as STRING, for one.)"""
        from pyspark.sql.types import StringType

        from lakesmith.sources.files.formats.read import output_schema

        spec = self.read_spec(spark, persist=False)
        if not all(isinstance(f.dataType, StringType) for f in spec.schema.fields):
            return None
        schema = output_schema(spec)
        return None if "char(" in schema.simpleString().lower() else schema

    def _plain_records(self) -> Any:
        from lakesmith.sources.files.formats.spec import PlainRecords

        return PlainRecords.for_source(self.key)

    def _inferred_from_all(self, files: tuple[InputFile, ...]) -> bool:
        """The schema was just inferred from these very files: nothing in them is new."""
        return all(f.location.uri in self._inferred_from for f in files)

    def _new_field_guard(self, files: tuple[InputFile, ...]) -> Any:
        """How a JSON batch notices new fields, when its evolution mode must (addNewColumns and
        failOnNewColumns: any field; rescue: fields of struct columns, which it cannot rescue)."""
        from lakesmith.sources.files.formats.spec import NewFieldGuard

        if self.options.format != "json" or self._inferred_from_all(files):
            return None
        mode = schema_evolution.mode(self.options, inferred=self.schema_inferred)
        if mode in schema_evolution.CHECKS_NEW_COLUMNS:
            return NewFieldGuard.for_source(self.key)
        if mode == RESCUE:
            return NewFieldGuard.for_source(self.key, nested_only=True)
        return None

    def refuse_failed_batch(self, spark: Any, data: SourceSlice, error: BaseException) -> None:
        """After a batch failed: when this source's new-field guard stopped it, list the new
        fields exactly and stop as the evolution mode says (addNewColumns stores the evolved
        schema first). Nothing of the batch was committed: the guard fails the read itself."""
        files = self._read if self._read is not None else data.content
        if not files:
            return
        guard = self._new_field_guard(files)
        if guard is None or not guard.fired_in(error):
            return
        spec = self.read_spec(spark, persist=False)
        self._refuse_new_columns(spark, files, spec)
        raise LakesmithError(
            f"{self.config.where}: the read of {self.display_name} stopped at a record with a "
            "field its schema lacks, but listing the batch's fields found none: the files may "
            f"have changed while the batch ran ({error}).",
            hint="run the pipeline again; the batch is read again from its recorded files.")

    def read_again_after(self, spark: Any, data: SourceSlice, error: BaseException) -> bool:
        """The batch read a record that is not plain JSON with a plain read (`plain_json.py`):
        this and every later batch of the update are read with Spark's full semantics. Or a
        large file the batch gave the engine's line reader without checking its bytes was not
        UTF-8 (the reader failed; Spark shows U+FFFD): it is read whole from now on."""
        from lakesmith.sources.files import formats

        files = self._read if self._read is not None else data.content
        if not files or self._schema is None:  # nothing was read yet
            return False
        if not self._not_plain and self._plain_records().fired_in(error):
            self._not_plain = True
            return True
        spec = replace(self.read_spec(spark, persist=False), unchecked_utf8=True)
        return bool(formats.found_not_utf8(spark, files, spec, error))

    def _refuse_new_columns(self, spark: Any, files: tuple[InputFile, ...], spec: Any) -> None:
        """The exact check: stop (and in addNewColumns, evolve) when the files have new columns;
        in rescue mode, only new fields of struct columns stop the batch."""
        from lakesmith.sources.files import formats

        mode = schema_evolution.mode(self.options, inferred=self.schema_inferred)
        found = formats.new_columns(spark, files, spec)
        if mode == RESCUE:
            schema_evolution.refuse_unrescued_nested_fields(self, found)
        elif found:
            schema_evolution.refuse_new_columns(self, spark, files, found, mode)

    def empty_dataframe(self, spark: Any) -> Any:
        """No rows, the stream's columns: what analysis and dry-run bind the read to."""
        from lakesmith.sources.files import formats

        return formats.read_files(spark, (), self.analysis_read_spec(spark))

    def analysis_read_spec(self, spark: Any) -> Any:
        """How analysis reads the stream (`empty_dataframe`): also what a recorded analysis
        depends on (`runtime/analysis_cache.py`)."""
        if self._entries is None:
            self.discover()  # the files a schema would be inferred from
        return self.read_spec(spark, persist=False)

    def diagnose(self, data: SourceSlice) -> str | None:
        from lakesmith.sources.files import formats

        files: tuple[InputFile, ...] = data.content or ()
        if self._schema is None:  # the batch failed before its files were read
            return None
        problem: str | None = formats.diagnose(files, self.read_spec(None, persist=False))
        return problem

    def _without_corrupt_files(self, files: tuple[InputFile, ...],
                               spec: Any) -> tuple[InputFile, ...]:
        """`ignoreCorruptFiles`: files that cannot be read are left out (the same ones on a
        rerun of the batch, so it reads the same rows), each reported."""
        from lakesmith.sources.files import formats

        kept = []
        for f in files:
            problem = formats.diagnose((f,), spec)
            if problem is None:
                kept.append(f)
            elif f.location.uri not in self.ignored_files:
                self.ignored_files[f.location.uri] = problem
        return tuple(kept)

    def _check_files_exist(self, files: tuple[InputFile, ...]) -> None:
        """The engine skips a missing file of an explicit list silently: fail the batch instead,
        naming the file (Spark's FAILED_READ_FILE.FILE_NOT_EXIST). Local files are checked one
        by one; in a bucket, one listing of the source's folders answers for every file."""
        listed: set[str] | None = None
        for f in files:
            if f.location.is_local:
                present = f.location.local_path.exists()
            else:
                if listed is None:
                    listed = {status.location.uri for path in self.config.paths
                              for status in store_for(path).walk(ReadPath.parse(path).root)}
                present = f.location.uri in listed
            if not present:
                raise LakesmithError(
                    f"[FAILED_READ_FILE.FILE_NOT_EXIST] The file {f.location} of "
                    f"{self.display_name} was discovered but no longer exists. The batch was "
                    "not committed; nothing was written.",
                    hint="restore the file and run again; files must stay in the landing "
                    "folder until they are ingested.")


def _settled(files: list[InputFile]) -> list[InputFile]:
    """The new files whose size and modification time did not change since the listing: a file
    still being written is left for a later listing, never half-read."""
    settled = []
    for f in files:
        if not f.location.is_local:
            settled.append(f)  # object stores show an object only once it is complete
            continue
        try:
            stat = f.location.local_path.stat()
        except FileNotFoundError:
            continue
        if stat.st_size == f.size and stat.st_mtime_ns // 1_000_000 == f.modification_time_ms:
            settled.append(f)
    return settled


def _readable(entry: LogEntry) -> int:
    return 0 if entry.existing else len(entry.files)


def _file(offset: SourceOffset) -> FileOffset:
    if not isinstance(offset, FileOffset):
        raise TypeError(f"a file source got a {type(offset).__name__} offset")
    return offset


def _slice(files: list[InputFile], end: FileOffset) -> SourceSlice:
    backlog = Backlog(len(files), sum(f.size for f in files), None)
    return SourceSlice(end, backlog, tuple(files))
