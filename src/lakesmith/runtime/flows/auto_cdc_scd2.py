"""The writers of one batch of an AUTO CDC flow stored as SCD type 2 (`cdc/scd2.py`): an
`IdempotentMerge` that makes the target's rows of the batch's keys equal to their recomputed
history, then a `StateAppend` of the batch's events to the flow's event state (marked: it lands
once). Either order of landing gives the same history, so a crash between them is harmless.
"""

from __future__ import annotations

import uuid
from typing import Any

from lakesmith.cdc.scd2 import Scd2Batch, batch_events, counts, merge_sql
from lakesmith.cdc.spec import CdcSpec, cast_to, resolve, source_relation
from lakesmith.engine.paths import engine_path
from lakesmith.graph.flows import AutoCdcFlow
from lakesmith.runtime.checkpoint import Checkpoint, IdempotentMerge, Marker, StateAppend
from lakesmith.runtime.flows.base import FlowContext
from lakesmith.runtime.flows.micro_batch import OUTPUT, Batch, MicroBatchRunner
from lakesmith.runtime.schema import declared_schema

STATE = "cdc-events"


def prepare_scd2(runner: MicroBatchRunner, ctx: FlowContext, checkpoint: Checkpoint,
                 batch: Batch) -> Batch:
    """Give `batch` its two writers; a NULL key or sequence value refuses it here, before it is
    recorded."""
    flow = ctx.flow.flow
    assert isinstance(flow, AutoCdcFlow)
    binder, _operators = runner.bind(ctx, checkpoint, batch)
    try:
        source = binder.rewriter.dataframe(source_relation(ctx.spark, ctx.graph, flow))
        spec = resolve(flow, source)
        events = batch_events(spec, source, flow.source)
        log = ctx.workspace.logs(checkpoint.state_location(STATE))
        state = (ctx.spark.read.format("delta").load(engine_path(log.location))
                 if log.version() is not None else None)
        ctx.catalog.register(ctx.flow.target)
        target = ctx.spark.read.format("delta").load(
            engine_path(ctx.catalog.location(ctx.flow.target)))
        scd = Scd2Batch(spec, events, state, target)
    except BaseException:
        binder.close()
        raise
    batch.writers = (
        IdempotentMerge(OUTPUT, ctx.workspace.table_log(ctx.flow.target),
                        Scd2Merge(ctx, spec, scd)),
        StateAppend(STATE, log, scd.new_state))
    return batch


class Scd2Merge:
    """The batch's MERGE, through a temporary view of what differs from the target; `details`
    holds the rows it upserted and deleted and the versions it opened and closed (counted
    before it runs, from the same rows)."""

    def __init__(self, ctx: FlowContext, spec: CdcSpec, scd: Scd2Batch) -> None:
        self.ctx = ctx
        self.spec = spec
        self.scd = scd
        self.details: dict[str, int] = {}

    def __call__(self, marker: Marker) -> None:
        ctx = self.ctx
        changes: Any = self.scd.merge_source()
        schema = declared_schema(ctx.spark, ctx.table)
        if schema is not None:  # the target's declared types
            changes = cast_to(changes, schema)
        view = f"__lakesmith_cdc_{uuid.uuid4().hex}"
        changes.createOrReplaceTempView(view)
        try:
            self.details = counts(ctx.spark.table(view))
            if self.details["num_upserted_rows"] or self.details["num_deleted_rows"]:
                ctx.spark.sql(merge_sql(self.spec, ctx.catalog.engine_name(ctx.flow.target),
                                        view))
        finally:
            ctx.spark.catalog.dropTempView(view)
