"""A batch's intermediate result computed once: written to a scratch Delta table in the flow's
checkpoint, then read back by every step that needs it (the count of what a MERGE will do, the
MERGE itself, which reads its source more than once, and a state write).

A scratch is no protocol write: nothing decides from it whether a batch landed, and every run of
a batch (the first, or a rerun after a crash at any point) writes it again from what that run
computes, before anything reads it. So the steps of one run see the same rows, and a scratch left
by a crashed run is never read. Only its newest version is ever read, so the files earlier
versions wrote are deleted at once (otherwise every batch's result would stay on disk): the files
the new version's commit removes, read from that one commit; every `FULL_SWEEP_EVERY` versions
also any file no commit names (a crashed or failed write's), by listing the whole table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from lakesmith.engine.paths import engine_path
from lakesmith.files import store_for
from lakesmith.locations import Location
from lakesmith.tables.delta import DeltaLog, open_table, stats_row_count
from lakesmith.tables.delta_log import removed_paths

logger = logging.getLogger("lakesmith")

# The folder names of scratches written as plain Parquet files (`materialize_files`) start with
# this: no Delta log to load ahead (`runtime/flows/warm_state.py`).
FILES_PREFIX = "scratch-files-"
# Every this many versions a scratch is swept whole (`drop_replaced_files`): a listing of its
# folder and a dry-run vacuum, 15-70 ms on the batch's path; the versions between delete only the
# files their own commit replaced (one small read of the commit).
FULL_SWEEP_EVERY = 10


@dataclass(frozen=True)
class Scratch:
    """A scratch table just written: a read of it, and its rows from the log's statistics (None
    when a file has none; then count with the engine); when it is partitioned, its rows by
    partition values (in `partition_by`'s order) too."""

    rows: Any
    count: int | None
    partitions: dict[tuple[Any, ...], int] | None = None


def materialize(plan: Any, scratch: Location, *, partition_by: Sequence[str] = (),
                log: DeltaLog | None = None) -> Any:
    """Run `plan` once into the scratch table at `scratch` and return a read of it (no counts:
    reading the add actions' statistics costs a few milliseconds of the batch's path)."""
    return _write(plan, scratch, partition_by, log)[0]


def materialize_counted(plan: Any, scratch: Location, *, partition_by: Sequence[str] = (),
                        log: DeltaLog | None = None) -> Scratch:
    """`materialize`, with the rows written counted from the new version's add actions: the
    log is read once for the counts and the removal of the replaced files, no engine query.
    `log`: the scratch's log as the update keeps it loaded (advanced by the new commit, not
    loaded afresh: a scratch's log grows by a commit per batch)."""
    rows, table = _write(plan, scratch, partition_by, log)
    count = stats_row_count(table) if table is not None else None
    partitions = partition_rows(table, partition_by) if table is not None and partition_by \
        else None
    return Scratch(rows, count, partitions)


def _write(plan: Any, scratch: Location, partition_by: Sequence[str],
           log: DeltaLog | None) -> tuple[Any, Any | None]:
    """Overwrite the scratch with `plan`'s rows, drop the files it replaced; a read of it, and
    the table at its new version."""
    path = engine_path(scratch)
    writer = plan.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)
    table = log.table() if log is not None else open_table(scratch)
    drop_overwritten_files(scratch, table)
    return plan.sparkSession.read.format("delta").load(path), table


# A scratch's files are read once, whole: no compression, no dictionaries (most of a batch's
# columns are near unique: built, then dropped), no statistics (nothing prunes them). Each saves
# ~0.005 CPU seconds on the medallion's +5 % batch.
_FILES_OPTIONS = {"compression": "uncompressed", "dictionaryEnabled": "false",
                  "statisticsEnabled": "none"}


def materialize_files(plan: Any, scratch: Location, schema: Any) -> Any:
    """Run `plan` (rows of `schema`) once into plain Parquet files at `scratch` (its folder's
    name starts with `FILES_PREFIX`; what was there is deleted by the engine's overwrite) and
    return a read of them: for a small result that the same batch reads right after, and never
    again. No Delta log (a log to load and advance, a commit, replaced files to drop), written
    for speed (`_FILES_OPTIONS`): on the medallion's +5 % batch this writes and reads back in
    0.01-0.03 CPU seconds less than a scratch Delta table. A crashed write's files are replaced
    by the rerun's, which writes before anything reads. No rows write no file (engine-gaps.md):
    then the read is an empty one of `schema`; otherwise the files' own schema, as written."""
    path = engine_path(scratch)
    plan.write.mode("overwrite").options(**_FILES_OPTIONS).parquet(path)
    reader = plan.sparkSession.read
    if not any(entry.name.endswith(".parquet") for entry in store_for(scratch).list(scratch)):
        reader = reader.schema(schema)
    return reader.parquet(path)


def count_and_tidy(location: Location) -> int | None:
    """The rows of the table's newest version (from statistics), then its replaced files
    dropped (`drop_replaced_files`)."""
    table = open_table(location)
    count = stats_row_count(table) if table is not None else None
    drop_replaced_files(location, table)
    return count


def partition_rows(table: Any, columns: Sequence[str]) -> dict[tuple[Any, ...], int] | None:
    """The rows of the table's version by the values of its partition `columns`, from its add
    actions (None when a file has no statistics)."""
    actions = pa.table(table.get_add_actions(flatten=True))
    if actions.num_rows == 0:
        return {}
    names = [f"partition.{c}" for c in columns]
    if "num_records" not in actions.column_names or \
            any(n not in actions.column_names for n in names):
        return None
    found: dict[tuple[Any, ...], int] = {}
    for rows, *values in zip(actions.column("num_records").to_pylist(),
                             *(actions.column(n).to_pylist() for n in names), strict=True):
        if rows is None:
            return None
        found[tuple(values)] = found.get(tuple(values), 0) + int(rows)
    return found


def drop_overwritten_files(location: Location, table: Any | None) -> None:
    """Delete the files of the scratch at `location` that its newest version (`table`, an
    overwrite) replaced: those its commit removes; every `FULL_SWEEP_EVERY` versions, any file
    the version does not use (`drop_replaced_files`). A failure only warns."""
    if table is None:
        return
    version = table.version()
    if version % FULL_SWEEP_EVERY == 0:
        drop_replaced_files(location, table)
        return
    try:
        removed = removed_paths(location, version)
    except Exception as e:  # reported; the files are removed by a later sweep
        logger.warning("Removing replaced files of the table at %s failed: %s", location, e)
        return
    store_for(location).discard_files([location.join(path) for path in removed])


def drop_replaced_files(location: Location, table: Any | None = None) -> None:
    """Delete the files of the table at `location` that its current version no longer uses,
    without waiting for the retention: for tables only lakesmith reads, and only at their newest
    version (a scratch, a flow's state). A failure only warns: nothing depends on it. `table`:
    the table already opened at its newest version.

    delta-rs lists them (a full vacuum's dry run: replaced files and files no commit names, such
    as a failed write's); lakesmith deletes them, off the batch's path (`discard_files`: no
    writer names a file again, so a later batch cannot meet one being deleted). A vacuum that
    deletes them itself also commits "VACUUM START" and "VACUUM END" to the table's log: two
    commits per batch on the critical path (10-15 ms), and a log three times as long to open."""
    try:
        table = table if table is not None else open_table(location)
        if table is not None:
            unused = table.vacuum(retention_hours=0, dry_run=True,
                                  enforce_retention_duration=False, full=True)
            store_for(location).discard_files([location.join(path) for path in unused])
    except Exception as e:  # reported; the files are removed by a later vacuum
        logger.warning("Removing replaced files of the table at %s failed: %s", location, e)
