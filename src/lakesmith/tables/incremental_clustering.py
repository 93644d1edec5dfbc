"""Incremental liquid clustering: rewrite only the files not clustered yet, in the engine.

delta-rs can only Z-order a whole table (or partition). Once a table is clustered, new appends
add a few unclustered files; rewriting everything each time costs the whole table. Here the
engine reads just those files, orders their rows along a Z-order curve over the clustering columns
(each column's rank among these rows, in 10-bit buckets, bits interleaved), and writes files of
about the target size, each covering a small box of the clustering columns' values; one Delta
commit then adds them and removes the files they replace, both with `dataChange=false` (a
rearrangement: streams skip it). Already clustered files are left alone.

Used for local tables without deletion vectors or column mapping (the engine reads the Parquet
files as they are, and the new files' statistics come from their footers); otherwise OPTIMIZE
re-clusters the whole table with delta-rs.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import time
import uuid
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable
from deltalake.transaction import AddAction, RemoveAction

from lakesmith.engine.paths import engine_path
from lakesmith.locations import Location
from lakesmith.tables import clustering

BUCKET_BITS = 10
DEFAULT_TARGET_FILE_SIZE = 100 * 1024 * 1024  # delta-rs' OPTIMIZE default


def supported(location: Location, table: DeltaTable) -> bool:
    """Whether the files can be read as plain Parquet and their footers read locally."""
    configuration = table.metadata().configuration
    if not location.is_local or table.metadata().partition_columns:
        return False
    if (configuration.get("delta.columnMapping.mode") or "none") != "none":
        return False
    actions = pa.table(table.get_add_actions(flatten=True))
    return not any(name.startswith("deletionVector") for name in actions.column_names)


def cluster(spark: Any, location: Location, table: DeltaTable, files: Sequence[str],
            columns: Sequence[str], target_size: int | None = None) -> dict[str, Any]:
    """Rewrite `files` (relative paths) clustered by `columns`; returns OPTIMIZE's metrics."""
    sizes = dict(zip(*(pa.table(table.get_add_actions(flatten=True)).column(c).to_pylist()
                       for c in ("path", "size_bytes")), strict=True))
    removed_bytes = [int(sizes[f]) for f in files]
    target = target_size or int(table.metadata().configuration.get("delta.targetFileSize")
                                or DEFAULT_TARGET_FILE_SIZE)
    count = max(1, math.ceil(sum(removed_bytes) / target))
    folder = location.join(f"clustered-{uuid.uuid4().hex}")
    rows = spark.read.parquet(*(engine_path(location.join(f)) for f in files))
    fields = rows.columns
    ranked = rows.selectExpr("*", *(
        f"ntile({1 << BUCKET_BITS}) OVER (ORDER BY {_quote(c)}) - 1 AS __lakesmith_r{i}"
        for i, c in enumerate(columns)))
    keyed = ranked.selectExpr(*(_quote(f) for f in fields),
                              f"{_z_value(len(columns))} AS __lakesmith_z")
    _write_ranges(spark, keyed, count, folder)
    written = sorted(p for p in folder.local_path.glob("*.parquet"))
    indexed = clustering.indexed_columns(table, [f.name for f in table.schema().fields])
    now = int(time.time() * 1000)
    adds = [AddAction(path=f"{folder.name}/{p.name}", size=p.stat().st_size,
                      partition_values={}, modification_time=now, data_change=False,
                      stats=json.dumps(_stats(p, indexed))) for p in written]
    removes = [RemoveAction(path=f, data_change=False, deletion_timestamp=now,
                            size=int(sizes[f]), partition_values={}) for f in files]
    table.create_write_transaction(
        [*adds, *removes], mode="append", schema=table.schema(),
        commit_properties=CommitProperties(custom_metadata={
            clustering.CLUSTERED_BY_COMMIT_KEY: json.dumps(list(columns)),
            "operationParameters": {"clusterBy": json.dumps(list(columns)),
                                    "incrementalClustering": "true"}}))
    added_bytes = [a.size for a in adds]
    return {"numFilesAdded": len(adds), "numFilesRemoved": len(removes),
            "filesAdded": json.dumps(_file_stats(added_bytes)),
            "filesRemoved": json.dumps(_file_stats(removed_bytes)),
            "partitionsOptimized": 1, "numBatches": 1,
            "totalConsideredFiles": len(sizes), "totalFilesSkipped": len(sizes) - len(files),
            "preserveInsertionOrder": False}


def _write_ranges(spark: Any, keyed: Any, count: int, folder: Location) -> None:
    """`count` files of consecutive Z-order key ranges, each sorted by the key. The engine's
    `repartitionByRange` does not partition by range, so each range is numbered (`ntile`),
    staged once, and written by itself; and its writer spreads one partition's batches over
    several files unless the plan ends in a single partition (`orderBy` then `coalesce(1)`)."""
    if count == 1:
        (keyed.orderBy("__lakesmith_z").coalesce(1).drop("__lakesmith_z")
         .write.mode("append").parquet(engine_path(folder)))
        return
    staging = folder.parent.join(f"_{folder.name}-staging")
    (keyed.selectExpr("*", f"ntile({count}) OVER (ORDER BY __lakesmith_z) AS __lakesmith_p")
     .write.mode("overwrite").parquet(engine_path(staging)))
    try:
        staged = spark.read.parquet(engine_path(staging))
        for part in range(1, count + 1):
            (staged.where(f"__lakesmith_p = {part}").orderBy("__lakesmith_z").coalesce(1)
             .drop("__lakesmith_z", "__lakesmith_p")
             .write.mode("append").parquet(engine_path(folder)))
    finally:
        shutil.rmtree(staging.local_path, ignore_errors=True)


def _z_value(columns: int) -> str:
    """SQL interleaving the bits of the rank columns `__lakesmith_r0..`: a Z-order key."""
    terms = [f"shiftleft(shiftright(__lakesmith_r{i}, {bit}) & 1, {bit * columns + i})"
             for bit in range(BUCKET_BITS) for i in range(columns)]
    return "(" + " | ".join(terms) + ")"


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _file_stats(sizes: Sequence[int]) -> dict[str, Any]:
    if not sizes:
        return {"min": 0, "max": 0, "avg": 0.0, "totalFiles": 0, "totalSize": 0}
    return {"min": min(sizes), "max": max(sizes), "avg": sum(sizes) / len(sizes),
            "totalFiles": len(sizes), "totalSize": sum(sizes)}


def _stats(path: Any, indexed: set[str]) -> dict[str, Any]:
    """Delta file statistics from a Parquet footer: row count, and per indexed top-level column
    its null count and (for numbers, strings and dates) min and max. Truncated string bounds
    stay bounds (the Parquet writer rounds a truncated maximum up)."""
    import pyarrow.parquet as pq  # (only clustering reads footers: every run imports this module)

    metadata = pq.read_metadata(path)
    stats: dict[str, Any] = {"numRecords": metadata.num_rows, "minValues": {},
                             "maxValues": {}, "nullCount": {}}
    for index in range(metadata.num_columns):
        name = metadata.schema.column(index).path
        if "." in name or name not in indexed:
            continue
        groups = [metadata.row_group(g).column(index).statistics
                  for g in range(metadata.num_row_groups)]
        if any(s is None for s in groups):
            continue
        stats["nullCount"][name] = sum(s.null_count for s in groups)
        with_values = [s for s in groups if s.has_min_max]
        lows = [_json_value(s.min) for s in with_values]
        highs = [_json_value(s.max) for s in with_values]
        if with_values and None not in lows and None not in highs:
            stats["minValues"][name] = min(lows)
            stats["maxValues"][name] = max(highs)
    return stats


def _json_value(value: Any) -> Any:
    """A statistics value as Delta writes it in JSON; None when Delta keeps no min/max for it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) or isinstance(value, str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dt.datetime):
        # Delta keeps milliseconds: a truncated maximum would exclude the file wrongly.
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return None
