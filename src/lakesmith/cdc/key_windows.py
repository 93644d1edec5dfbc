"""Window functions over each key's events, computed over buckets of keys.

Why not `Window.partitionBy(*keys)`: the engine (Sail 0.7, DataFusion's window operator) pays
for every window partition, about 3 µs per partition for each window expression, whatever its
rows: 5,480 events of 2,740 keys spent ~150 ms in the nine window operators of an SCD type 2
history, where one partition per core spends a few. So the events are spread over a few dozen
buckets (a hash of the keys), each bucket is ordered by the keys and then the key's own order,
and a value taken from a neighbouring row counts only when that row has the same keys
(`previous` / `following`). Running values (a count so far, the last non-NULL value so far) run
over the whole bucket, so the callers make them key-local themselves: a counter whose value only
identifies a group within a key, or a value kept only when it was set within the same key.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect.window import Window

from lakesmith.cdc.spec import PREFIX

BUCKET = PREFIX + "bucket"
# Enough buckets to keep both cores of a laptop (and a cluster's) busy; the engine's cost per
# partition makes a few dozen free.
BUCKETS = 64


def bucketed(events: Any, keys: list[str]) -> Any:
    """`events` with the bucket of their keys (BUCKET)."""
    return events.withColumn(BUCKET, F.pmod(F.xxhash64(*[F.col(k) for k in keys]),
                                            F.lit(BUCKETS)))


def in_key_order(keys: list[str], order: list[Any]) -> Any:
    """A window over a bucket (`bucketed`), ordered by the keys then `order` (Columns)."""
    return Window.partitionBy(BUCKET).orderBy(*[F.col(k) for k in keys], *order)


def so_far(window: Any) -> Any:
    """`window` framed from the bucket's first row to the current one."""
    return window.rowsBetween(Window.unboundedPreceding, Window.currentRow)


def same_key(keys: list[str], window: Any, *, offset: int) -> Any:
    """Whether the row `offset` rows away (-1: the previous, 1: the next) has the same keys."""
    shifted = F.lag if offset < 0 else F.lead
    same = F.lit(True)
    for k in keys:
        same = same & F.col(k).eqNullSafe(shifted(F.col(k), abs(offset)).over(window))
    return same


def previous(value: Any, keys: list[str], window: Any) -> Any:
    """`value` of the key's previous row in the window's order (NULL for its first row)."""
    return F.when(same_key(keys, window, offset=-1), F.lag(value).over(window))


def following(value: Any, keys: list[str], window: Any) -> Any:
    """`value` of the key's next row in the window's order (NULL for its last row)."""
    return F.when(same_key(keys, window, offset=1), F.lead(value).over(window))
