"""AUTO CDC from snapshots stored as SCD type 2: a snapshot compared with the target's open
versions (`__END_AT` NULL), in the engine, gives the rows of one MERGE (`cdc/scd2.py`'s, matched
on the keys and `__START_AT`):

- a key new to the target (or deleted before): a version opens at the snapshot's version;
- a key whose tracked columns changed: its open version closes at the snapshot's version (its
  `__END_AT` is set) and a new one opens there;
- a key whose only changes are in untracked columns (`track_history_*`): its open version takes
  the new values in place;
- a key the snapshot lacks: its open version closes at the snapshot's version.

Snapshot versions increase, so every version opened starts after the one it closes and no
history before the open versions ever changes: the open versions are all the state a snapshot
needs (no event state, unlike SCD type 2 from changes).

Idempotence (the MERGE carries no marker): once the MERGE of snapshot v landed, the target's open
versions equal the snapshot (the keys it lacks have none), so comparing the same snapshot again
finds no row to merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.cdc.scd2 import CLOSED, OLD, OP, OPENED
from lakesmith.cdc.spec import END_AT, PREFIX, START_AT, CdcSpec
from lakesmith.tables.catalog import quote_always

IN_SNAPSHOT = PREFIX + "in_snapshot"


@dataclass
class Scd2SnapshotDiff:
    """One snapshot against the target's open versions; nothing runs until the MERGE asks."""

    spec: CdcSpec  # the snapshot's keys and columns; `tracked`: the columns that open versions
    snapshot: Any  # the target's columns (without the history columns), in the target's types
    target: Any  # the target table
    version: Any

    def merge_source(self) -> Any:
        """The rows of the MERGE: closes (`__END_AT` set), opens, and in-place updates, with OP,
        OPENED and CLOSED as `cdc/scd2.py`'s `counts` and `merge_sql` read them."""
        spec = self.spec
        names = [*spec.keys, *spec.values, START_AT, END_AT]
        history_type = {f.name: f.dataType for f in self.target.schema.fields}[START_AT]
        version = F.lit(self.version).cast(history_type)
        current = self.target.where(F.col(END_AT).isNull()).select(
            *[F.col(quote_always(c)).alias(OLD + c) for c in names])
        snapshot = self.snapshot.select(*[F.col(quote_always(c)) for c in spec.columns],
                                        F.lit(True).alias(IN_SNAPSHOT))
        on = [F.col(quote_always(k)) == F.col(quote_always(OLD + k)) for k in spec.keys]
        condition = on[0]
        for part in on[1:]:
            condition = condition & part
        joined = snapshot.join(current, condition, "full_outer")
        in_snapshot = F.col(IN_SNAPSHOT).isNotNull()
        is_open = F.col(quote_always(OLD + START_AT)).isNotNull()
        tracked_changed = _differs(spec.tracked)
        any_changed = _differs(spec.values)
        closes = is_open & (~in_snapshot | tracked_changed)
        opens = in_snapshot & (~is_open | tracked_changed)
        in_place = in_snapshot & is_open & ~tracked_changed & any_changed
        old = [F.col(quote_always(OLD + c)).alias(c) for c in [*spec.keys, *spec.values]]
        new = [F.col(quote_always(c)) for c in [*spec.keys, *spec.values]]
        closed = joined.where(closes).select(
            *old, F.col(quote_always(OLD + START_AT)).alias(START_AT), version.alias(END_AT),
            F.lit(False).alias(OPENED), F.lit(True).alias(CLOSED))
        opened = joined.where(opens).select(
            *new, version.alias(START_AT), F.lit(None).cast(history_type).alias(END_AT),
            F.lit(True).alias(OPENED), F.lit(False).alias(CLOSED))
        updated = joined.where(in_place).select(
            *new, F.col(quote_always(OLD + START_AT)).alias(START_AT),
            F.lit(None).cast(history_type).alias(END_AT),
            F.lit(False).alias(OPENED), F.lit(False).alias(CLOSED))
        return closed.unionByName(opened).unionByName(updated).withColumn(OP, F.lit("U"))


def _differs(columns: tuple[str, ...]) -> Any:
    """Some of `columns` differs between the snapshot and the open version (NULLs equal)."""
    result = F.lit(False)
    for column in columns:
        result = result | ~F.col(quote_always(column)).eqNullSafe(
            F.col(quote_always(OLD + column)))
    return result
