"""A Delta table read as a stream: which files each micro-batch owns, and how to read them.

Semantics follow Spark's Delta streaming source. A new stream first reads the table's snapshot at
its latest version, then every later commit's added files, in order. Offsets name a position in
that sequence, so the files of a batch can be listed again, identically, from its offsets alone.
A commit that removes data (update, delete, merge, overwrite) fails the stream unless
`skipChangeCommits` is set, in which case the whole commit is skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pyspark.sql.types import StructType

from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.sources.delta_log import (
    Commit,
    DataFile,
    latest_version,
    read_commit,
    snapshot_files,
    table_id,
)

DEFAULT_MAX_FILES_PER_TRIGGER = 1000  # Spark's default for Delta sources
SUPPORTED_OPTIONS = {"maxfilespertrigger", "maxbytespertrigger", "startingversion",
                     "skipchangecommits"}


@dataclass(frozen=True)
class DeltaOffset:
    """A position in a Delta stream.

    `snapshot`: reading the snapshot of `version`, of which the first `index` files (by path) are
    done. Otherwise every commit up to `version` is done, plus the first `index` added files of
    commit `version + 1` (`index` 0: none of it).
    """

    version: int
    index: int = 0
    snapshot: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> DeltaOffset:
        return DeltaOffset(int(data["version"]), int(data["index"]), bool(data["snapshot"]))


@dataclass(frozen=True)
class DeltaSlice:
    """The files one batch reads from one source, between two offsets."""

    files: tuple[DataFile, ...]
    end: DeltaOffset
    versions: tuple[int, int] | None  # first and last table version the files come from

    @property
    def num_records(self) -> int | None:
        total = 0
        for data_file in self.files:
            if data_file.num_records is None:
                return None
            total += data_file.num_records
        return total


@dataclass(frozen=True)
class StreamOptions:
    max_files: int | None
    max_bytes: int | None
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
        max_files = _positive_int(lowered.get("maxfilespertrigger"), "maxFilesPerTrigger", where)
        max_bytes = _bytes(lowered.get("maxbytespertrigger"), where)
        starting = lowered.get("startingversion")
        starting_version: int | str | None = None
        if starting is not None:
            if starting.strip().lower() == "latest":
                starting_version = "latest"
            else:
                starting_version = _positive_int(starting, "startingVersion", where, allow_zero=True)
        skip = lowered.get("skipchangecommits", "false").strip().lower() == "true"
        if max_files is None and max_bytes is None:
            max_files = DEFAULT_MAX_FILES_PER_TRIGGER
        return StreamOptions(max_files, max_bytes, starting_version, skip)


class DeltaStreamSource:
    """One Delta table read as a stream by one flow."""

    def __init__(self, key: str, root: Path, options: StreamOptions, display_name: str) -> None:
        self.key = key
        self.root = root
        self.options = options
        self.display_name = display_name

    # -- planning ------------------------------------------------------------------------------

    def initial_offset(self) -> DeltaOffset | None:
        """Where a new stream starts, or None when the table does not exist yet."""
        latest = latest_version(self.root)
        starting = self.options.starting_version
        if starting == "latest":
            return DeltaOffset(latest if latest is not None else -1)
        if starting is not None:
            return DeltaOffset(int(starting) - 1)
        if latest is None:
            return None
        return DeltaOffset(latest, 0, snapshot=True)

    def next_slice(self, start: DeltaOffset | None) -> DeltaSlice | None:
        """The files after `start`, within the batch limits; None when there is nothing new
        (not even a commit without data to step over)."""
        start = start or self.initial_offset()
        if start is None:
            return None
        budget = _Budget(self.options.max_files, self.options.max_bytes)
        files: list[DataFile] = []
        versions: list[int] = []
        end: DeltaOffset | None = None
        for data_file, offset, version in self._positions(start):
            if data_file is not None:
                if budget.exhausted:
                    break
                budget.add(data_file)
                files.append(data_file)
                versions.append(version)
            end = offset
        if end is None:
            return None
        return DeltaSlice(tuple(files), end, (versions[0], versions[-1]) if versions else None)

    def slice_between(self, start: DeltaOffset | None, end: DeltaOffset) -> DeltaSlice:
        """The files of a batch already planned (its offsets recorded), listed again."""
        start = start or self.initial_offset()
        files: list[DataFile] = []
        versions: list[int] = []
        if start is not None and start != end:
            for data_file, offset, version in self._positions(start):
                if data_file is not None:
                    files.append(data_file)
                    versions.append(version)
                if offset == end:
                    break
            else:
                raise LakesmithError(
                    f"The checkpoint of a stream over '{self.display_name}' names offset {end}, "
                    f"which the table at {self.root} does not reach.",
                    hint="the source table was replaced; run --full-refresh on the streaming table.")
        return DeltaSlice(tuple(files), end, (versions[0], versions[-1]) if versions else None)

    def _positions(self, start: DeltaOffset) -> Iterator[tuple[DataFile | None, DeltaOffset, int]]:
        """Each file after `start`, with the offset just after it and its table version; for a
        commit that adds nothing to read, one `None` with the offset after that commit."""
        latest = latest_version(self.root)
        if latest is None:
            return
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
        while version <= latest:
            adds = self._readable_adds(read_commit(self.root, version))
            for i in range(index, len(adds)):
                last = i + 1 == len(adds)
                yield adds[i], DeltaOffset(version) if last else DeltaOffset(version - 1, i + 1), version
            if index >= len(adds):
                yield None, DeltaOffset(version), version
            version, index = version + 1, 0

    def _readable_adds(self, commit: Commit) -> list[DataFile]:
        if not commit.changes_existing_data:
            return list(commit.adds)
        if self.options.skip_change_commits:
            return []
        raise self._change_commit_error(commit.version, commit.removes[0].path)

    def table_id(self) -> str | None:
        return table_id(self.root) if latest_version(self.root) is not None else None

    def _change_commit_error(self, version: int, example_file: str) -> LakesmithError:
        return LakesmithError(
            f"[DELTA_SOURCE_TABLE_IGNORE_CHANGES] Detected a data update (for example "
            f"{example_file}) in the source table at version {version}. This is currently not "
            "supported. If this is going to happen regularly and you are okay to skip changes, set "
            "the option 'skipChangeCommits' to 'true'. If you would like the data update to be "
            "reflected, please restart this query with a fresh checkpoint directory or do a full "
            f"refresh. The source table '{self.display_name}' can be found at path {self.root}.",
            hint="read the source with .option('skipChangeCommits', 'true') to ignore commits that "
            "update or delete rows, or run --full-refresh on the streaming table.")

    # -- reading -------------------------------------------------------------------------------

    def slice_dataframe(self, spark: Any, files: tuple[DataFile, ...]) -> Any:
        """A DataFrame over exactly these files, with the table's current schema; partition
        values come from the log (the engine does not read them from the paths)."""
        from deltalake import DeltaTable
        from pyspark.sql.connect import functions as F

        table = DeltaTable(str(self.root))
        metadata = table.metadata()
        mode = metadata.configuration.get("delta.columnMapping.mode", "none")
        if mode != "none":
            raise NotSupportedYet(
                f"streaming read of '{self.display_name}': Delta column mapping "
                f"(delta.columnMapping.mode={mode}) is not supported yet.")
        schema = StructType.fromJson(json.loads(table.schema().to_json()))
        partition_columns = list(metadata.partition_columns)
        if not files:
            return spark.read.format("delta").load(str(self.root)).where("false")
        if any(f.has_deletion_vector for f in files):
            raise NotSupportedYet(
                f"streaming read of '{self.display_name}': files with deletion vectors are not "
                "supported yet.")
        data_schema = StructType([f for f in schema.fields if f.name not in partition_columns])
        groups: dict[tuple[tuple[str, str | None], ...], list[str]] = {}
        for data_file in files:
            groups.setdefault(data_file.partition_values, []).append(data_file.absolute(self.root))
        frames = []
        for values, paths in groups.items():
            frame = spark.read.schema(ddl_of(data_schema)).parquet(*paths)
            by_name = dict(values)
            for field in schema.fields:
                if field.name in partition_columns:
                    frame = frame.withColumn(
                        field.name, F.lit(by_name.get(field.name)).cast(field.dataType))
            frames.append(frame.select(*[F.col(f"`{f.name}`") for f in schema.fields]))
        result = frames[0]
        for frame in frames[1:]:
            result = result.unionByName(frame)
        return result


def ddl_of(schema: StructType) -> str:
    """A DDL string for a schema (Sail reads DDL schemas, not JSON ones)."""
    return ", ".join(
        f"`{f.name.replace('`', '``')}` {f.dataType.simpleString()}"
        + ("" if f.nullable else " NOT NULL") for f in schema.fields)


class _Budget:
    """Admission control for one batch: at most max_files files and (soft) max_bytes bytes."""

    def __init__(self, max_files: int | None, max_bytes: int | None) -> None:
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.files = 0
        self.bytes = 0

    @property
    def exhausted(self) -> bool:
        if self.max_files is not None and self.files >= self.max_files:
            return True
        return self.max_bytes is not None and self.bytes >= self.max_bytes

    def add(self, data_file: DataFile) -> None:
        self.files += 1
        self.bytes += data_file.size


def _positive_int(value: str | None, name: str, where: str, *, allow_zero: bool = False) -> int | None:
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if number < 0 or (number == 0 and not allow_zero):
        raise LakesmithError(f"{where}: option {name} must be a positive integer, got {value!r}.")
    return number


_UNITS = {"b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def _bytes(value: str | None, where: str) -> int | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    digits = text.rstrip("bkmg")
    unit = text[len(digits):] or "b"
    if not digits.isdigit() or unit not in _UNITS or int(digits) <= 0:
        raise LakesmithError(
            f"{where}: option maxBytesPerTrigger must be a size such as 10485760, 10m or 1g, got "
            f"{value!r}.")
    return int(digits) * _UNITS[unit]
