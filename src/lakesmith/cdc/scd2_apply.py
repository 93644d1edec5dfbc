"""How one SCD type 2 batch's changes reach the target, in one commit whichever way.

The changes (`Scd2Batch.changes`) are rows to upsert (OP "U") and target rows to delete (OP
"D"), each a version of a key named by the keys and `__START_AT`. They are applied as:

- an **append** of the upserted rows, when every one opens a new version and nothing is deleted
  (a batch of new keys only: no target row changes);
- a **rewrite** of the whole table by one overwrite, when the target is small (at most
  REWRITE_BYTES, and it has exactly the flow's columns): its rows but those the changes replace
  or delete, plus the upserted rows. The table keeps its schema, partitioning and properties
  (the engine writes no metadata action for an overwrite without `overwriteSchema`);
- otherwise the **MERGE** (`scd2.merge_sql`), which rewrites only the files it touches.

Why not always the MERGE: Sail's MERGE (0.7) joins the whole target with its source once for
each branch of its plan (the rows it writes, the files those touch, the files it removes), so it
costs about three rewrites of the table. Measured on 2 cores with 7,735 changed rows: into a
50,000-row target (one 1.3 MB file) the MERGE took 0.12-0.16 s and the rewrite 0.04-0.05 s; into
500,000 rows in 10 files where the MERGE rewrote one file, 0.5-0.65 s against 0.2-0.35 s for
rewriting all ten; into 2M rows in 40 files (50 MB), 1.1 s against 0.85-0.95 s. Past a few tens
of MB the MERGE's writing only the files it touches wins.

Each way is idempotent as the MERGE is (`cdc/scd2.py`): once the commit landed, a rerun of the
batch finds the target equal to the history and writes nothing. The append and the rewrite carry
the batch's marker; a MERGE cannot (docs/engine-gaps.md).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType, StructType

from lakesmith.cdc.scd2 import OP, merge_sql
from lakesmith.cdc.spec import END_AT, START_AT, CdcSpec
from lakesmith.locations import Location
from lakesmith.tables.catalog import quote_always
from lakesmith.tables.writes import replace_rows, write_delta

# The largest target (bytes of its files) a batch rewrites whole rather than MERGEs into.
REWRITE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    """The table a batch applies its changes to."""

    rows: Any  # a read of it by the engine
    table: Any  # its delta-rs table at the newest version
    size_bytes: int  # of its files
    location: Location
    engine_name: str  # for the MERGE


def apply_changes(spec: CdcSpec, changes: Any, counted: dict[str, int], target: Target,
                  marker: str) -> None:
    """Apply `changes` (a read of the computed changes), counted as `counted` (`scd2.counts`),
    to `target`; `marker` is the batch's."""
    if not counted["num_upserted_rows"] and not counted["num_deleted_rows"]:
        return
    types = _types(target.table)
    names = [*spec.columns, START_AT, END_AT]
    exact = types is not None and sorted(types) == sorted(c.lower() for c in names)
    if exact and counted["num_deleted_rows"] == 0 and \
            counted["num_upserted_rows"] == counted["num_versions_opened"]:
        write_delta(upserted(changes, names, types), target.location, mode="append",
                    user_metadata=marker, columns=names)
        return
    if exact and target.size_bytes <= REWRITE_BYTES:
        replace_rows(rewritten(spec, target.rows, changes, names, types), target.location,
                     user_metadata=marker)
        return
    spark = changes.sparkSession
    view = f"__lakesmith_cdc_{uuid.uuid4().hex}"  # the MERGE's source, named
    changes.createOrReplaceTempView(view)
    try:
        spark.sql(merge_sql(spec, target.engine_name, view))
    finally:
        spark.catalog.dropTempView(view)


def upserted(changes: Any, names: list[str], types: dict[str, DataType] | None) -> Any:
    """The rows the changes insert or update, as the target holds them (its types: the MERGE
    casts them too)."""
    rows = changes.where(F.col(OP) == "U")
    return rows.select(*[
        (F.col(quote_always(c)).cast(types[c.lower()]) if types else F.col(quote_always(c)))
        .alias(c) for c in names])


def rewritten(spec: CdcSpec, target: Any, changes: Any, names: list[str],
              types: dict[str, DataType] | None) -> Any:
    """The target after the changes: its rows that no change names (by keys and __START_AT),
    and the upserted rows."""
    named = changes.select(*[F.col(quote_always(c)) for c in [*spec.keys, START_AT]])
    kept = target.join(named, [*spec.keys, START_AT], "left_anti") \
        .select(*[F.col(quote_always(c)) for c in names])
    return kept.unionByName(upserted(changes, names, types))


def _types(table: Any) -> dict[str, DataType] | None:
    """The target's column types by lower-case name, from its log (no engine request)."""
    if table is None:
        return None
    schema = StructType.fromJson(json.loads(table.schema().to_json()))
    return {f.name.lower(): f.dataType for f in schema.fields}
