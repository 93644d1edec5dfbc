"""AUTO CDC flows (`create_auto_cdc_flow`, `dlt.apply_changes`, SQL `AUTO CDC INTO`): a stream of
changes applied to a streaming table, in micro-batches (`micro_batch.py`).

SCD type 1: each batch has two writers, in this order: an `IdempotentMerge` of the batch's changes
into the target, then an `Overwrite` of the flow's per-key state (a Delta table in the checkpoint,
marked with the batch). The engine's MERGE carries no marker, so the batch is built to be applied
twice harmlessly; `cdc/scd1.py` says why it is. SCD type 2 has its own writers
(`auto_cdc_scd2.py`, `cdc/scd2.py`).
"""

from __future__ import annotations

import uuid

from lakesmith.cdc.scd1 import (
    DEFAULT_RETENTION_SECONDS,
    RETENTION_KEY,
    Scd1Batch,
    batch_rows,
    check_rows,
    counts,
    merge_sql,
    newest_truncate,
    state_truncate,
)
from lakesmith.cdc.spec import CdcSpec, bound_source, cast_to, resolve, source_relation
from lakesmith.cdc.upkeep import tidy_state
from lakesmith.engine.paths import engine_path
from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.graph.flows import AutoCdcFlow
from lakesmith.quality.expectations import ExpectationSet
from lakesmith.runtime.checkpoint import (
    BatchWriter,
    Checkpoint,
    CommitRecord,
    IdempotentMerge,
    Marker,
    Overwrite,
    StateAppend,
)
from lakesmith.runtime.checkpoint.crash import AFTER_STATE
from lakesmith.runtime.checkpoint.log import BatchLog
from lakesmith.runtime.checkpoint.writers import MarkedDeltaWriter
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows import AUTO_CDC, register_runner
from lakesmith.runtime.flows.auto_cdc_scd2 import Scd2Merge, prepare_scd2
from lakesmith.runtime.flows.base import FlowContext, require_delta
from lakesmith.runtime.flows.cdc_counts import counts_log, recorded
from lakesmith.runtime.flows.micro_batch import OUTPUT, Batch, MicroBatchRunner
from lakesmith.runtime.plan import PlannedFlow
from lakesmith.runtime.schema import declared_schema
from lakesmith.runtime.workspace import Workspace

STATE = "cdc-state"
SCRATCH = "cdc-changes"  # the batch's changes, computed once (`Scd1Batch.changes`)


@register_runner(AUTO_CDC)
class AutoCdcRunner(MicroBatchRunner):
    def output_probe(self, workspace: Workspace, planned: PlannedFlow) -> BatchWriter | None:
        return None  # a MERGE leaves no marker: recovery re-applies a batch (harmlessly)

    def check(self, ctx: FlowContext) -> None:
        check_cdc_target(ctx, "the columns the flow writes")

    def prepare(self, ctx: FlowContext, checkpoint: Checkpoint, batch: Batch, *,
                no_data: bool = False) -> Batch:
        if not batch.has_data:
            return batch
        flow = _cdc_flow(ctx)
        if flow.stored_as_scd_type == 2:
            return prepare_scd2(self, ctx, checkpoint, batch)
        binder, _operators = self.bind(ctx, checkpoint, batch)
        try:
            source, schema = bound_source(binder.rewriter,
                                          source_relation(ctx.spark, ctx.graph, flow))
            spec = resolve(flow, source, schema, analysed=True)
            rows = batch_rows(spec, source)
            check_rows(spec, rows, flow.source)
            log = ctx.workspace.logs(checkpoint.state_location(STATE))
            state = (ctx.spark.read.format("delta").load(engine_path(log.location))
                     if log.version() is not None else None)
            earlier = state_truncate(spec, state)
            latest = newest_truncate(spec, rows)
            new_truncate = latest is not None and (earlier is None or latest > earlier)
            scratch = checkpoint.state_location(SCRATCH)
            scd = Scd1Batch(spec, rows, state, latest if new_truncate else earlier,
                            new_truncate, batch.timestamp_ms, retention_ms(ctx), scratch)
        except BaseException:
            binder.close()
            raise
        merge = _Merge(ctx, spec, scd, counts_log(checkpoint))
        batch.writers = (
            IdempotentMerge(OUTPUT, ctx.workspace.table_log(ctx.flow.target), merge),
            Overwrite(STATE, log, lambda: scd.new_state(scd.changes()), crash_point=AFTER_STATE))
        return batch

    def committed(self, ctx: FlowContext, batch: Batch, commit: CommitRecord,
                  metrics: FlowMetrics) -> None:
        merge = batch.writers[0].merge if batch.writers else None  # type: ignore[attr-defined]
        state = batch.writers[-1] if batch.writers else None
        if isinstance(state, MarkedDeltaWriter):
            tidy_state(state.location, batch.number, appended=isinstance(state, StateAppend))
        checkpoint = ctx.workspace.checkpoint(ctx.flow)
        counts_log(checkpoint).purge(batch.number, checkpoint.retain)
        details: dict[str, int] = merge.details if isinstance(merge, (_Merge, Scd2Merge)) else {}
        metrics.num_output_rows = (metrics.num_output_rows or 0) + \
            details.get("num_upserted_rows", 0)
        for key in dict.fromkeys(("num_upserted_rows", "num_deleted_rows", *details)):
            metrics.details[key] = metrics.details.get(key, 0) + details.get(key, 0)


class _Merge:
    """The batch's MERGE, through a temporary view of its changes; `details` holds the rows it
    upserts and deletes, counted before it runs and recorded once per batch (`cdc_counts.py`)."""

    def __init__(self, ctx: FlowContext, spec: CdcSpec, scd: Scd1Batch,
                 log: BatchLog[dict[str, int]]) -> None:
        self.ctx = ctx
        self.spec = spec
        self.scd = scd
        self.log = log
        self.details: dict[str, int] = {}

    def __call__(self, marker: Marker) -> None:
        assert marker.batch is not None
        ctx = self.ctx
        ctx.catalog.register(ctx.flow.target)
        view = f"__lakesmith_cdc_{uuid.uuid4().hex}"
        changes = self.scd.merge_source()
        dataset = ctx.table
        schema = declared_schema(ctx.spark, dataset)
        if schema is not None:  # the target's declared types
            changes = cast_to(changes, schema)
        changes.createOrReplaceTempView(view)
        try:
            counted = counts(ctx.spark.table(view))
            self.details = recorded(self.log, marker.batch, counted)
            if counted["num_upserted_rows"] or counted["num_deleted_rows"]:
                ctx.spark.sql(merge_sql(self.spec, ctx.catalog.engine_name(ctx.flow.target),
                                        view))
        finally:
            ctx.spark.catalog.dropTempView(view)


def retention_ms(ctx: FlowContext) -> int:
    """How long deleted keys are remembered: the target's table property, else the pipeline's
    configuration, else Databricks' default of 2 days."""
    dataset = ctx.table
    properties = {k.lower(): v for k, v in dataset.table_properties.items()}
    value = properties.get(RETENTION_KEY.lower(),
                           ctx.workspace.configuration.get(RETENTION_KEY))
    if value is None:
        return DEFAULT_RETENTION_SECONDS * 1000
    try:
        seconds = int(str(value).strip())
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise LakesmithError(f"'{RETENTION_KEY}' of '{dataset.name}' must be a number of seconds "
                             f"(0 or more), got {value!r}.")
    return seconds * 1000


def _cdc_flow(ctx: FlowContext) -> AutoCdcFlow:
    flow = ctx.flow.flow
    assert isinstance(flow, AutoCdcFlow)
    return flow


def check_cdc_target(ctx: FlowContext, columns: str) -> None:
    """What every AUTO CDC flow needs of its target before a batch: a Delta table that exists
    (table setup creates it empty, with `columns`), without expectations (not supported yet)."""
    require_delta(ctx.table)
    if ExpectationSet.for_flow(ctx.graph, ctx.flow):
        raise NotSupportedYet(
            f"'{ctx.dataset.name}': expectations on the target of AUTO CDC flow "
            f"'{ctx.flow.name}' are not supported yet; declare them on its source.")
    if ctx.workspace.table_log(ctx.flow.target).table() is None:
        raise LakesmithError(
            f"'{ctx.dataset.name}', the target of AUTO CDC flow '{ctx.flow.name}', does not "
            f"exist: it is created (empty, with {columns}) when the update sets up its tables.")
