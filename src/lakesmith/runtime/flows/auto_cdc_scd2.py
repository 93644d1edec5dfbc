"""The writers of one batch of an AUTO CDC flow stored as SCD type 2 (`cdc/scd2.py`): an
`IdempotentMerge` that makes the target's rows of the batch's keys equal to their recomputed
history, then a `StateAppend` of the batch's events to the flow's event state (marked: it lands
once). Either order of landing gives the same history, so a crash between them is harmless.

An initial load (no event state yet, and a target without rows, as the writer finds them when it
writes) appends the batch's history instead of merging it: there is nothing to compare it with.
It stays idempotent by the same check: a rerun after the append landed finds rows in the target
and takes the MERGE path, which finds the target already equal to the history.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.cdc.scd2 import Scd2Batch, batch_events
from lakesmith.cdc.scd2_apply import Target, apply_changes
from lakesmith.cdc.spec import (
    END_AT,
    START_AT,
    CdcSpec,
    bound_source,
    cast_to,
    resolve,
    source_relation,
)
from lakesmith.engine.paths import engine_path
from lakesmith.graph.flows import AutoCdcFlow
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint import Checkpoint, IdempotentMerge, Marker, StateAppend
from lakesmith.runtime.checkpoint.log import BatchLog
from lakesmith.runtime.flows.base import FlowContext
from lakesmith.runtime.flows.cdc_counts import counts_log, recorded
from lakesmith.runtime.flows.micro_batch import OUTPUT, Batch, MicroBatchRunner
from lakesmith.runtime.schema import declared_schema
from lakesmith.tables.catalog import quote_always
from lakesmith.tables.delta import open_table, table_info
from lakesmith.tables.writes import write_delta

STATE = "cdc-events"
SCRATCH = "cdc-changes"  # the MERGE's source, computed once (`Scd2Batch.changes`)
EVENTS_SCRATCH = "cdc-key-events"  # every event of the batch's keys (`Scd2Batch.history`)


def prepare_scd2(runner: MicroBatchRunner, ctx: FlowContext, checkpoint: Checkpoint,
                 batch: Batch) -> Batch:
    """Give `batch` its two writers (a NULL key or sequence value refuses it in the first,
    before anything is written)."""
    flow = ctx.flow.flow
    assert isinstance(flow, AutoCdcFlow)
    binder, _operators = runner.bind(ctx, checkpoint, batch)
    try:
        source, schema = bound_source(binder.rewriter,
                                      source_relation(ctx.spark, ctx.graph, flow))
        spec = resolve(flow, source, schema, analysed=True)
        events = batch_events(spec, source)
        log = ctx.workspace.logs(checkpoint.state_location(STATE))
        state = (ctx.spark.read.format("delta").load(engine_path(log.location))
                 if log.version() is not None else None)
        registered = register_aside(ctx)
        target = ctx.spark.read.format("delta").load(
            engine_path(ctx.catalog.location(ctx.flow.target)))
        scd = Scd2Batch(spec, events, state, target, checkpoint.state_location(SCRATCH),
                        checkpoint.state_location(EVENTS_SCRATCH),
                        input_rows=batch.num_input_rows, source_name=flow.source)
    except BaseException:
        binder.close()
        raise
    batch.writers = (
        IdempotentMerge(OUTPUT, ctx.workspace.table_log(ctx.flow.target),
                        Scd2Merge(ctx, spec, scd, counts_log(checkpoint), registered)),
        StateAppend(STATE, log, scd.new_state, columns=scd.event_columns))
    return batch


def register_aside(ctx: FlowContext) -> Future[None]:
    """Register the target with the engine (the MERGE names it; flows downstream read it by
    name) on a thread of its own, while the batch computes its changes: the request (5-20 ms,
    once per update) is off the batch's path. The writer waits for it before it writes."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="register")
    try:
        return pool.submit(ctx.catalog.register, ctx.flow.target)
    finally:
        pool.shutdown(wait=False)


class Scd2Merge:
    """The batch's write of what differs from the target: an append, a rewrite or a MERGE
    (`cdc/scd2_apply.py`), or for an initial load an append of the history. `details` holds the
    rows it upserts and deletes and the versions it opens and closes, counted from the same rows
    before it runs and recorded once per batch (`cdc_counts.py`)."""

    def __init__(self, ctx: FlowContext, spec: CdcSpec, scd: Scd2Batch,
                 log: BatchLog[dict[str, int]], registered: Future[None]) -> None:
        self.ctx = ctx
        self.spec = spec
        self.scd = scd
        self.log = log
        self.details: dict[str, int] = {}
        self.registered = registered  # the target's registration with the engine

    def __call__(self, marker: Marker) -> None:
        assert marker.batch is not None
        ctx = self.ctx
        location = ctx.catalog.location(ctx.flow.target)
        log = ctx.workspace.table_log(ctx.flow.target)  # loaded by the update: advanced, not read
        info = table_info(location, log.table())
        if self.scd.state is None and info is not None and \
                (info.num_files == 0 or info.row_count == 0):
            self._load(marker, location, info.version)
            self.registered.result()
            return
        changes: Any = self.scd.changes()
        self.scd.refuse_invalid()
        schema = declared_schema(ctx.spark, ctx.table)
        if schema is not None:  # the target's declared types
            changes = cast_to(changes, schema)
        counted = self.scd.counted(changes)
        if self.log.get(marker.batch) is None and _appended(log.table(), marker):
            # The first run's initial load landed but crashed before recording its counts.
            self.details = recorded(self.log, marker.batch, self._loaded(location))
        else:
            self.details = recorded(self.log, marker.batch, counted)
        self.registered.result()  # (the MERGE names the target)
        apply_changes(self.spec, changes, counted, Target(
            self.scd.target, log.table(),
            info.size_bytes if info is not None else 0, location,
            ctx.catalog.engine_name(ctx.flow.target)), marker.to_json())

    def _load(self, marker: Marker, location: Location, version_before: int) -> None:
        """Append the history of the batch's keys to a target without rows (set-based: most
        keys' single version needs no ordering), marked with the batch; then record what it
        wrote."""
        assert marker.batch is not None
        ctx = self.ctx
        self.scd.refuse_invalid(self.scd.invalid_events())
        rows: Any = self.scd.history().select(
            *[quote_always(c) for c in [*self.spec.columns, START_AT, END_AT]])
        schema = declared_schema(ctx.spark, ctx.table)
        if schema is not None:
            rows = cast_to(rows, schema)
        write_delta(rows, location, mode="append", user_metadata=marker.to_json())
        table = open_table(location)
        wrote = table is not None and table.version() != version_before  # empty: no commit
        self.details = recorded(self.log, marker.batch, self._loaded(location) if wrote else {
            "num_upserted_rows": 0, "num_deleted_rows": 0, "num_versions_opened": 0,
            "num_versions_closed": 0})

    def _loaded(self, location: Location) -> dict[str, int]:
        """The counts of an initial load, from the target it wrote (it held no rows before)."""
        target = self.ctx.spark.read.format("delta").load(engine_path(location))
        row = target.agg(F.count(F.lit(1)).alias("rows"),
                         F.count(F.col(END_AT)).alias("closed")).collect()[0]
        written = int(row["rows"] or 0)
        return {"num_upserted_rows": written, "num_deleted_rows": 0,
                "num_versions_opened": written, "num_versions_closed": int(row["closed"] or 0)}


def _appended(table: Any, marker: Marker) -> bool:
    """Whether one of the newest commits of the target (`table`, at its newest version) is
    this batch's initial load."""
    assert marker.checkpoint is not None and marker.batch is not None
    if table is None:
        return False
    for commit in table.history(5):
        found = Marker.parse(commit.get("userMetadata"))
        if found is not None and found.is_batch(marker.checkpoint, marker.batch):
            return True
    return False
