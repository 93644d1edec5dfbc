"""One batch of an SCD type 1 AUTO CDC flow, computed in the engine: the batch's changes reduced
per key, the MERGE that applies them to the target, and the flow's per-key state after it.

Order of events. Each event has an ordering value: its `sequence_by` value (a struct orders by its
fields in turn), then its kind (at an equal sequence value a delete comes after an upsert, so the
delete wins), then a 64-bit hash of the values it writes (so two different upserts with an equal
sequence value are ordered the same way whatever batch or run each arrives in). The state keeps,
per key, the ordering value of the newest event applied and whether it deleted the key, so an event
that is not newer than that never changes the target, in this batch or a later one.

Truncates. `apply_as_truncates` at sequence value T removes every key whose newest event is not
after T (so a truncate in a batch keeps the keys that events after T wrote), and any later event
whose sequence value is not after T is ignored. The newest T is a row of the state.

Tombstones. A deleted key stays in the state as a tombstone, so an older update arriving later
does not bring it back; tombstones are dropped once older than the retention (`RETENTION_KEY`),
after which such a late update inserts the key again (as Databricks documents).

Idempotence (the MERGE carries no marker, so a batch may be applied twice after a crash): the
changes are the batch's events newer than the state, and the state is written after the MERGE.
Re-running the batch before the state landed computes the same changes against the same state
and applies them again: a delete of a deleted row and an upsert of the same values (with
`ignore_null_updates`, `coalesce(new, current)` over a row that already holds the result) change
nothing. Re-running it after the state landed finds no event newer than the state: an empty
MERGE.

Computed once (`changes`): the batch's changes are written to a scratch Delta table in the
checkpoint (`cdc/scratch.py`: why a scratch is safe), then the MERGE and the state read them from
there; every run of a batch writes it again from that run's batch rows and the state as the run
finds it, so the MERGE and the state write of one run see the same changes, those the argument
above is about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.cdc.key_windows import bucketed, in_key_order, neighbour, same_key, so_far
from lakesmith.cdc.scratch import materialize
from lakesmith.cdc.spec import PREFIX, SEQ, CdcSpec
from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.sql_literal import sql_string
from lakesmith.tables.catalog import quote_always

# Databricks' table property for how long deleted keys are remembered, and its default (2 days).
RETENTION_KEY = "pipelines.cdc.tombstoneGCThresholdInSeconds"
DEFAULT_RETENTION_SECONDS = 2 * 24 * 3600

RANK = PREFIX + "rank"  # 1 for a delete, 0 for an upsert
HASH = PREFIX + "hash"
OP = PREFIX + "op"  # "U" or "D"
RESET = PREFIX + "reset"  # the row is replaced (a delete came before the upsert)
TRUNCATE = PREFIX + "truncate"
ROW = PREFIX + "rn"
COUNT = PREFIX + "count"
DELETED = PREFIX + "deleted"
PREVIOUS = PREFIX + "previous"  # a key's next newer event in the batch (`key_windows.neighbour`)
NEWEST = PREFIX + "newest"  # the key's newest event in the batch
DELETES = PREFIX + "deletes"  # the key's deletes from its newest event to this one
DELETED_AT = PREFIX + "deleted_at_ms"
# A change's key is in the target before the batch (the state holds it, not deleted): whether its
# delete removes a row, so the batch's counts are known before its MERGE runs.
LIVE = PREFIX + "live"
# A change's key is in the state at all (live or a tombstone): a batch none of whose keys is
# can append its keys to the state instead of rewriting it (`Scd1Batch.shape`).
KNOWN = PREFIX + "known"
KIND = PREFIX + "kind"  # a state row: "key", or "truncate" (the newest truncate's sequence)
STATE = PREFIX + "state_"  # prefix of the state's columns where they meet the batch's


@dataclass
class Scd1Batch:
    """A batch's computations; nothing runs until a writer asks for its DataFrames."""

    spec: CdcSpec
    rows: Any  # the source's batch with the ordering columns
    state: Any | None  # the state table, None before the first batch wrote it
    truncated_at: tuple[Any, ...] | None  # the newest truncate (state and batch)
    new_truncate: bool  # this batch truncates after everything before it
    timestamp_ms: int
    retention_ms: int
    # Where the batch's changes are materialized (a Delta folder in the checkpoint), so the MERGE
    # and the state read them instead of joining the batch with the state again; None computes
    # them from the plan each time.
    scratch: Location | None = None
    _materialized: Any = field(default=None, init=False, repr=False)
    _tally: Tally | None = field(default=None, init=False, repr=False)

    @property
    def ordering(self) -> list[str]:
        return [_order(i) for i in range(len(self.spec.sequence_fields))] + [RANK, HASH]

    # -- the batch's events --------------------------------------------------------------------

    def changes(self) -> Any:
        """Per key changed by the batch: its new values, OP, RESET and its ordering value.

        With a scratch folder they are computed once, written there, and read back: the MERGE
        reads its source more than once (the engine plans the join of the source with the target
        and the rewrite of the files it touches separately), and the state is written from the
        same changes, so computing them once saves two joins of the batch with the whole state.
        The scratch is written again by every run of the batch (a rerun recomputes it from the
        same batch and the same state), so a stale one is never read."""
        if self.scratch is None:
            return self._changes_plan()
        if self._materialized is None:
            self._materialized = materialize(self._changes_plan(), self.scratch)
        return self._materialized

    def _changes_plan(self) -> Any:
        spec = self.spec
        keys = [quote_always(k) for k in spec.keys]
        events = self.rows.where(~F.col(TRUNCATE))
        if self.truncated_at is not None:
            events = events.where(_after(self.ordering[:-2], self.truncated_at))
        if self.state is not None:
            known = self._key_state().select(
                *[F.col(quote_always(k)).alias(_state(k)) for k in spec.keys],
                *[F.col(o).alias(_state(o)) for o in self.ordering],
                (~F.col(DELETED)).alias(_state(LIVE)))
            events = events.join(known, _all([F.col(k) == F.col(_state(n))
                                              for k, n in zip(keys, spec.keys, strict=True)]),
                                 "left")
            newer = F.col(_state(self.ordering[0])).isNull() | _greater(
                [F.col(o) for o in self.ordering], [F.col(_state(o)) for o in self.ordering])
            events = events.where(newer)
            live = F.coalesce(F.col(_state(LIVE)), F.lit(False))
            known = F.col(_state(LIVE)).isNotNull()
        else:
            live = known = F.lit(False)
        events = events.select(*self._event_columns(), live.alias(LIVE), known.alias(KNOWN))
        # Most keys have one event in a batch (an initial load: all of them). Only the keys with
        # several are ordered by a window: sorting every event is what made a large batch slow
        # (2M events: about 4x the time of a count per key and two hash joins).
        several = events.groupBy(*keys).agg(F.count(F.lit(1)).alias(COUNT)) \
            .where(F.col(COUNT) > 1).select(*keys)
        single = self._single(events.join(several, list(spec.keys), "left_anti"))
        events = events.join(several, list(spec.keys), "left_semi")
        return self._reduce(events).unionByName(single)

    def _single(self, events: Any) -> Any:
        """The changes of keys with one event: what `_reduce` gives for them, without ordering."""
        keys = [quote_always(k) for k in self.spec.keys]
        delete = F.col(RANK) == 1
        op = F.when(delete, F.lit("D")).otherwise(F.lit("U")).alias(OP)
        if not self.spec.ignore_null_updates:
            return events.select(*keys, *[quote_always(c) for c in self.spec.values], op,
                                 F.lit(True).alias(RESET), *self.ordering, LIVE, KNOWN)
        # A delete keeps no value; an upsert's NULLs stay NULL (nothing before it in the batch).
        return events.select(
            *keys, *[F.when(~delete, F.col(quote_always(c))).alias(c) for c in self.spec.values],
            op, delete.alias(RESET), *self.ordering, LIVE, KNOWN)

    def _reduce(self, events: Any) -> Any:
        """The changes of keys with several events, newest first by the ordering value (within
        buckets of keys: `cdc/key_windows.py`; ROW numbers the bucket's events, so it orders a
        key's events as a per-key number would)."""
        spec = self.spec
        keys = [quote_always(k) for k in spec.keys]
        newest_first = in_key_order(keys, [F.col(o).desc() for o in self.ordering])
        events = bucketed(events, keys).withColumn(
            PREVIOUS, neighbour(newest_first, keys, {}, offset=-1))
        newest = ~same_key(F.col(PREVIOUS), keys)
        values = [quote_always(c) for c in spec.values]
        if not spec.ignore_null_updates:
            latest = events.where(newest)
            return latest.select(
                *keys, *values,
                F.when(F.col(RANK) == 1, F.lit("D")).otherwise(F.lit("U")).alias(OP),
                F.lit(True).alias(RESET), *self.ordering, LIVE, KNOWN)
        # Each value: the newest non-NULL one after the key's newest delete in the batch, that
        # is among the key's events before any delete, newest first (no delete counted so far
        # since the key's newest event).
        so_far_first = so_far(newest_first)
        events = events.select(
            "*", F.row_number().over(newest_first).alias(ROW),
            F.sum(F.col(RANK)).over(so_far_first).alias(DELETES), newest.alias(NEWEST))
        before_key = F.last(F.when(F.col(NEWEST), F.col(DELETES) - F.col(RANK)),
                            ignorenulls=True).over(so_far_first)
        events = events.withColumn(DELETES, F.col(DELETES) - before_key)
        after_delete = F.col(DELETES) == 0
        return events.groupBy(*keys).agg(
            *[F.min_by(F.col(c), F.when(after_delete & F.col(c).isNotNull(), F.col(ROW)))
              .alias(n) for c, n in zip(values, spec.values, strict=True)],
            F.when(F.min_by(F.col(RANK), F.col(ROW)) == 1, F.lit("D")).otherwise(F.lit("U"))
            .alias(OP),
            (F.max(F.col(RANK)) == 1).alias(RESET),
            *[F.min_by(F.col(o), F.col(ROW)).alias(o) for o in self.ordering],
            (F.max(F.col(LIVE).cast("int")) == 1).alias(LIVE),  # the same for all of a key
            (F.max(F.col(KNOWN).cast("int")) == 1).alias(KNOWN))

    def tally(self) -> Tally:
        """What the batch's MERGE would do (`Tally`), counted once."""
        if self._tally is None:
            self._tally = count_changes(self.merge_source())
        return self._tally

    def merge_source(self) -> Any:
        """What the MERGE applies: the changes, and under a new truncate a delete of every live
        key whose newest event is not after it."""
        changes = self.changes()
        if not self.new_truncate or self.state is None:
            return changes
        assert self.truncated_at is not None
        keys = [quote_always(k) for k in self.spec.keys]
        truncated = (self._key_state().where(~F.col(DELETED))
                     .where(~_after(self.ordering[:-2], self.truncated_at))
                     .join(changes.select(*keys), list(self.spec.keys), "left_anti"))
        schema = {f.name: f.dataType for f in changes.schema.fields}
        return changes.unionByName(truncated.select(
            *keys, *[F.lit(None).cast(schema[c]).alias(c) for c in self.spec.values],
            F.lit("D").alias(OP), F.lit(False).alias(RESET), *self.ordering,
            F.lit(True).alias(LIVE), F.lit(True).alias(KNOWN)))

    # -- the state -------------------------------------------------------------------------------

    def new_state(self, changes: Any) -> Any:
        """The state after the batch: each key's newest ordering value and whether it is
        deleted (tombstones within the retention only), and the newest truncate."""
        keys = [quote_always(k) for k in self.spec.keys]
        fresh = self._fresh_state(changes)
        kept = self._live_filter()
        # Each side is filtered before the union (the engine cannot resolve a filter over a
        # union of a scan and a join of the same table).
        state = fresh.where(kept)
        if self.state is not None:
            earlier = self._key_state().join(changes.select(*keys), list(self.spec.keys),
                                             "left_anti")
            state = earlier.select(*keys, *self.ordering, DELETED, DELETED_AT, KIND) \
                .where(kept).unionByName(state)
        if self.truncated_at is not None:
            schema = {f.name: f.dataType for f in fresh.schema.fields}
            marker = self.rows.sparkSession.range(1).select(
                *[F.lit(None).cast(schema[k]).alias(k) for k in self.spec.keys],
                *[F.lit(v).cast(schema[o]).alias(o)
                  for v, o in zip(self.truncated_at, self.ordering, strict=False)],
                F.lit(1).cast(schema[RANK]).alias(RANK), F.lit(0).cast("bigint").alias(HASH),
                F.lit(False).alias(DELETED), F.lit(None).cast("bigint").alias(DELETED_AT),
                F.lit("truncate").alias(KIND))
            state = state.unionByName(marker)
        return state

    @property
    def state_columns(self) -> list[str]:
        """The state table's columns (`new_state`'s, in its order)."""
        return [*self.spec.keys, *self.ordering, DELETED, DELETED_AT, KIND]

    def new_keys_state(self, changes: Any) -> Any:
        """The rows to append to the state when no change meets a key it remembers
        (`Tally.known` is 0) and the batch brings no new truncate: the changes' keys, as
        `new_state` has them. (Expired tombstones then stay in the state until a batch rewrites
        it; reading the state leaves them out.)"""
        assert not self.new_truncate
        return self._fresh_state(changes).where(self._live_filter())

    def _fresh_state(self, changes: Any) -> Any:
        """The state's rows of the changes' keys."""
        return changes.select(
            *[quote_always(k) for k in self.spec.keys], *self.ordering,
            (F.col(OP) == "D").alias(DELETED),
            F.when(F.col(OP) == "D", F.lit(self.timestamp_ms)).cast("bigint").alias(DELETED_AT),
            F.lit("key").alias(KIND))

    def _live_filter(self) -> Any:
        """State rows to keep: not covered by the newest truncate, not an expired tombstone."""
        kept = self._unexpired()
        if self.truncated_at is not None:
            kept = kept & _after(self.ordering[:-2], self.truncated_at)
        return kept

    def _key_state(self) -> Any:
        """The keys the state remembers: a tombstone past the retention is forgotten (then an
        older update arriving later inserts the key again)."""
        assert self.state is not None
        return self.state.where((F.col(KIND) == "key") & self._unexpired())

    def _unexpired(self) -> Any:
        return ~F.col(DELETED) | (F.col(DELETED_AT) >= F.lit(self.timestamp_ms - self.retention_ms))

    def _event_columns(self) -> list[Any]:
        return [F.col(quote_always(c)) for c in self.spec.columns] + \
            [F.col(o) for o in self.ordering]


@dataclass(frozen=True)
class Tally:
    """What a batch's MERGE would do, known before it runs (one small row read): the rows it
    upserts (every upsert inserts or updates one) and deletes (the deletes of keys the target
    holds), and how many of its changes meet a key the target holds (`live`) or the state
    remembers (`known`). A batch with no `live` change only inserts keys the target lacks: its
    MERGE is an append. One with no `known` change only adds keys to the state."""

    num_upserted_rows: int
    num_deleted_rows: int
    live: int
    known: int

    def counts(self) -> dict[str, int]:
        """The batch's counts as the event log reports them."""
        return {"num_upserted_rows": self.num_upserted_rows,
                "num_deleted_rows": self.num_deleted_rows}


def count_changes(merge_source: Any) -> Tally:
    row = merge_source.agg(
        F.count(F.when(F.col(OP) == "U", F.lit(1))).alias("upserted"),
        F.count(F.when((F.col(OP) == "D") & F.col(LIVE), F.lit(1))).alias("deleted"),
        F.count(F.when(F.col(LIVE), F.lit(1))).alias("live"),
        F.count(F.when(F.col(KNOWN), F.lit(1))).alias("known")).collect()[0]
    return Tally(*(int(v or 0) for v in row))


def batch_rows(spec: CdcSpec, source: Any, *, keep_sequence: bool = False) -> Any:
    """The source's batch as the flow reads it: the target's columns, the ordering columns, and
    whether the row is a truncate (and, with `keep_sequence`, the sequence value as SEQ)."""
    values = [F.col(quote_always(c)) for c in spec.values]
    hashed = [part for c in values for part in (c, c.isNull())]
    is_delete = F.coalesce(spec.deletes, F.lit(False)) if spec.deletes is not None else F.lit(False)
    is_truncate = (F.coalesce(spec.truncates, F.lit(False)) if spec.truncates is not None
                   else F.lit(False))
    with_sequence = source.select("*", spec.sequence.alias(SEQ))
    orders = [(F.col(SEQ) if not field else F.col(f"{quote_always(SEQ)}.{field}")).alias(_order(i))
              for i, field in enumerate(spec.sequence_fields)]
    return with_sequence.select(
        *[F.col(quote_always(c)) for c in spec.columns], *orders,
        F.when(is_delete, F.lit(1)).otherwise(F.lit(0)).alias(RANK),
        (F.xxhash64(*hashed) if hashed else F.lit(0).cast("bigint")).alias(HASH),
        is_truncate.alias(TRUNCATE), *([F.col(SEQ)] if keep_sequence else []))


def check_rows(spec: CdcSpec, rows: Any, source_name: str) -> None:
    """A NULL key (outside truncates) or a NULL sequence value fails the batch, naming the column
    and showing one offending row (its target columns)."""
    orders = [_order(i) for i in range(len(spec.sequence_fields))]
    problems = [(f"key column '{k}'", F.col(quote_always(k)).isNull() & ~F.col(TRUNCATE))
                for k in spec.keys]
    problems += [("sequence_by", F.col(o).isNull()) for o in orders]
    bad = rows.where(_any([condition for _, condition in problems]))
    found = bad.select(*[F.col(quote_always(c)) for c in spec.columns],
                       *[condition.alias(f"{PREFIX}problem{i}")
                         for i, (_, condition) in enumerate(problems)]).limit(1).collect()
    if not found:
        return
    row = found[0].asDict()
    what = next(name for i, (name, _) in enumerate(problems) if row[f"{PREFIX}problem{i}"])
    raise null_in_change(spec, source_name, what, row)


def null_in_change(spec: CdcSpec, source_name: str, what: str,
                   row: dict[str, Any]) -> LakesmithError:
    """The batch's failure for a change whose `what` (a key column, sequence_by) is NULL,
    showing `row`'s target columns."""
    sample = {c: row[c] for c in spec.columns}
    return LakesmithError(
        f"AUTO CDC flow '{spec.flow}': {what} is NULL in a change from '{source_name}', e.g. "
        f"{sample}. Nothing of the batch was committed.",
        hint="every change needs its keys and a sequence value: filter such rows out in the "
             "source (or fill them in), then run again.")


def newest_truncate(spec: CdcSpec, rows: Any) -> tuple[Any, ...] | None:
    """The sequence value of the batch's newest truncate, if it has one (one row read)."""
    if spec.truncates is None:
        return None
    orders = [_order(i) for i in range(len(spec.sequence_fields))]
    found = rows.where(F.col(TRUNCATE)).select(*orders) \
        .orderBy(*[F.col(o).desc() for o in orders]).limit(1).collect()
    return tuple(found[0]) if found else None


def state_truncate(spec: CdcSpec, state: Any | None) -> tuple[Any, ...] | None:
    """The newest truncate the state remembers (one row read)."""
    if state is None or spec.truncates is None:
        return None
    orders = [_order(i) for i in range(len(spec.sequence_fields))]
    found = state.where(F.col(KIND) == "truncate").select(*orders).limit(1).collect()
    return tuple(found[0]) if found else None


def merge_sql(spec: CdcSpec, target: str, source_view: str) -> str:
    """The MERGE of a batch's changes into the target (names already quoted for the engine)."""
    on = " AND ".join(f"t.{quote_always(k)} = s.{quote_always(k)}" for k in spec.keys)
    if spec.ignore_null_updates:
        sets = [f"{quote_always(c)} = CASE WHEN s.{RESET} THEN s.{quote_always(c)} "
                f"ELSE coalesce(s.{quote_always(c)}, t.{quote_always(c)}) END"
                for c in spec.values]
    else:
        sets = [f"{quote_always(c)} = s.{quote_always(c)}" for c in spec.values]
    columns = ", ".join(quote_always(c) for c in spec.columns)
    inserted = ", ".join(f"s.{quote_always(c)}" for c in spec.columns)
    update = f"WHEN MATCHED THEN UPDATE SET {', '.join(sets)}\n" if sets else ""
    return (f"MERGE INTO {target} t USING {source_view} s ON {on}\n"
            f"WHEN MATCHED AND s.{OP} = {sql_string('D')} THEN DELETE\n"
            f"{update}"
            f"WHEN NOT MATCHED AND s.{OP} = {sql_string('U')} THEN INSERT ({columns}) "
            f"VALUES ({inserted})")


def _order(i: int) -> str:
    return f"{PREFIX}order{i}"


def _state(name: str) -> str:
    return STATE + name


def _greater(left: Sequence[Any], right: Sequence[Any]) -> Any:
    """`left > right`, compared column by column (as tuples); no column is NULL."""
    result = left[-1] > right[-1]
    for a, b in zip(reversed(left[:-1]), reversed(right[:-1]), strict=True):
        result = (a > b) | ((a == b) & result)
    return result


def _after(orders: Sequence[str], values: tuple[Any, ...]) -> Any:
    """The sequence value is after `values` (a truncate's)."""
    return _greater([F.col(o) for o in orders], [F.lit(v) for v in values])


def _all(conditions: list[Any]) -> Any:
    result = conditions[0]
    for condition in conditions[1:]:
        result = result & condition
    return result


def _any(conditions: list[Any]) -> Any:
    result = conditions[0]
    for condition in conditions[1:]:
        result = result | condition
    return result
