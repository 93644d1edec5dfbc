"""One batch of an SCD type 2 AUTO CDC flow, computed in the engine: the history of every key the
batch touches is recomputed from all of that key's events, and one commit (an append, a rewrite
or a MERGE: `cdc/scd2_apply.py`) makes the target's rows of those keys equal to it.

History. A key's events, in order (`sequence_by`, then at an equal sequence value only the last
event counts: a delete over an upsert, else the upsert with the larger hash of its values, as in
SCD type 1), make its versions: an upsert after nothing or after a delete opens a version; an
upsert that changes a tracked column (all non-key columns, or those `track_history_*` selects)
closes the open version at its sequence value and opens a new one; an upsert that changes no
tracked column stays in the open version, whose values become its values (the untracked columns
are updated in place); a delete closes the open version. A version's `__START_AT` is its first
event's sequence value, its `__END_AT` the next event's after its last one (NULL: still open). With
`ignore_null_updates` a NULL value of an upsert is the key's previous value (after its newest
delete), before the comparison. So the history depends only on the set of events, never on the
batch or run each arrives in: a late event splits the interval it falls in, a late delete closes
it, wherever they arrive.

Why recompute from events, not from the target's rows: an upsert that changed nothing left no
trace in the target, yet a late event before it makes it a new version again. The flow's state
(`<checkpoint>/state/cdc-events`) keeps every event applied (the target's columns, ordering and
sequence value), appended once per batch with the batch's marker.

Idempotence (a MERGE carries no marker): the new history of the batch's keys is a function of
(state ∪ batch) deduplicated per key and ordering value, which is the same whether or not the
batch's state append already landed. The changes are that history compared with the target's
rows of those keys (by key and `__START_AT`): rows new or different are upserted, target rows
not in it are deleted, equal rows are left out. Re-running the batch after its commit landed
finds the target already equal to the history: nothing to write. The state append is marked, so it
lands once (and a duplicate would be deduplicated anyway).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.cdc.key_windows import BUCKET, bucketed, in_key_order, neighbour, same_key, so_far
from lakesmith.cdc.scd1 import COUNT, HASH, RANK, TRUNCATE, batch_rows, null_in_change
from lakesmith.cdc.scratch import Scratch, materialize, materialize_counted
from lakesmith.cdc.spec import END_AT, PREFIX, SEQ, START_AT, CdcSpec
from lakesmith.locations import Location
from lakesmith.sql_literal import sql_string
from lakesmith.tables.catalog import quote_always

OP = PREFIX + "op"  # "U": insert or update the row; "D": delete it
INVALID = "X"  # OP of an event with a NULL key or sequence value: the batch fails
OPENED = PREFIX + "opened"  # the row is a new version
CLOSED = PREFIX + "closed"  # the row's __END_AT is set by this batch
ROW = PREFIX + "rn"
SEGMENT = PREFIX + "segment"  # deletes so far: ignore_null_updates fills within one segment
NEW = PREFIX + "new_version"
NEXT = PREFIX + "next"
PREVIOUS = PREFIX + "previous"  # the key's previous event (`key_windows.neighbour`)
FOLLOWING = PREFIX + "following"  # its next one
OLD = PREFIX + "old_"  # prefix of the target's columns where they meet the new history
COUNTED_BY = (OP, OPENED, CLOSED)  # the changes' scratch is partitioned by them

# The largest batch whose keys' events are all ordered by windows at once (`Scd2Batch.history`):
# measured on 2 cores, setting aside the keys with one event costs about what ordering 100,000
# events does; at 1M events ordering them all costs 3x more.
DIRECT_HISTORY_ROWS = 100_000


def batch_events(spec: CdcSpec, source: Any) -> Any:
    """The batch's events: the target's columns, ordering columns, kind (RANK), hash and
    sequence value. One with a NULL key or sequence value fails the batch, before anything is
    written (as for SCD type 1): it is found with the changes (`Scd2Batch.refuse_invalid`),
    not by a query of its own."""
    return batch_rows(spec, source, keep_sequence=True).drop(TRUNCATE)


@dataclass
class Scd2Batch:
    """A batch's computations; nothing runs until a writer asks for its DataFrames."""

    spec: CdcSpec
    events: Any  # the batch's events (`batch_events`)
    state: Any | None  # every event applied before, None before the first batch
    target: Any  # the target table
    # Where the MERGE's source is materialized (`cdc/scratch.py`), so that counting it and the
    # MERGE (which reads its source more than once) do not each recompute the history; None
    # computes it from the plan each time.
    scratch: Location | None = None
    # Where the batch keys' events are materialized (every event of the keys the batch touches:
    # the history reads them three times); None computes them from the plan each time.
    events_scratch: Location | None = None
    # The batch's changes, when its source tells them without reading them (`history`).
    input_rows: int | None = None
    source_name: str = ""  # the flow's source, for errors
    _materialized: Scratch | None = field(default=None, init=False, repr=False)

    @property
    def keys(self) -> list[str]:
        return [quote_always(k) for k in self.spec.keys]

    @property
    def orders(self) -> list[str]:
        return [f"{PREFIX}order{i}" for i in range(len(self.spec.sequence_fields))]

    @property
    def event_columns(self) -> list[str]:
        """The columns of the events (`batch_events`) and of the event state, known without
        asking the engine."""
        return [*self.spec.columns, *self.orders, RANK, HASH, SEQ]

    def invalid_events(self) -> Any:
        """The batch's events with a NULL key or sequence value, with the columns of the
        changes (OP INVALID): they are computed with the changes, and refuse the batch."""
        spec = self.spec
        missing = F.lit(False)
        for column in [*self.keys, *self.orders]:
            missing = missing | F.col(column).isNull()
        return self.events.where(missing).select(
            *self.keys, *[quote_always(c) for c in spec.values], F.col(SEQ).alias(START_AT),
            F.when(F.lit(False), F.col(SEQ)).alias(END_AT), F.lit(INVALID).alias(OP),
            F.lit(False).alias(OPENED), F.lit(False).alias(CLOSED))

    def refuse_invalid(self, rows: Any | None = None) -> None:
        """Fail the batch, naming the column and showing one event (its target columns), if it
        has an event with a NULL key or sequence value: among the changes (`changes()`, the
        scratch's log tells whether there is one), or `rows` (`invalid_events`, the initial
        load's check)."""
        spec = self.spec
        if rows is None:
            partitions = self._materialized.partitions if self._materialized is not None \
                else None
            if partitions is not None and not any(op == INVALID for op, *_ in partitions):
                return
            rows = self.changes().where(F.col(OP) == INVALID)
        found = rows.limit(1).collect()
        if not found:
            return
        row = found[0].asDict()
        what = next((f"key column '{k}'" for k in spec.keys if row[k] is None), "sequence_by")
        raise null_in_change(spec, self.source_name, what, row)

    def affected(self) -> Any:
        return self.events.select(*self.keys).distinct()

    def key_events(self) -> Any:
        """Every event of the batch's keys: the batch's, and the state's (semi-joined to the
        batch's keys, so the rest of the state is only scanned)."""
        events = self.events
        if self.state is not None:
            known = self.state.join(self.affected(), list(self.spec.keys), "left_semi")
            events = events.unionByName(known.select(*[F.col(quote_always(c))
                                                        for c in self.event_columns]))
        return events

    def history(self) -> Any:
        """The versions of the batch's keys: the target's columns, __START_AT, __END_AT.

        A batch of at most DIRECT_HISTORY_ROWS changes orders all its keys' events at once
        (`_versions`), read once, in the query that compares them with the target: a few
        thousand events cost less than setting any aside. In a larger batch (an initial load, a
        backfill) most keys have one event, an upsert that is one open version (a delete: none);
        only keys with several events are ordered (sorting every event is what made a large
        batch slow), so the events are read three times: after the first batch they are
        computed once, into their scratch, so that the batch's slice and the scan of the event
        state are not repeated for each read."""
        events = self.key_events()
        if self.input_rows is not None and self.input_rows <= DIRECT_HISTORY_ROWS:
            return self._versions(events)
        if self.state is not None and self.events_scratch is not None:
            events = materialize(events, self.events_scratch)
        several = events.groupBy(*self.keys).agg(F.count(F.lit(1)).alias(COUNT)) \
            .where(F.col(COUNT) > 1).select(*self.keys)
        single = events.join(several, list(self.spec.keys), "left_anti").where(F.col(RANK) == 0)
        single = single.select(*self.keys, *[quote_always(c) for c in self.spec.values],
                               F.col(SEQ).alias(START_AT),
                               F.when(F.lit(False), F.col(SEQ)).alias(END_AT))
        return self._versions(events.join(several, list(self.spec.keys), "left_semi")) \
            .unionByName(single)

    def _last_per_sequence(self, events: Any) -> Any:
        """One event per key and sequence value: the last in the ordering (a delete, else the
        larger hash). `events` are bucketed (`key_windows.bucketed`)."""
        newest = in_key_order(self.keys, [*[F.col(o) for o in self.orders],
                                          F.col(RANK).desc(), F.col(HASH).desc()])
        events = events.withColumn(PREVIOUS, neighbour(
            newest, self.keys, {o: F.col(o) for o in self.orders}, offset=-1))
        before = F.col(PREVIOUS)
        repeated = same_key(before, self.keys)
        for o in self.orders:
            repeated = repeated & F.col(o).eqNullSafe(before.getField(o))
        return events.where(~repeated).drop(PREVIOUS)

    def _versions(self, events: Any) -> Any:
        """The versions that `events` (all of their keys' events) make, by the history rule.

        Each key's events are ordered within a bucket of keys (`cdc/key_windows.py`: the engine
        pays for every window partition). A version is a run of upserts that starts with one
        that opens it (after nothing, after a delete, or changing a tracked column); its
        `__START_AT` is the sequence value of the nearest opening upsert at or before a row, and
        its last upsert (the key's next event is not an upsert of the same run) carries its
        values and `__END_AT`, the next event's sequence value."""
        spec = self.spec
        keys = self.keys
        values = [quote_always(c) for c in spec.values]
        window = in_key_order(keys, [F.col(o) for o in self.orders])
        is_upsert = F.col(RANK) == 0
        events = self._last_per_sequence(bucketed(events, keys)).select(
            *keys, *[F.when(is_upsert, F.col(c)).alias(n)
                     for c, n in zip(values, spec.values, strict=True)],
            *self.orders, RANK, SEQ, BUCKET)
        if spec.ignore_null_updates:
            # A NULL takes the key's last non-NULL value since its newest delete: segments of
            # the bucket start at each key's first event and at each delete.
            events = events.withColumn(PREVIOUS, neighbour(window, keys, {}, offset=-1))
            starts = ~same_key(F.col(PREVIOUS), keys) | (F.col(RANK) == 1)
            events = events.withColumn(
                SEGMENT, F.sum(F.when(starts, F.lit(1)).otherwise(F.lit(0))).over(so_far(window)))
            filled = []
            for c, n in zip(values, spec.values, strict=True):
                last_set = F.last(F.when(F.col(c).isNotNull(), F.struct(
                    F.col(c).alias("value"), F.col(SEGMENT).alias("segment"))),
                    ignorenulls=True).over(so_far(window))
                filled.append(F.when(last_set.getField("segment") == F.col(SEGMENT),
                                     last_set.getField("value")).alias(n))
            events = events.select(*keys, *filled, *self.orders, RANK, SEQ, BUCKET)
        tracked = {f"t{i}": F.col(quote_always(c)) for i, c in enumerate(spec.tracked)}
        events = events.withColumns({  # (one window operator: both over the same window)
            PREVIOUS: neighbour(window, keys, {"kind": F.col(RANK), **tracked}, offset=-1),
            FOLLOWING: neighbour(window, keys, {"seq": F.col(SEQ)}, offset=1)})
        before, after = F.col(PREVIOUS), F.col(FOLLOWING)
        changed = F.lit(False)
        for name, value in tracked.items():
            changed = changed | ~value.eqNullSafe(before.getField(name))
        first = ~same_key(before, keys)
        opens = is_upsert & (first | (before.getField("kind") == 1) | changed)
        events = events.select(
            *keys, *values, *self.orders, RANK, SEQ, BUCKET, opens.alias(NEW),
            F.when(same_key(after, keys), after.getField("seq")).alias(NEXT))
        events = events.withColumns({
            START_AT: F.last(F.when(F.col(NEW), F.col(SEQ)), ignorenulls=True)
            .over(so_far(window)),
            FOLLOWING: neighbour(window, keys, {"kind": F.col(RANK), "opens": F.col(NEW)},
                                 offset=1)})
        continues = same_key(after, keys) & (after.getField("kind") == 0) \
            & ~after.getField("opens")
        return events.where(is_upsert & ~continues).select(
            *keys, *values, F.col(START_AT), F.col(NEXT).alias(END_AT))

    def merge_source(self) -> Any:
        """The history's rows that the target lacks or holds differently (OP "U", with whether
        each opens or closes a version), and the target's rows of the batch's keys that are not
        in the history (OP "D")."""
        spec = self.spec
        history = self.history()
        names = [*spec.keys, *spec.values, START_AT, END_AT]
        current = self.target.join(self.affected(), list(spec.keys), "left_semi").select(
            *[F.col(quote_always(c)).alias(OLD + c) for c in names])
        same_row = [F.col(quote_always(c)) == F.col(quote_always(OLD + c))
                    for c in [*spec.keys, START_AT]]
        on = same_row[0]
        for condition in same_row[1:]:
            on = on & condition
        joined = history.join(current, on, "full_outer")
        is_new = F.col(quote_always(OLD + START_AT)).isNull()
        is_gone = F.col(START_AT).isNull()
        differs = F.lit(False)
        for column in [*spec.values, END_AT]:
            differs = differs | ~F.col(quote_always(column)).eqNullSafe(
                F.col(quote_always(OLD + column)))
        changed = joined.where(is_new | is_gone | differs).select(
            *[F.when(is_gone, F.col(quote_always(OLD + k))).otherwise(F.col(quote_always(k)))
              .alias(k) for k in spec.keys],
            *[F.col(quote_always(c)) for c in spec.values],
            F.when(is_gone, F.col(quote_always(OLD + START_AT))).otherwise(F.col(START_AT))
            .alias(START_AT),
            F.col(END_AT),
            F.when(is_gone, F.lit("D")).otherwise(F.lit("U")).alias(OP),
            (~is_gone & is_new).alias(OPENED),
            (~is_gone & F.col(END_AT).isNotNull()
             & (is_new | F.col(quote_always(OLD + END_AT)).isNull())).alias(CLOSED))
        return changed.unionByName(self.invalid_events())

    def changes(self) -> Any:
        """The MERGE's source, computed once into the scratch when there is one (partitioned by
        OP, OPENED and CLOSED: the log then counts them, `counted`)."""
        if self.scratch is None:
            return self.merge_source()
        if self._materialized is None:
            self._materialized = materialize_counted(self.merge_source(), self.scratch,
                                                     partition_by=COUNTED_BY)
        return self._materialized.rows

    def counted(self, changes: Any) -> dict[str, int]:
        """What `changes` (`changes()`, perhaps cast) upsert, delete, open and close: from the
        scratch's log when it has statistics, else by the engine (`counts`)."""
        partitions = self._materialized.partitions if self._materialized is not None else None
        if partitions is None:
            return counts(changes)
        found = {"num_upserted_rows": 0, "num_deleted_rows": 0, "num_versions_opened": 0,
                 "num_versions_closed": 0}
        for (op, opened, closed), rows in partitions.items():
            if op == INVALID:  # (`refuse_invalid` failed the batch before)
                continue
            found["num_upserted_rows" if op == "U" else "num_deleted_rows"] += rows
            found["num_versions_opened"] += rows if _true(opened) else 0
            found["num_versions_closed"] += rows if _true(closed) else 0
        return found

    def new_state(self) -> Any:
        """What the state gains: the batch's events."""
        return self.events


def _true(value: Any) -> bool:
    """A boolean partition value, as the log holds it."""
    return value is True or str(value).lower() == "true"


def counts(merge_source: Any) -> dict[str, int]:
    """Rows upserted and deleted, versions opened and closed (one small row read)."""
    row = merge_source.agg(
        F.count(F.when(F.col(OP) == "U", F.lit(1))).alias("num_upserted_rows"),
        F.count(F.when(F.col(OP) == "D", F.lit(1))).alias("num_deleted_rows"),
        F.count(F.when(F.col(OPENED), F.lit(1))).alias("num_versions_opened"),
        F.count(F.when(F.col(CLOSED), F.lit(1))).alias("num_versions_closed")).collect()[0]
    return {k: int(v or 0) for k, v in row.asDict().items()}


def merge_sql(spec: CdcSpec, target: str, source_view: str) -> str:
    """The MERGE that makes the target's rows of the batch's keys equal to their history."""
    on = " AND ".join(f"t.{quote_always(c)} = s.{quote_always(c)}"
                      for c in [*spec.keys, START_AT])
    sets = ", ".join(f"{quote_always(c)} = s.{quote_always(c)}" for c in [*spec.values, END_AT])
    names = [*spec.columns, START_AT, END_AT]
    columns = ", ".join(quote_always(c) for c in names)
    inserted = ", ".join(f"s.{quote_always(c)}" for c in names)
    return (f"MERGE INTO {target} t USING {source_view} s ON {on}\n"
            f"WHEN MATCHED AND s.{OP} = {sql_string('D')} THEN DELETE\n"
            f"WHEN MATCHED THEN UPDATE SET {sets}\n"
            f"WHEN NOT MATCHED AND s.{OP} = {sql_string('U')} THEN INSERT ({columns}) "
            f"VALUES ({inserted})")
