"""What a table gained since a version, when all it did was gain rows: the commits after that
version only added files (`dataChange` adds; commits that only rearrange files, such as OPTIMIZE,
change no data). A commit that removed data (a DELETE, UPDATE, MERGE, overwrite, an SCD type 2
target closing versions), a schema change, a table replaced, or a log or data file no longer
there (vacuumed) is an issue: the refresh then recomputes.

The rows themselves are read by the Delta stream source (`sources/delta.py`), the same reader
streaming tables use, over exactly the files those commits added."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pyspark.sql.types import StructType

from lakesmith.files import store_for
from lakesmith.runtime.refresh.planning import Issue
from lakesmith.sources.base import SourceSlice
from lakesmith.sources.delta import DeltaOffset, DeltaStreamSource, StreamOptions
from lakesmith.tables.delta import DeltaLog
from lakesmith.tables.delta_log import DataFile, DeltaLogError, commits_after

NOT_APPEND_ONLY = "CHANGES_NOT_APPEND_ONLY"
SCHEMA_CHANGED = "SOURCE_SCHEMA_CHANGED"
UNAVAILABLE = "CHANGES_UNAVAILABLE"


@dataclass(frozen=True)
class Appended:
    """The rows a table gained between two versions, as a slice of its Delta stream."""

    source: DeltaStreamSource
    rows: SourceSlice
    start: int
    end: int

    @property
    def files(self) -> tuple[DataFile, ...]:
        return tuple(self.rows.content or ())

    def dataframe(self, spark: Any) -> Any:
        return self.source.dataframe(spark, self.rows)

    def schema(self) -> StructType:
        """The rows' columns: the table's schema now (its Delta log), which they are read
        with."""
        table = self.source.log.table()
        assert table is not None  # it had commits to read
        return StructType.fromJson(json.loads(table.schema().to_json()))


def schema_signature(log: DeltaLog) -> str | None:
    """The table's schema, partition columns and column mapping, hashed: rows appended under
    the same signature read as the rows already aggregated."""
    table = log.table()
    if table is None:
        return None
    metadata = table.metadata()
    return hashlib.sha256(json.dumps([
        table.schema().to_json(), list(metadata.partition_columns),
        metadata.configuration.get("delta.columnMapping.mode", "none")]).encode()).hexdigest()


def appended_since(log: DeltaLog, key: str, name: str, start: int, end: int,
                   schema: str | None) -> Appended | Issue:
    """The rows `log`'s table gained from version `start` to `end`, or why they cannot be
    told from its log."""
    if end < start:
        return Issue(UNAVAILABLE, f"'{name}' is at version {end}, older than the version "
                     f"{start} the view was refreshed from", {"table_name": name})
    if schema is None or schema != schema_signature(log):
        return Issue(SCHEMA_CHANGED, f"the schema of '{name}' changed since the last refresh",
                     {"table_name": name})
    table = log.table()
    if table is not None and \
            table.metadata().configuration.get("delta.columnMapping.mode", "none") != "none":
        return Issue(UNAVAILABLE, f"'{name}' uses Delta column mapping, which lakesmith's "
                     "reader of added files does not read yet", {"table_name": name})
    try:
        commits = commits_after(log.location, start, end)
    except DeltaLogError:
        return Issue(UNAVAILABLE, f"the log of '{name}' no longer holds the versions since "
                     f"{start}", {"table_name": name})
    for commit in commits:
        if commit.changes_existing_data:
            return Issue(NOT_APPEND_ONLY, f"'{name}' had rows removed or rewritten at version "
                         f"{commit.version} ({commit.operation or 'a write'})",
                         {"table_name": name, "version": commit.version,
                          "operation": commit.operation})
    source = DeltaStreamSource(key, log, StreamOptions.parse({}, name), name)
    rows = source.slice_between(DeltaOffset(start), DeltaOffset(end))
    for data_file in rows.content or ():
        location = data_file.location(log.location)
        if data_file.has_deletion_vector or not store_for(location).exists(location):
            return Issue(UNAVAILABLE, f"the data file {data_file.path} that '{name}' added "
                         "since the last refresh is no longer readable as added",
                         {"table_name": name})
    return Appended(source, rows, start, end)
