"""AUTO CDC from snapshots, SCD type 1 (type 2: `cdc/snapshot_scd2.py`): a snapshot turned into
the change events that make the target equal to it, for the SCD type 1 machinery (`cdc/scd1.py`)
to reduce and MERGE.

The events are the difference between the snapshot and the target, computed in the engine: an
upsert for each snapshot row the target does not hold exactly (a new key, or changed values), a
delete for each target key the snapshot lacks; all sequenced by the snapshot's version (the
snapshots' versions increase, so every event is newer than anything applied before).

Why against the target and not against the previous snapshot: the difference with the target is
what the MERGE must do whatever happened before, so applying a snapshot twice (a rerun after a
crash after the MERGE) finds no difference and changes nothing, and no per-key state is needed
(the MERGE cannot carry a marker; being idempotent by construction is what makes it safe).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.cdc.scd1 import Scd1Batch, batch_rows, check_rows
from lakesmith.cdc.spec import (
    END_AT,
    PREFIX,
    START_AT,
    CdcSpec,
    cast_to,
    column_name,
    tracked_columns,
)
from lakesmith.errors import LakesmithError
from lakesmith.graph.flows import AutoCdcSnapshotFlow
from lakesmith.tables.catalog import quote_always

VERSION = PREFIX + "snapshot_version"
DELETE = PREFIX + "snapshot_delete"


def snapshot_spec(flow: AutoCdcSnapshotFlow, snapshot: Any) -> CdcSpec:
    """The flow over a snapshot's columns: its keys, and the target's columns (all of them)."""
    where = f"AUTO CDC flow '{flow.name}'"
    columns = [str(c) for c in snapshot.columns]
    by_name = {c.lower(): c for c in columns}
    clashing = [c for c in columns if c.lower().startswith(PREFIX)]
    if clashing:
        raise LakesmithError(f"{where}: the snapshot has column '{clashing[0]}'; columns starting "
                             f"with '{PREFIX}' are reserved for lakesmith.")
    keys = []
    for value in flow.keys:
        name = column_name(value, where, "key")
        found = by_name.get(name.lower())
        if found is None:
            raise LakesmithError(f"{where}: key '{name}' is not a column of the snapshot (its "
                                 f"columns: {', '.join(columns)}).")
        keys.append(found)
    history = [c for c in columns if c.upper() in (START_AT, END_AT)]
    if flow.stored_as_scd_type == 2 and history:
        raise LakesmithError(
            f"{where}: the snapshot has column '{history[0]}', which an SCD type 2 target adds "
            "itself; rename it in the snapshot or leave it out.")
    tracked = (tracked_columns(flow, tuple(keys), columns, where)
               if flow.stored_as_scd_type == 2 else ())
    return CdcSpec(flow=flow.name, keys=tuple(keys), columns=tuple(columns),
                   sequence=F.col(VERSION), sequence_fields=("",), deletes=F.col(DELETE),
                   truncates=None, ignore_null_updates=False, scd_type=flow.stored_as_scd_type,
                   tracked=tracked)


@dataclass
class SnapshotDiff:
    """One snapshot against the target; nothing runs until a writer asks for its DataFrames."""

    spec: CdcSpec
    snapshot: Any  # the snapshot, the target's columns, cast to the target's types
    target: Any  # the target table
    version: Any

    def events(self) -> Any:
        """Upserts of new or changed rows, deletes of keys the snapshot lacks."""
        spec = self.spec
        columns = [F.col(quote_always(c)) for c in spec.columns]
        current = self.target.select(*columns)
        upserts = self.snapshot.select(*columns).subtract(current)
        keys = [F.col(quote_always(k)) for k in spec.keys]
        types = {f.name: f.dataType for f in self.snapshot.schema.fields}
        gone = current.select(*keys).join(self.snapshot.select(*keys), list(spec.keys),
                                          "left_anti")
        deletes = gone.select(*keys, *[F.lit(None).cast(types[c]).alias(c)
                                       for c in spec.values], F.lit(True).alias(DELETE))
        return upserts.withColumn(DELETE, F.lit(False)).unionByName(deletes) \
            .withColumn(VERSION, F.lit(self.version))

    def batch(self, source_name: str, timestamp_ms: int) -> Scd1Batch:
        """The SCD type 1 batch of the events (no state: every event is newer than the target;
        a NULL key fails here, before anything is recorded)."""
        rows = batch_rows(self.spec, self.events())
        check_rows(self.spec, rows, source_name)
        return Scd1Batch(self.spec, rows, None, None, False, timestamp_ms, 0)


def conform(spec: CdcSpec, snapshot: Any, target: Any, source_name: str) -> Any:
    """The snapshot with the target's columns in its types; a snapshot that lacks a column of
    the target, or has one it lacks, or repeats a key, is refused naming the flow."""
    where = f"AUTO CDC flow '{spec.flow}'"
    have = {c.lower() for c in snapshot.columns}
    want = {c.lower() for c in target.columns}
    if have != want:
        missing = sorted(want - have)
        extra = sorted(have - want)
        raise LakesmithError(
            f"{where}: the snapshot from {source_name} has other columns than the target "
            f"(missing: {', '.join(missing) or 'none'}; new: {', '.join(extra) or 'none'}).",
            hint="a snapshot flow keeps the columns its target was created with; change the "
                 "snapshot back, or run a full refresh of the target.")
    keys = [F.col(quote_always(k)) for k in spec.keys]
    repeated = snapshot.groupBy(*keys).count().where(F.col("count") > 1).limit(1).collect()
    if repeated:
        sample = {k: repeated[0][k] for k in spec.keys}
        raise LakesmithError(
            f"{where}: the snapshot from {source_name} has more than one row with key {sample}; "
            "a snapshot holds one row per key. Nothing of it was applied.",
            hint="deduplicate the snapshot (or add the column that tells the rows apart to "
                 "keys), then run again.")
    return cast_to(snapshot.select(*[F.col(quote_always(c)) for c in spec.columns]),
                   target.schema)
