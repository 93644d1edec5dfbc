"""A Delta table read as a stream: which files each micro-batch owns, and how to read them.

Semantics follow Spark's Delta streaming source. A new stream first reads the table's snapshot at
its latest version (files ordered by modification time, then path), then every later commit's
added files, in order. Offsets name a position in that sequence, so the files of a batch can be
listed again, identically, from its offsets alone. A commit that removes data (update, delete,
merge, overwrite) fails the stream unless `skipChangeCommits` is set, in which case the whole
commit is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql.types import StructType

from lakesmith.engine.ddl import quote_name, read_schema
from lakesmith.engine.paths import engine_path
from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.files import store_for
from lakesmith.locations import Location
from lakesmith.sources.base import Backlog, Bounds, SourceOffset, SourceSlice, StreamSource
from lakesmith.sources.limits import TriggerLimits, positive_int
from lakesmith.tables.delta import DeltaLog
from lakesmith.tables.delta_log import Commit, DataFile, read_commit, snapshot_files
from lakesmith.tables.parquet_check import first_problem

SUPPORTED_OPTIONS = {"maxfilespertrigger", "maxbytespertrigger", "startingversion",
                     "skipchangecommits"}


@dataclass(frozen=True)
class DeltaOffset(SourceOffset):
    """A position in a Delta stream.

    `snapshot`: reading the snapshot of `version`, of which the first `index` files are done.
    Otherwise every commit up to `version` is done, plus the first `index` added files of commit
    `version + 1` (`index` 0: none of it).
    """

    version: int
    index: int = 0
    snapshot: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "index": self.index, "snapshot": self.snapshot}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> DeltaOffset:
        return DeltaOffset(int(data["version"]), int(data["index"]), bool(data["snapshot"]))


@dataclass(frozen=True)
class StreamOptions:
    limits: TriggerLimits
    starting_version: int | str | None
    skip_change_commits: bool

    @staticmethod
    def parse(options: Mapping[str, str], where: str) -> StreamOptions:
        lowered = {k.lower(): v for k, v in options.items()}
        unknown = sorted(k for k in options if k.lower() not in SUPPORTED_OPTIONS)
        if unknown:
            raise NotSupportedYet(
                f"{where}: streaming read option(s) {', '.join(unknown)} are not supported yet; "
                "supported: maxFilesPerTrigger, maxBytesPerTrigger, startingVersion, "
                "skipChangeCommits.")
        starting = lowered.get("startingversion")
        starting_version: int | str | None = None
        if starting is not None:
            if starting.strip().lower() == "latest":
                starting_version = "latest"
            else:
                starting_version = positive_int(starting, "startingVersion", where,
                                                allow_zero=True)
        skip = lowered.get("skipchangecommits", "false").strip().lower() == "true"
        return StreamOptions(TriggerLimits.parse(lowered, where), starting_version, skip)


class DeltaStreamSource(StreamSource):
    """One Delta table read as a stream by one flow."""

    def __init__(self, key: str, log: DeltaLog, options: StreamOptions,
                 display_name: str) -> None:
        self.key = key
        self.log = log
        self.options = options
        self.display_name = display_name

    @property
    def root(self) -> Location:
        return self.log.location

    # -- planning ------------------------------------------------------------------------------

    def bounds(self, start: SourceOffset | None) -> Bounds:
        latest = self.log.version()
        if latest is None:
            return Bounds(start, None)
        if start is None:
            start = self._initial_offset(latest)
        return Bounds(start, DeltaOffset(max(latest, _delta(start).version)))

    def _initial_offset(self, latest: int) -> DeltaOffset:
        starting = self.options.starting_version
        if starting == "latest":
            return DeltaOffset(latest)
        if starting is not None:
            return DeltaOffset(int(starting) - 1)
        return DeltaOffset(latest, 0, snapshot=True)

    def next_slice(self, start: SourceOffset, end: SourceOffset) -> SourceSlice | None:
        budget = self.options.limits.budget()
        files: list[tuple[DataFile, int]] = []
        last: DeltaOffset | None = None
        for data_file, offset, version in self._positions(_delta(start), _delta(end)):
            if data_file is not None:
                if budget.exhausted:
                    break
                budget.add(data_file.size)
                files.append((data_file, version))
            last = offset
        if last is None:
            return None
        return _slice(files, last)

    def slice_between(self, start: SourceOffset, end: SourceOffset) -> SourceSlice:
        files: list[tuple[DataFile, int]] = []
        target = _delta(end)
        # An offset inside a commit (a batch that took only some of its files) lies in the
        # commit after its `version`.
        last = target if target.snapshot or not target.index else DeltaOffset(target.version + 1)
        if _delta(start) != target:
            for data_file, offset, version in self._positions(_delta(start), last):
                if data_file is not None:
                    files.append((data_file, version))
                if offset == target:
                    break
            else:
                raise LakesmithError(
                    f"The checkpoint of a stream over '{self.display_name}' names offset "
                    f"{target}, which the table at {self.root} does not reach.",
                    hint="the source table was replaced; run --full-refresh on the streaming "
                    "table.")
        return _slice(files, target)

    def backlog(self, start: SourceOffset, end: SourceOffset) -> Backlog:
        files = [(f, v) for f, _, v in self._positions(_delta(start), _delta(end))
                 if f is not None]
        return _slice(files, _delta(end)).backlog

    def offset_from_json(self, data: Mapping[str, Any]) -> DeltaOffset:
        return DeltaOffset.from_json(data)

    def identity(self) -> str | None:
        return self.log.table_id()

    def check_identity(self, recorded: str | None) -> None:
        """A source table deleted and created again restarts its versions: the recorded offsets
        would then name other data. Spark refuses that too."""
        current = self.identity()
        if recorded is not None and current is not None and current != recorded:
            raise LakesmithError(
                f"The source table '{self.display_name}' at {self.root} was replaced by another "
                f"table (id {current}, the checkpoint read {recorded}); the stream cannot "
                "continue from its offsets.", hint="run a full refresh of this streaming table.")

    def _positions(self, start: DeltaOffset,
                   end: DeltaOffset) -> Iterator[tuple[DataFile | None, DeltaOffset, int]]:
        """Each file after `start` up to the commit `end.version`, with the offset just after it
        and its table version; for a commit that adds nothing to read, one `None` with the offset
        after that commit."""
        version, index = start.version + 1, start.index
        if start.snapshot:
            snapshot = snapshot_files(self.root, start.version)
            for i in range(start.index, len(snapshot)):
                last = i + 1 == len(snapshot)
                yield snapshot[i], (DeltaOffset(start.version) if last
                                    else DeltaOffset(start.version, i + 1, True)), start.version
            if start.index >= len(snapshot):
                yield None, DeltaOffset(start.version), start.version
            index = 0
        while version <= end.version:
            adds = self._readable_adds(read_commit(self.root, version))
            for i in range(index, len(adds)):
                last = i + 1 == len(adds)
                yield adds[i], (DeltaOffset(version) if last
                                else DeltaOffset(version - 1, i + 1)), version
            if index >= len(adds):
                yield None, DeltaOffset(version), version
            version, index = version + 1, 0

    def _readable_adds(self, commit: Commit) -> list[DataFile]:
        if not commit.changes_existing_data:
            return list(commit.adds)
        if self.options.skip_change_commits:
            return []
        raise LakesmithError(
            f"[DELTA_SOURCE_TABLE_IGNORE_CHANGES] Detected a data update (for example "
            f"{commit.removes[0].path}) in the source table at version {commit.version}. This is "
            "currently not supported. If this is going to happen regularly and you are okay to "
            "skip changes, set the option 'skipChangeCommits' to 'true'. If you would like the "
            "data update to be reflected, please restart this query with a fresh checkpoint "
            f"directory or do a full refresh. The source table '{self.display_name}' can be found "
            f"at path {self.root}.",
            hint="read the source with .option('skipChangeCommits', 'true') to ignore commits "
            "that update or delete rows, or run --full-refresh on the streaming table.")

    # -- reading -------------------------------------------------------------------------------

    def dataframe(self, spark: Any, data: SourceSlice | None) -> Any:
        """A DataFrame over exactly these files, with the table's current schema; partition
        values come from the log (the engine does not read them from the paths)."""
        from pyspark.sql.connect import functions as F

        table = self.log.table()
        if table is None:
            raise LakesmithError(f"The source table '{self.display_name}' at {self.root} no "
                                 "longer exists.")
        metadata = table.metadata()
        mode = metadata.configuration.get("delta.columnMapping.mode", "none")
        if mode != "none":
            raise NotSupportedYet(
                f"streaming read of '{self.display_name}': Delta column mapping "
                f"(delta.columnMapping.mode={mode}) is not supported yet.")
        schema = StructType.fromJson(json.loads(table.schema().to_json()))
        partition_columns = list(metadata.partition_columns)
        files: tuple[DataFile, ...] = data.content if data is not None else ()
        if not files:
            return spark.read.format("delta").load(engine_path(self.root)).where("false")
        if any(f.has_deletion_vector for f in files):
            raise NotSupportedYet(
                f"streaming read of '{self.display_name}': files with deletion vectors are not "
                "supported yet.")
        self._check_files_exist(files)
        data_schema = StructType([f for f in schema.fields if f.name not in partition_columns])
        groups: dict[tuple[tuple[str, str | None], ...], list[str]] = {}
        for data_file in files:
            groups.setdefault(data_file.partition_values, []).append(
                engine_path(data_file.location(self.root)))
        frames = []
        for values, paths in groups.items():
            frame = spark.read.schema(read_schema(data_schema)).parquet(*paths)
            by_name = dict(values)
            for field in schema.fields:
                if field.name in partition_columns:
                    frame = frame.withColumn(
                        field.name, F.lit(by_name.get(field.name)).cast(field.dataType))
            frames.append(frame.select(*[F.col(quote_name(f.name)) for f in schema.fields]))
        result = frames[0]
        for frame in frames[1:]:
            result = result.unionByName(frame)
        return result

    def diagnose(self, data: SourceSlice) -> str | None:
        files: tuple[DataFile, ...] = data.content or ()
        found = first_problem((f.location(self.root), f.size or None) for f in files)
        if found is None:
            return None
        location, problem = found
        return (f"the data file {location} of the source table '{self.display_name}' {problem}")

    def _check_files_exist(self, files: tuple[DataFile, ...]) -> None:
        """The engine silently skips a missing file of an explicit file list (0 rows, no error):
        the batch would commit without those rows and never read them again. Spark fails the
        batch; so does lakesmith, naming the file, before anything is written."""
        for data_file in files:
            location = data_file.location(self.root)
            if not store_for(location).exists(location):
                raise LakesmithError(
                    f"[FAILED_READ_FILE.FILE_NOT_EXIST] The data file {location} of the source "
                    f"table '{self.display_name}' does not exist, although the table's log "
                    "references it. The batch was not committed; nothing was written.",
                    hint="restore the file (or the table) and run again; if the table was "
                    "vacuumed or rewritten, run a full refresh of the streaming table.")


def _delta(offset: SourceOffset) -> DeltaOffset:
    if not isinstance(offset, DeltaOffset):
        raise TypeError(f"a Delta source got a {type(offset).__name__} offset")
    return offset


def _slice(files: list[tuple[DataFile, int]], end: DeltaOffset) -> SourceSlice:
    records: int | None = 0
    for data_file, _ in files:
        if records is None or data_file.num_records is None:
            records = None
        else:
            records += data_file.num_records
    versions = (files[0][1], files[-1][1]) if files else None
    backlog = Backlog(len(files), sum(f.size for f, _ in files), records, versions)
    return SourceSlice(end, backlog, tuple(f for f, _ in files))
