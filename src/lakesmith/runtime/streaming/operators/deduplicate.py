"""Streaming deduplication across batches and runs, with Spark's semantics.

`dropDuplicates(keys)` on a stream keeps the first row of each key ever seen, not just within a
batch. The keys seen so far live in a Delta table in the flow's checkpoint, each with the batch that
first saw it. Batch N anti-joins (null-safe) the keys of batches before N, then keeps the first
row of each remaining key; rows of batch N itself never count, so re-running batch N after a crash
gives the same rows. After the batch's output commits, its new keys are written to the state, marked with N.

Which row of a key the batch keeps is its first, chosen from keys, not whole rows. The engine's
own `dropDuplicates` aggregates `first_value` of every column per key, and `min_by(struct(...))`
is slower still: both hold whole rows and cost 8-18 CPU seconds and GBs of memory per million rows
(docs/engine-gaps.md). Instead each input row (late rows dropped) is numbered with its ordinal in
the input (`monotonically_increasing_id()`: input partitions in order, rows in order within each)
before the keys seen before are anti-joined away, and the batch's new rows are written once, with
their ordinals, to scratch files in the checkpoint (`cdc/scratch.py`). A key's kept row is
the one whose ordinal is the smallest of its key: an aggregate of one number per key and a
semi-join on it, the first row seen, as Spark keeps it. A small batch (up to `KEPT_AS_QUERY_ROWS`
rows) gives its kept rows as that query over the stored candidates, which the expectation counts,
the output, the quarantine and the state each run (the same rows every time: the ordinals are
stored); it costs each a few milliseconds, less than writing the kept rows once more or keeping
them in one query with a window, which sorts whole rows (both measured on the medallion's
+5 % batch); its candidates are plain Parquet files, not a Delta table (no log to load, commit
and sweep: 0.01-0.03 CPU seconds less there). A larger batch writes its candidates to a scratch
Delta table and its kept rows to a second one, read as a plain scan, and is deduplicated in
passes, one per slice of its keys (the candidates are written partitioned by a hash of the key),
so the engine holds at most `ROWS_PER_PASS` rows' keys at once, however large the batch. Every
run of a batch writes its scratches afresh before anything reads them, so a rerun after a crash
sees what its own run computed. The keys in state are compacted every `EVERY_BATCHES` batches
(`_compact_if_due`). The rows reaching the
deduplication are known from the batch's slice when its input is a projection of one Delta stream
(`known_rows`); the rows kept, and the keys in state before the batch, are counted from the Delta
logs' statistics where they can tell, without a query. When the deduplication gives the flow's
result, the flow's expectations are counted by its state append: each new key is written with
the rules' flags of its row (`ExpectationSet.count_columns`, NULL where it passes), and the
counts are read from the null counts of that commit's files (no counting query); the append runs
alongside the output's write. FLOAT and DOUBLE keys are compared as Spark
compares them (-0.0 = 0.0, every NaN one value), fields of STRUCT keys and elements of ARRAY keys
too, which the engine does not do by itself.

Under a watermark (Spark's StreamingDeduplicateExec / ...WithinWatermarkExec):
- input rows whose event time is at or before the previous batch's watermark are late: dropped;
- `dropDuplicatesWithinWatermark` keeps a key until `event time + delay` is at or before the
  watermark (its state row holds that expiry);
- `dropDuplicates` evicts a key only when the event-time column is one of the keys, once that
  time is at or before the watermark; otherwise keys are kept forever (as in Spark).
Evicted keys are left out of the state table when the batch rewrites it, so it stays bounded.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.types import ArrayType, MapType, NullType, StructType

from lakesmith.cdc.scratch import (
    FILES_PREFIX,
    count_and_tidy,
    materialize,
    materialize_files,
)
from lakesmith.cdc.upkeep import EVERY_BATCHES, tidy_state
from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import dataframe_of, relation_of
from lakesmith.engine.semantics.float_keys import as_spark_compares_nested, keys_compared
from lakesmith.errors import LakesmithError
from lakesmith.files import store_for
from lakesmith.runtime.checkpoint import Overwrite, StateAppend
from lakesmith.runtime.checkpoint.crash import AFTER_STATE
from lakesmith.runtime.streaming.known_rows import known_rows
from lakesmith.runtime.streaming.operators import (
    OperatorContext,
    StatefulOperator,
    register_operator,
)
from lakesmith.tables.catalog import quote_always
from lakesmith.tables.delta import actions_row_count, add_actions

logger = logging.getLogger("lakesmith")

BATCH_COLUMN = "__lakesmith_batch"
EXPIRES_COLUMN = "__lakesmith_expires_at_micros"
SEEN_PREFIX = "__lakesmith_seen_"
ORDINAL_COLUMN = "__lakesmith_ordinal"  # a candidate row's place in the batch's input
FIRST_COLUMN = "__lakesmith_first_ordinal"
PASS_COLUMN = "__lakesmith_pass"  # which pass deduplicates the row's key
# Candidate rows deduplicated per engine query: the aggregate and the semi-join hold about 150
# bytes per row, so a pass stays near 300 MB whatever the batch's size.
ROWS_PER_PASS = 2_000_000
# Batches up to this many rows read their kept rows as a query over the candidates (computed
# again by each reader: the counts, the output, the state) instead of writing them once more.
KEPT_AS_QUERY_ROWS = 250_000
# The keys in state are compacted into files of up to this size (about 4M integer keys), so a
# large state's big files are not rewritten at every compaction, only its recent small ones.
STATE_FILE_BYTES = 32 * 1024 * 1024
_DELTA_UNSAFE = re.compile(r"[ ,;{}()\n\t=]")


@register_operator("deduplicate")
class Deduplicate(StatefulOperator):
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        dedup = node.deduplicate
        keys = list(dedup.column_names)
        if dedup.all_columns_as_keys or not keys:
            keys = ctx.columns_of(dedup.input)
        event = ctx.event_time
        within = dedup.within_watermark
        if within and event is None:
            raise LakesmithError(
                "dropDuplicatesWithinWatermark needs a watermark: call withWatermark(column, "
                "delay) on the stream before it (Spark refuses it too).")
        log = ctx.logs(ctx.checkpoint.state_location(f"dedup-{state_id}"))
        arrived: Any = dataframe_of(ctx.spark, dedup.input)
        rows = arrived
        time_key = event is not None and event.column.lower() in {k.lower() for k in keys}
        if event is not None:
            rows = rows.where(_not_late(event.column, ctx.previous_watermark_ms))
        # Numbered before the anti-join: a key's first row is its first in the batch's input.
        rows = rows.withColumn(ORDINAL_COLUMN, F.monotonically_increasing_id())
        if not within and not time_key:
            _compact_if_due(log, ctx.batch)
        state = _StateStats(log.table(), ctx.batch)  # the state as the batch starts
        landed = _StateAfter(log)  # the state once the batch committed (its counts)
        has_state = state.table is not None

        def earlier_state(*, read_now: bool = False) -> Any:
            """The keys of batches before this one (never this batch's: a rerun is the same).
            `read_now`: read before the batch writes its state; then, when the state's
            statistics show only earlier batches' rows (not a rerun after the state landed),
            the filter is left out, sparing the engine a column of every key in state."""
            keys_seen = ctx.spark.read.format("delta").load(engine_path(log.location))
            if read_now and state.only_before():
                return keys_seen
            return keys_seen.where(F.col(BATCH_COLUMN) < F.lit(ctx.batch))

        def live_before(*, read_now: bool = False) -> Any:
            """The keys in state when the batch starts (what the previous batch kept)."""
            seen = earlier_state(read_now=read_now)
            if within:  # evicted at the end of the previous batch
                seen = seen.where(F.col(EXPIRES_COLUMN) > F.lit(ctx.previous_watermark_ms * 1000))
            elif event is not None and time_key:
                seen = seen.where(_not_late(event.column, ctx.previous_watermark_ms))
            return seen

        schema = ctx.bind(relation_of(rows)).schema
        types = {f.name.lower(): f.dataType for f in schema.fields}
        if has_state:
            # Candidates that can be stored are written before any state write (_first_rows);
            # the engine's dropDuplicates (the others) runs again after it.
            seen = live_before(read_now=_storable(schema))
            # Keys compared by name (renamed on the state's side): column references by plan
            # id do not survive the plan rewriting around this node.
            renamed = seen.select(*[F.col(quote_always(k)).alias(f"{SEEN_PREFIX}{i}")
                                    for i, k in enumerate(keys)])
            condition = [as_spark_compares_nested(F.col(quote_always(k)), types.get(k.lower()))
                         .eqNullSafe(as_spark_compares_nested(F.col(f"{SEEN_PREFIX}{i}"),
                                                        types.get(k.lower())))
                         for i, k in enumerate(keys)]
            rows = keys_compared(rows.join(renamed, _all(condition), "left_anti"))
        # The rows reaching the deduplication: from the batch's metadata when they are those of
        # its slice (a projection of a Delta stream), else counted by the engine.
        received = known_rows(dedup.input, ctx.rows_of_read)
        if received is None:
            received = int(ctx.bind(relation_of(arrived)).count())
        output, kept = _first_rows(ctx, relation_of(rows), schema, keys, state_id,
                                   received=received)
        name = f"state:{state_id}"

        def new_state(flags: list[tuple[str, Any]] | None = None) -> Any:
            new = ctx.bind(output).select(*[F.col(quote_always(k)) for k in keys],
                                          *[column.alias(n) for n, column in flags or []])
            if within:
                assert event is not None
                new = ctx.bind(output).select(
                    *[F.col(quote_always(k)) for k in keys],
                    (F.unix_micros(F.col(quote_always(event.column)))
                     + F.lit(event.delay_ms * 1000)).alias(EXPIRES_COLUMN))
            return new.withColumn(BATCH_COLUMN, F.lit(ctx.batch).cast("bigint"))

        def progress(kept_after: Any | None) -> Any:
            """Spark's counts for the batch (StreamingDeduplicateExec): rows dropped as late,
            duplicates dropped, keys added, evicted and kept."""
            late = 0 if event is None else int(ctx.bind(relation_of(arrived.where(
                ~_not_late(event.column, ctx.previous_watermark_ms)))).count())
            before = 0
            if has_state:
                known = state.rows_before() if not within and not time_key else None
                before = known if known is not None else \
                    int(ctx.bind(relation_of(live_before())).count())

            def counts(added: int) -> dict[str, Any]:
                after = before + added if kept_after is None else int(kept_after().count())
                return {"operatorName": "dedupeWithinWatermark" if within else "dedupe",
                        "numRowsTotal": after, "numRowsUpdated": added,
                        "numRowsRemoved": before + added - after,
                        "numRowsDroppedByWatermark": late,
                        "customMetrics": {"numDroppedDuplicateRows": received - late - added}}

            if kept is not None:
                return counts(kept)
            if kept_after is None:
                # The keys added are the rows the state append commits for this batch: counted
                # from its commit once the batch committed, not by running the batch's
                # deduplication once more before it (the write computes it anyway).
                return lambda: counts(_state_rows_of(ctx.spark, landed, ctx.batch))
            return counts(int(ctx.bind(output).count()))

        if not within and not time_key:
            # The new keys are the rows the deduplication outputs, one per key: when they are
            # the flow's result, its expectations are counted by the statistics of their flags
            # written with them (no counting query of their own).
            rules = ctx.result_rules if ctx.rewrites_result else None
            flags = rules.count_columns() if rules else []
            names = [n for n, _ in flags]
            if names and has_state and not state.only_before():
                # A rerun after its keys may have landed (with another run's rows and rules):
                # the flow counts the rows this run writes with a query, as before.
                flags, names = [], []
            if names and rules is not None:
                ctx.counted = lambda: rules.report_from_counts(
                    *_flagged_rows(ctx.spark, landed, ctx.batch, names))
            # Appended while the output writes: a rerun of the batch reads only earlier
            # batches' keys, and the output reads the stored candidates, not the state. Its rows
            # are planned here, on the batch's thread (the binder is not shared across threads).
            state_rows = new_state(flags)
            ctx.writers.append(StateAppend(name, log, lambda: state_rows,
                                           columns=[*keys, *names, BATCH_COLUMN],
                                           alongside_output=True))
            ctx.metrics.append(lambda: progress(None))
            return output

        def live_state() -> Any:
            """Kept keys: earlier ones not evicted by this batch's watermark, and the new.
            Each side is filtered before the union: the engine fails to resolve a filter on a
            union of a table scan and a join over the same table ("Unable to get field
            named #1")."""
            assert event is not None
            live = (F.col(EXPIRES_COLUMN) > F.lit(ctx.watermark_ms * 1000) if within
                    else _not_late(event.column, ctx.watermark_ms))
            fresh = new_state().where(live)
            return earlier_state().where(live).unionByName(fresh) if has_state else fresh

        ctx.writers.append(Overwrite(name, log, live_state, crash_point=AFTER_STATE))
        ctx.metrics.append(lambda: progress(live_state))
        return output


def _compact_if_due(log: Any, batch: int) -> None:
    """Every `EVERY_BATCHES` batches, before the batch reads the keys seen so far: their small
    files (each batch appends one or two) merged into files of up to `STATE_FILE_BYTES`,
    uncompressed, and the files they replace dropped (`tidy_state`). Each batch reads every
    key in state, and the engine pays per file: 1M keys in 200 files cost the medallion's
    +5 % batch's anti-join 3.5 times what they cost in 2, and an uncompressed file is read
    with less CPU than a Snappy one. Not when the state holds this batch's keys already (a
    rerun after they landed): compaction only ever merges earlier batches' rows, so counts
    from a file's batch statistics stay exact. Compacted through the log's own table, which
    advances with the commit. A failure only warns: the batch reads the files as they are."""
    if batch == 0 or batch % EVERY_BATCHES:
        return
    table = log.table()
    if table is None or len(table.file_uris()) < 2 or not _StateStats(table, batch).only_before():
        return
    from deltalake import WriterProperties

    try:
        table.optimize.compact(target_size=STATE_FILE_BYTES,
                               writer_properties=WriterProperties(compression="UNCOMPRESSED"))
    except Exception as e:  # reported; a later batch compacts them
        logger.warning("Compacting the deduplication state at %s failed: %s", log.location, e)
        return
    tidy_state(log.location, batch, appended=False)  # the replaced files, the log's checkpoint


def _first_rows(ctx: OperatorContext, candidates: proto.Relation, schema: StructType,
                keys: list[str], state_id: str, *,
                received: int) -> tuple[proto.Relation, int | None]:
    """The first row of each key among `candidates` (the batch's new rows, numbered by
    `ORDINAL_COLUMN`; `schema` is theirs), with its rows (None: count them). A batch of up to
    `KEPT_AS_QUERY_ROWS` rows writes its candidates once as plain Parquet files to
    `scratch-files-dedup-<state_id>` and gives its kept rows as a query over them. A larger one
    writes them to the scratch table `scratch-dedup-candidates-<state_id>` (partitioned by pass
    when there are several passes), then its kept rows to the scratch table
    `scratch-dedup-<state_id>`, read by every use.

    When a column's type cannot be stored in Delta (a NULL literal's void type), the engine's
    `dropDuplicates` runs instead, computed again for each use."""
    if not _storable(schema):
        return relation_of(dataframe_of(ctx.spark, candidates).drop(ORDINAL_COLUMN)
                           .dropDuplicates(keys)), None
    types = {f.name.lower(): f.dataType for f in schema.fields}
    key_columns = [as_spark_compares_nested(F.col(quote_always(k)), types.get(k.lower()))
                   for k in keys]  # grouped and hashed into passes as Spark compares keys
    numbered = ctx.bind(candidates)
    rows_at = ctx.checkpoint.state_location(f"{FILES_PREFIX}dedup-{state_id}")
    stored_at = ctx.checkpoint.state_location(f"scratch-dedup-candidates-{state_id}")
    kept_at = ctx.checkpoint.state_location(f"scratch-dedup-{state_id}")
    passes = max(1, -(-received // ROWS_PER_PASS))
    if passes == 1 and received <= KEPT_AS_QUERY_ROWS:
        # The kept rows as a query over the stored candidates: it gives the same rows each time
        # it runs (the ordinals are stored), and is cheaper than a second scratch table.
        stored = materialize_files(numbered, rows_at, schema)
        for larger in (stored_at, kept_at):  # a larger batch's scratch tables: never read again
            store_for(larger).discard_tree(larger)
        if ctx.rewrites_result and ctx.result_rules is not None:
            # The result (the kept rows) reads the candidates as stored: its schema is theirs.
            ctx.result_schema = _files_schema(schema, without=ORDINAL_COLUMN)
        return relation_of(_kept(stored, key_columns)), None
    store_for(rows_at).discard_tree(rows_at)  # a smaller batch's candidates: never read again
    tidy = ctx.batch > 0 and ctx.batch % EVERY_BATCHES == 0  # logs checkpointed: fast to open
    if passes > 1:
        numbered = numbered.withColumn(
            PASS_COLUMN, F.pmod(F.xxhash64(*key_columns), F.lit(passes)).cast("int"))
    stored = materialize(numbered, stored_at, partition_by=[PASS_COLUMN] if passes > 1 else [],
                         log=ctx.logs(stored_at))
    for part in range(passes):
        rows = stored.where(F.col(PASS_COLUMN) == F.lit(part)) if passes > 1 else stored
        first = _kept(rows, key_columns).drop(PASS_COLUMN)
        if part == 0:
            first.write.format("delta").mode("overwrite").option("overwriteSchema", "true") \
                .save(engine_path(kept_at))
        else:
            first.write.format("delta").mode("append").save(engine_path(kept_at))
    count = count_and_tidy(kept_at)
    if tidy:
        for location in (stored_at, kept_at):
            tidy_state(location, ctx.batch, appended=False)
    return relation_of(ctx.spark.read.format("delta").load(engine_path(kept_at))), count


def _files_schema(schema: StructType, *, without: str) -> StructType | None:
    """The schema the engine gives a read of Parquet files it wrote from rows of `schema`
    (without the column `without`): the same, when every column is of an atomic type and
    carries no metadata (nested types may come back with other nullability). None: the engine
    is asked."""
    fields = [f for f in schema.fields if f.name != without]
    if any(f.metadata or isinstance(f.dataType, (StructType, ArrayType, MapType))
           for f in fields):
        return None
    return StructType(fields)


def _kept(rows: Any, key_columns: list[Any]) -> Any:
    """Of stored candidate rows, the one with the smallest ordinal per key (an aggregate of one
    number per key and a semi-join on it)."""
    firsts = keys_compared(rows.groupBy(*key_columns)
                           .agg(F.min(ORDINAL_COLUMN).alias(FIRST_COLUMN)))
    return (keys_compared(rows.join(firsts.select(FIRST_COLUMN),
                                    F.col(ORDINAL_COLUMN) == F.col(FIRST_COLUMN), "left_semi"))
            .drop(ORDINAL_COLUMN))


class _StateAfter:
    """The state table once the batch committed: its add actions read once (None: no table)
    for every count taken from their statistics."""

    def __init__(self, log: Any) -> None:
        self.log = log
        self._read = False
        self._actions: Any = None

    def actions(self) -> Any:
        if not self._read:
            table = self.log.table()
            self._actions = add_actions(table) if table is not None else None
            self._read = True
        return self._actions


def _flagged_rows(spark: Any, state: _StateAfter, batch: int, names: list[str]
                  ) -> tuple[int, dict[str, int]]:
    """The state's rows of `batch` and, per flag column in `names`, those where it is not NULL:
    from the statistics of the files the batch appended, else counted by the engine (a query
    of the state table alone)."""
    actions = state.actions()
    counted = _batch_stats(actions, batch, names) if actions is not None else None
    if counted is not None:
        return counted
    rows = spark.read.format("delta").load(engine_path(state.log.location)) \
        .where(F.col(BATCH_COLUMN) == F.lit(batch))
    row = rows.agg(F.count(F.lit(1)).alias("rows"),
                    *[F.count(F.col(quote_always(n))).alias(f"f{i}")
                      for i, n in enumerate(names)]).collect()[0]
    return int(row["rows"]), {n: int(row[f"f{i}"]) for i, n in enumerate(names)}


def _batch_stats(actions: Any, batch: int, names: list[str]
                 ) -> tuple[int, dict[str, int]] | None:
    """`_flagged_rows` from add actions: the files whose batch column is `batch` throughout
    (a state append writes one batch's rows per file); None when a statistic is missing."""
    low, high = f"min.{BATCH_COLUMN}", f"max.{BATCH_COLUMN}"
    wanted = ["num_records", low, high, *[f"null_count.{n}" for n in names]]
    if any(c not in actions.column_names for c in wanted):
        return None
    rows, failing = 0, dict.fromkeys(names, 0)
    for file in actions.select(wanted).to_pylist():
        if file["num_records"] is None or file[low] is None or file[high] is None:
            return None
        if file[high] < batch or file[low] > batch:
            continue
        if file[low] != batch or file[high] != batch:
            return None
        rows += file["num_records"]
        for n in names:
            nulls = file[f"null_count.{n}"]
            if nulls is None:
                return None
            failing[n] += file["num_records"] - nulls
    return rows, failing


def _state_rows_of(spark: Any, state: _StateAfter, batch: int) -> int:
    """The state's rows of `batch` (the keys it added), from the statistics of its files, else
    counted by the engine (a query of the state table alone: the batch's slices are gone)."""
    actions = state.actions()
    if actions is None:
        return 0
    through = actions_row_count(actions, below=(BATCH_COLUMN, batch + 1))
    before = actions_row_count(actions, below=(BATCH_COLUMN, batch))
    if through is not None and before is not None:
        return through - before
    return int(spark.read.format("delta").load(engine_path(state.log.location))
               .where(F.col(BATCH_COLUMN) == F.lit(batch)).count())


class _StateStats:
    """The state table as a batch starts (`table`, None when there is none yet) and counts from
    the statistics of its files, its add actions read once (each read costs milliseconds of
    the batch's path)."""

    def __init__(self, table: Any | None, batch: int) -> None:
        self.table = table
        self.batch = batch
        self._actions: Any = None

    def _read(self) -> Any:
        if self._actions is None:
            assert self.table is not None
            self._actions = add_actions(self.table)
        return self._actions

    def rows_before(self) -> int | None:
        """The keys the state held before the batch (its rows of earlier batches); None when
        the statistics cannot tell."""
        if self.table is None:
            return None
        return actions_row_count(self._read(), below=(BATCH_COLUMN, self.batch))

    def only_before(self) -> bool:
        """Whether the state holds rows of batches before this one only."""
        before = self.rows_before()
        return before is not None and before == actions_row_count(self._read())


def _storable(data_type: Any) -> bool:
    """Whether a Delta table can hold the type as it is: no void type, and struct fields whose
    names Delta accepts without column mapping (no duplicates, none of ` ,;{}()\n\t=`)."""
    if isinstance(data_type, NullType):
        return False
    if isinstance(data_type, StructType):
        names = [f.name.lower() for f in data_type.fields]
        return len(set(names)) == len(names) \
            and not any(_DELTA_UNSAFE.search(name) for name in names) \
            and all(_storable(f.dataType) for f in data_type.fields)
    if isinstance(data_type, ArrayType):
        return _storable(data_type.elementType)
    if isinstance(data_type, MapType):
        return _storable(data_type.keyType) and _storable(data_type.valueType)
    return True


def _not_late(column: str, watermark_ms: int) -> Any:
    """Spark drops rows with event time <= watermark (a NULL time is not late)."""
    time = F.col(quote_always(column))
    return time.isNull() | (F.unix_micros(time) > F.lit(watermark_ms * 1000))


def _all(conditions: list[Any]) -> Any:
    result = conditions[0]
    for condition in conditions[1:]:
        result = result & condition
    return result
