"""Window functions over each key's events, computed over buckets of keys.

Why not `Window.partitionBy(*keys)`: the engine (Sail 0.7, DataFusion's window operator) pays
for every window partition, about 3 µs per partition for each window expression, whatever its
rows: 5,480 events of 2,740 keys spent ~150 ms in the nine window operators of an SCD type 2
history, where one partition per core spends a few. So the events are spread over a few dozen
buckets (a hash of the keys), each bucket is ordered by the keys and then the key's own order,
and a value taken from a neighbouring row counts only when that row has the same keys
(`neighbour`, `same_key`). Running values (a count so far, the last non-NULL value so far) run
over the whole bucket, so the callers make them key-local themselves: a counter whose value only
identifies a group within a key, or a value kept only when it was set within the same key.

Each window expression is an operator of its own in the engine, so a neighbour's values are
taken at once, as one struct.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    """A window over a bucket (`bucketed`), ordered by the keys then `order`."""
    return Window.partitionBy(BUCKET).orderBy(*[F.col(k) for k in keys], *order)


def so_far(window: Any) -> Any:
    """`window` framed from the bucket's first row to the current one."""
    return window.rowsBetween(Window.unboundedPreceding, Window.currentRow)


def neighbour(window: Any, keys: list[str], values: Mapping[str, Any], *,
              offset: int) -> Any:
    """The keys and `values` (by field name) of the row `offset` rows away in the window's order
    (-1: the previous row, 1: the next), as one struct; NULL past the bucket's edge."""
    fields = [F.col(k).alias(_key_field(i)) for i, k in enumerate(keys)]
    fields += [value.alias(name) for name, value in values.items()]
    shifted = F.lag if offset < 0 else F.lead
    return shifted(F.struct(*fields), abs(offset)).over(window)


def same_key(row: Any, keys: list[str]) -> Any:
    """Whether the `neighbour` struct `row` holds the current row's keys (false past the edge)."""
    same = F.lit(True)
    for i, k in enumerate(keys):
        same = same & F.col(k).eqNullSafe(row.getField(_key_field(i)))
    return same


def _key_field(i: int) -> str:
    return f"key{i}"
