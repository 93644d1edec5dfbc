"""AUTO CDC flows (`create_auto_cdc_flow`, `dlt.apply_changes`, SQL `AUTO CDC INTO`): a stream of
changes applied to a streaming table, in micro-batches (`micro_batch.py`).

SCD type 1: each batch has two writers, in this order: the target's (`_Scd1Output`: a MERGE of the
batch's changes, or, when they only insert keys the target lacks, an append marked with the batch)
then the flow's per-key state (`_Scd1State`, a Delta table in the checkpoint, rewritten or, when
the batch only brings keys it does not remember, appended to; marked with the batch). The engine's
MERGE carries no marker, so the batch is built to be applied twice harmlessly; `cdc/scd1.py` says
why it is. SCD type 2 has its own writers (`auto_cdc_scd2.py`, `cdc/scd2.py`).
"""

from __future__ import annotations

import uuid
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.cdc.scd1 import (
    DEFAULT_RETENTION_SECONDS,
    OP,
    RETENTION_KEY,
    Scd1Batch,
    batch_rows,
    check_rows,
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
    Marker,
    StateAppend,
)
from lakesmith.runtime.checkpoint.crash import AFTER_STATE
from lakesmith.runtime.checkpoint.log import BatchLog
from lakesmith.runtime.checkpoint.writers import Landed, MarkedDeltaWriter
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows import AUTO_CDC, register_runner
from lakesmith.runtime.flows.auto_cdc_scd2 import Scd2Merge, prepare_scd2
from lakesmith.runtime.flows.base import FlowContext, require_delta
from lakesmith.runtime.flows.cdc_counts import counts_log, recorded
from lakesmith.runtime.flows.micro_batch import OUTPUT, Batch, MicroBatchRunner
from lakesmith.runtime.plan import PlannedFlow
from lakesmith.runtime.schema import declared_schema
from lakesmith.runtime.workspace import Workspace
from lakesmith.tables.catalog import quote_always
from lakesmith.tables.delta import DeltaLog, open_table
from lakesmith.tables.writes import write_delta

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
        target = ctx.workspace.table_log(ctx.flow.target)
        merge = _Merge(ctx, spec, scd, counts_log(checkpoint), target,
                       sole_writer=len(ctx.graph.flows_into(ctx.flow.target)) == 1)
        batch.writers = (_Scd1Output(target, merge), _Scd1State(log, scd))
        return batch

    def committed(self, ctx: FlowContext, batch: Batch, commit: CommitRecord,
                  metrics: FlowMetrics) -> None:
        merge = batch.writers[0].merge if batch.writers else None  # type: ignore[attr-defined]
        state = batch.writers[-1] if batch.writers else None
        if isinstance(state, MarkedDeltaWriter):
            tidy_state(state.location, batch.number,
                       appended=isinstance(state, StateAppend) or state.mode == "append")
        checkpoint = ctx.workspace.checkpoint(ctx.flow)
        counts_log(checkpoint).purge(batch.number, checkpoint.retain)
        details: dict[str, int] = merge.details if isinstance(merge, (_Merge, Scd2Merge)) else {}
        if commit.output_version is None:  # a marked append's rows are counted by its commit
            metrics.num_output_rows = (metrics.num_output_rows or 0) + \
                details.get("num_upserted_rows", 0)
        for key in dict.fromkeys(("num_upserted_rows", "num_deleted_rows", *details)):
            metrics.details[key] = metrics.details.get(key, 0) + details.get(key, 0)


class _Scd1Output(MarkedDeltaWriter):
    """The target's write of an SCD type 1 batch (`_Merge`): an append in one marked commit, or an
    unmarked MERGE. An append landed when its marked commit is in the target; a MERGE is never
    known to have landed, and a rerun applies it again, harmlessly (`cdc/scd1.py`). A rerun
    decides as its first run did: from the same batch and the same state."""

    mode = "append"

    def __init__(self, log: DeltaLog, merge: _Merge) -> None:
        super().__init__(OUTPUT, log, lambda: None)
        self.merge = merge

    def landed(self, marker: Marker, version_before: int | None) -> Landed | None:
        if self.merge.appended is False:  # this run MERGEd or wrote nothing: no marked commit
            return None
        found = super().landed(marker, version_before)
        if found is not None:  # the first run's append: its counts were recorded before it
            assert marker.batch is not None
            self.merge.details = self.merge.log.get(marker.batch) or {}
        return found

    def write(self, marker: Marker) -> None:
        self.merge(marker)


class _Scd1State(MarkedDeltaWriter):
    """The flow's per-key state after the batch, in one marked commit: the batch's keys appended
    when the state remembers none of them and no truncate comes with the batch (a stream of new
    keys: the state grows by the batch, not rewritten whole), else the state rewritten."""

    mode = "overwrite"

    def __init__(self, log: DeltaLog, scd: Scd1Batch) -> None:
        super().__init__(STATE, log, self._rows, crash_point=AFTER_STATE,
                         columns=scd.state_columns)
        self.scd = scd

    def write(self, marker: Marker) -> None:
        scd = self.scd
        self.mode = "append" if scd.tally().known == 0 and not scd.new_truncate else "overwrite"
        super().write(marker)

    def _rows(self) -> Any:
        changes = self.scd.changes()
        return self.scd.new_keys_state(changes) if self.mode == "append" \
            else self.scd.new_state(changes)


class _Merge:
    """The batch's changes applied to the target. `details` holds the rows it upserts and
    deletes, counted before it runs and recorded once per batch (`cdc_counts.py`).

    When no change meets a key the target holds (`Tally.live` is 0: every change inserts a new
    key, the common stream of new keys), the flow is the target's only writer (another flow could
    hold keys this flow's state does not know: the graph refuses that today,
    AUTOCDC_MULTIPLE_FLOWS_TO_TARGET) and the changes' columns are the target's, the
    MERGE's effect is an append of the upserts: written as one (marked) append, which costs the
    batch's rows instead of a join with the whole target and a rewrite of the files it touches.
    Otherwise the MERGE runs, through a temporary view of the changes."""

    def __init__(self, ctx: FlowContext, spec: CdcSpec, scd: Scd1Batch,
                 log: BatchLog[dict[str, int]], target: DeltaLog, *, sole_writer: bool) -> None:
        self.ctx = ctx
        self.spec = spec
        self.scd = scd
        self.log = log
        self.target = target
        self.sole_writer = sole_writer
        self.details: dict[str, int] = {}
        self.appended: bool | None = None  # how this run wrote the batch, once it has

    def __call__(self, marker: Marker) -> None:
        assert marker.batch is not None
        found = self.scd.tally()
        self.details = recorded(self.log, marker.batch, found.counts())
        self.appended = False
        if not (found.num_upserted_rows or found.num_deleted_rows):
            return
        if found.live == 0 and self.sole_writer and self._appends_as_written():
            self.appended = True
            inserts = self.scd.changes().where(F.col(OP) == "U") \
                .select(*[F.col(quote_always(c)) for c in self.spec.columns])
            write_delta(inserts, self.target.location, mode="append",
                        user_metadata=marker.to_json(), columns=self.spec.columns,
                        log=self.target)
            return
        ctx = self.ctx
        ctx.catalog.register(ctx.flow.target)
        view = f"__lakesmith_cdc_{uuid.uuid4().hex}"
        changes = self.scd.merge_source()
        schema = declared_schema(ctx.spark, ctx.table)
        if schema is not None:  # the target's declared types
            changes = cast_to(changes, schema)
        changes.createOrReplaceTempView(view)
        try:
            ctx.spark.sql(merge_sql(self.spec, ctx.catalog.engine_name(ctx.flow.target), view))
        finally:
            ctx.spark.catalog.dropTempView(view)

    def _appends_as_written(self) -> bool:
        """The target's columns are the changes' (names and types, none NOT NULL that the
        changes' is not) and it is not partitioned: an append of the changes' columns writes
        what the MERGE's INSERT would, with no cast."""
        target = self.target.table()
        changes = open_table(self.scd.scratch) if self.scd.scratch is not None else None
        if target is None or changes is None or target.metadata().partition_columns:
            return False
        written = {f.name.lower(): f for f in changes.schema().fields}
        fields = target.schema().fields
        if {f.name.lower() for f in fields} != {c.lower() for c in self.spec.columns}:
            return False
        for field in fields:
            source = written.get(field.name.lower())
            if source is None or source.type != field.type or \
                    (source.nullable and not field.nullable):
                return False
        return True


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
