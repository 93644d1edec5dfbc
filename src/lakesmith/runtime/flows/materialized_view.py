"""Materialized views: replace the table's contents in one Delta commit, so readers see the old or
the new result, never a mix. The refresh planner (`runtime/refresh/planner.py`) decides how, and
the event log says so (`planning_information`): nothing when the view is up to date (NO_OP, its
query, definition and input versions those of its last refresh: `up_to_date.py`), its stored rows
merged with the aggregation of an input's appended rows (GROUP_AGGREGATE), or the query
recomputed (COMPLETE_RECOMPUTE). The refresh is recorded after its commits; a crash in between
leaves the view at a version the record does not name, so the next refresh recomputes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pyspark.errors import PySparkException
from pyspark.sql.connect import proto
from pyspark.sql.types import StructType

from lakesmith.engine.plans import dataframe_of, relation_of
from lakesmith.errors import LakesmithError
from lakesmith.graph.model import Table
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint import Overwrite, ReplaceRows
from lakesmith.runtime.checkpoint.crash import AFTER_REFRESH_COMMIT, AFTER_STATE, crash_point
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows import register_runner
from lakesmith.runtime.flows.base import FlowContext, FlowRunner, require_delta
from lakesmith.runtime.flows.quality import FlowQuality
from lakesmith.runtime.flows.up_to_date import RECORD, Fingerprint, record
from lakesmith.runtime.plan import FlowWork, PlannedFlow
from lakesmith.runtime.refresh.aggregate_state import (
    aggregate_below,
    know_aggregate_schema,
    know_state_schema,
    state_read_replaced,
    with_state,
)
from lakesmith.runtime.refresh.appended import schema_signature
from lakesmith.runtime.refresh.group_aggregate import (
    AppendedRowsBinder,
    merged,
    overflow_issue,
)
from lakesmith.runtime.refresh.planner import GroupAggregateWork, Refreshing, plan_refresh
from lakesmith.runtime.refresh.planning import GROUP_AGGREGATE, NO_OP, PLANNING, TECHNIQUE
from lakesmith.runtime.refresh.preview import refresh_work
from lakesmith.runtime.refresh.view_state import (
    keeps_aggregate,
    recorded_in_view,
    stored_aggregate,
    stored_schema,
)
from lakesmith.runtime.schema import column_comments, declared, nullable
from lakesmith.runtime.workspace import Workspace
from lakesmith.tables import clustering, operations, query_filters
from lakesmith.tables.delta import DeltaLog, apply_metadata, open_table, output_rows
from lakesmith.tables.delta_log import read_commit
from lakesmith.tables.maintenance import maintain_if_due

MAINTAIN_EVERY_REFRESHES = 10


@register_runner("materialized_view")
class MaterializedViewRunner(FlowRunner):
    def plan(self, workspace: Workspace, planned: PlannedFlow) -> FlowWork:
        """The refresh as the planner sees it now (`runtime/refresh/preview.py`): the technique
        is decided again when the flow starts, after upstream flows wrote."""
        dataset = workspace.graph.dataset(planned.flow.target)
        assert isinstance(dataset, Table)
        return refresh_work(workspace, planned, dataset)

    def run(self, ctx: FlowContext) -> FlowMetrics:
        dataset = ctx.table
        require_delta(dataset)
        log = ctx.workspace.table_log(ctx.flow.target)
        refresh_record = ctx.workspace.storage.flow_checkpoint(
            ctx.flow.target, ctx.flow.name).join(RECORD)
        planned = plan_refresh(Refreshing.at_run(ctx), dataset, log, refresh_record)
        ctx.report(FlowMetrics(details={PLANNING: planned.information}))
        if planned.technique == NO_OP:
            # (a flow reading it registers it with the engine then: runtime/binding.py)
            return FlowMetrics(num_output_rows=0,
                               details={"up_to_date": True, "version": log.version(),
                                        TECHNIQUE: NO_OP})
        try:
            metrics, state = self._refresh(ctx, dataset, log, planned.group_aggregate)
        except PySparkException as e:
            issue = overflow_issue(e) if planned.technique == GROUP_AGGREGATE else None
            if issue is None:
                raise
            planned = planned.recompute_instead(issue)  # (nothing of the merge committed)
            ctx.report(FlowMetrics(details={PLANNING: planned.information}))
            metrics, state = self._refresh(ctx, dataset, log, planned.group_aggregate)
        work = planned.group_aggregate
        if state is None and (work.in_view if work is not None else _keeps_aggregate(ctx)):
            state = recorded_in_view(log)  # the view, as recomputed, holds the aggregation
        crash_point(AFTER_REFRESH_COMMIT, ctx.flow.name)
        fingerprint_now = planned.fingerprint
        if isinstance(fingerprint_now, Fingerprint):  # after every commit of this refresh
            if (work is None or work.appended is None) and inputs_moved(ctx, fingerprint_now):
                # The query read a version newer than the planned one: no merge may start
                # from this record (it would count that version's rows twice).
                fingerprint_now = Fingerprint("", fingerprint_now.inputs)
            table_id, version = log.identity() or (None, None)
            record(refresh_record, fingerprint_now, table_id,
                   version or metrics.details["version"], input_schemas(ctx, fingerprint_now),
                   state)
        metrics.details[TECHNIQUE] = planned.technique
        return metrics

    def _refresh(self, ctx: FlowContext, dataset: Table, log: DeltaLog,
                 work: GroupAggregateWork | None) -> tuple[FlowMetrics, dict[str, Any] | None]:
        """The planned refresh's commits; what the refresh records of a backing table."""
        if work is not None and work.in_view:
            return self._merge_in_view(ctx, dataset, log, work), recorded_in_view(log)
        if work is not None and work.below is not None and work.state is not None:
            state = self._refresh_state(ctx, work)
            assert ctx.flow.relation is not None
            know_state_schema(ctx.binder.rewriter, work.below, ctx.workspace.logs(work.state))
            return self._recompute(ctx, dataset, log, with_state(work.below, work.state)), state
        if work is not None:
            return self._merge(ctx, dataset, log, work), None
        return self._recompute(ctx, dataset, log), None

    def _recompute(self, ctx: FlowContext, dataset: Table, log: DeltaLog,
                   relation: proto.Relation | None = None,
                   bound: Callable[[proto.Relation], proto.Relation] | None = None,
                   same_columns_known: bool = False) -> FlowMetrics:
        """The query (or `relation`, the query reading a backing table) run and written;
        `bound` changes `relation` once its reads are bound and Spark's semantics applied.

        With `bound` (the query over the merged rows of the view's aggregation,
        `_merge_in_view`) a result of the view's columns replaces its rows and keeps its
        schema as the last recompute wrote it: the merged rows include the appended rows, read
        from their files, which the engine writes with field metadata a read of the table
        lacks (`SPARK::metadata::json`); a new schema would also tell the view's readers that
        it changed (`runtime/refresh/appended.py`). `same_columns_known`: the planner knows
        the result has the view's columns (its inputs' schemas unchanged): none asked."""
        if relation is None:
            query = ctx.binder.flow_dataframe(ctx.flow)
        else:
            rewriter = ctx.binder.rewriter
            ready = rewriter.spark_semantics(rewriter.rewrite(ctx.binder.prepare(relation)))
            query = dataframe_of(ctx.spark, bound(ready) if bound is not None else ready)
        df = declared(ctx.spark, query, dataset)
        quality = FlowQuality(ctx)
        result, report = quality.check(df)
        if dataset.cluster_by:
            check_clustering_columns(dataset, df.columns)
        marker = ctx.refresh_marker()
        if bound is not None and (same_columns_known or same_columns(df.schema, log.table())):
            ReplaceRows("output", log, lambda: result).write(marker)
        else:
            Overwrite("output", log, lambda: nullable(ctx.spark, result, dataset),
                      partition_cols=dataset.partition_cols).write(marker)
        metrics, clustered = self._after_write(ctx, dataset, log)
        quarantine = quality.writer(df, report, batch=None, overwrite=True)
        if quarantine is not None:
            quarantine.write(marker)
            quality.register()
        if report is not None:
            metrics.details["data_quality"] = report.result()
        return metrics

    def _merge(self, ctx: FlowContext, dataset: Table, log: DeltaLog,
               work: GroupAggregateWork) -> FlowMetrics:
        """GROUP_AGGREGATE (`runtime/refresh/group_aggregate.py`): the stored rows merged with
        the query over the appended rows, in one commit. Nothing appended (only commits that
        rearrange files): the view already holds the result."""
        metrics = FlowMetrics(num_output_rows=0, details={"version": log.version()})
        assert work.appended is not None and ctx.flow.relation is not None
        if not work.appended.files:
            return metrics
        # The rows replaced, the schema kept as the last recompute wrote it.
        _replace_with_merged(ctx, work, ctx.flow.relation, "output", log)
        metrics, _ = self._after_write(ctx, dataset, log)
        return metrics

    def _merge_in_view(self, ctx: FlowContext, dataset: Table, log: DeltaLog,
                       work: GroupAggregateWork) -> FlowMetrics:
        """GROUP_AGGREGATE with the view as its aggregation's backing table (`runtime/refresh/
        view_state.py`): the aggregation's rows the view holds, merged with the appended rows'
        aggregates (none appended: as they are), in place of the aggregation in the query,
        written as the view's one commit."""
        assert work.below is not None and work.appended is not None
        assert ctx.flow.relation is not None
        version = log.version()
        assert version is not None  # (planned from its rows)
        rows = stored_aggregate(ctx.spark, log.location, version, work.form, work.schema)
        binder = None
        if work.appended.files:
            binder = AppendedRowsBinder(ctx.graph, ctx.spark, ctx.catalog, ctx.binder.project,
                                        work.table, work.appended.dataframe(ctx.spark),
                                        work.appended.schema(), ctx.workspace.logs)
        try:
            if binder is not None:
                rows = merged(binder, work.below.relation, work.form, log.location, work.schema,
                              stored=rows)
            merged_rows = relation_of(rows)
            know_aggregate_schema(ctx.binder.rewriter, work.below, work.schema)
            return self._recompute(
                ctx, dataset, log, with_state(work.below, log.location),
                lambda ready: _in_place_of_read(ready, log.location, merged_rows),
                same_columns_known=work.same_columns)
        finally:
            if binder is not None:
                binder.close()

    def _refresh_state(self, ctx: FlowContext, work: GroupAggregateWork) -> dict[str, Any]:
        """Bring an aggregation's backing table up to date (`runtime/refresh/
        aggregate_state.py`): merged with the appended rows, or rebuilt from the whole table.
        Returns what the refresh records of it."""
        assert work.below is not None and work.state is not None
        state = ctx.workspace.logs(work.state)
        if work.appended is None:
            rows = ctx.binder.rewriter.dataframe(ctx.binder.prepare(work.below.relation))
            Overwrite("state", state, lambda: rows).write(ctx.refresh_marker())
        elif work.appended.files:
            _replace_with_merged(ctx, work, work.below.relation, "state", state)
        crash_point(AFTER_STATE, ctx.flow.name)
        version = state.version()
        if version is not None:  # each write replaces every file: vacuum the replaced ones
            maintain_if_due(state.location, version, compact=False,
                            every=MAINTAIN_EVERY_REFRESHES)
        return {"table_id": state.table_id(), "version": state.version()}

    def _after_write(self, ctx: FlowContext, dataset: Table,
                     log: DeltaLog) -> tuple[FlowMetrics, dict[str, Any] | None]:
        version = log.version()
        assert version is not None
        commit = read_commit(log.location, version)
        apply_metadata(log.location, description=dataset.comment,
                       properties=table_properties(dataset),
                       column_comments=column_comments(ctx.spark, dataset), log=log)
        # Each refresh replaces every file: vacuum the replaced ones under the table's retention.
        maintain_if_due(log.location, version, compact=False, every=MAINTAIN_EVERY_REFRESHES)
        register_for_readers(ctx)
        seed_auto_clustering(dataset, log.location)
        clustered = cluster_refreshed(ctx.spark, log, dataset.name)
        metrics = FlowMetrics(num_output_rows=output_rows(commit.info),
                              details={"version": version})
        if clustered is not None:
            metrics.details["clustering"] = clustered
        return metrics, clustered


def register_for_readers(ctx: FlowContext) -> None:
    """Register the view with the engine once it is written, when a flow of the pipeline reads
    it by name (`runtime/binding.py` registers a table when a flow first reads it): the
    request (4-10 ms) is then this flow's, which its readers wait for anyway, not on their
    path after it. A view nothing reads is not registered: no round trip."""
    target = ctx.flow.target
    if any(read.dataset == target and not read.read.streaming
           for flow in ctx.graph.flows if flow is not ctx.flow for read in flow.inputs):
        ctx.catalog.register(target)


def _keeps_aggregate(ctx: FlowContext) -> bool:
    """Whether the view just recomputed holds its aggregation's rows (`view_state.py`), so
    the next refresh can merge into them."""
    if ctx.flow.relation is None:
        return False
    below = aggregate_below(ctx.flow.relation)
    table = ctx.workspace.table_log(ctx.flow.target).table()
    return below is not None and keeps_aggregate(ctx.graph, ctx.flow, ctx.table, below) and \
        stored_schema(table, below) is not None


def _in_place_of_read(relation: proto.Relation, view: Location,
                      rows: proto.Relation) -> proto.Relation:
    """`relation` with its one read of `view` (`with_state`) replaced by `rows`."""
    replaced = state_read_replaced(relation, view, rows)
    if replaced is None:
        raise LakesmithError(f"internal error: the refresh's query does not read {view} once "
                             "where its aggregation was.",
                             hint="run the pipeline with --full-refresh of this view.")
    return replaced


def same_columns(schema: StructType, table: Any) -> bool:
    """Whether `table` (a delta-rs table, or None) has exactly the columns of `schema`, by name
    and type (not nullability or field metadata)."""
    if table is None:
        return False
    stored = StructType.fromJson(json.loads(table.schema().to_json()))
    return [(f.name, f.dataType.simpleString()) for f in schema.fields] == \
        [(f.name, f.dataType.simpleString()) for f in stored.fields]


def inputs_moved(ctx: FlowContext, fingerprint_now: Fingerprint) -> bool:
    """Whether a table the flow reads has a newer version than its fingerprint names (written
    while the query ran: from outside the pipeline, as its own flows ran before this one)."""
    for read in ctx.flow.inputs:
        if read.dataset is None or ctx.graph.kind(read.dataset).is_view:
            continue
        planned = fingerprint_now.inputs.get(".".join(read.dataset.key))
        if planned is not None and ctx.workspace.table_log(read.dataset).version() != planned[1]:
            return True
    return False


def input_schemas(ctx: FlowContext, fingerprint_now: Fingerprint) -> dict[str, str]:
    """The schema signature of each pipeline table the refresh read (`runtime/refresh/
    appended.py`): rows appended later under the same schema can be merged into it."""
    signatures: dict[str, str] = {}
    for read in ctx.flow.inputs:
        if read.dataset is None or ctx.graph.kind(read.dataset).is_view:
            continue
        key = ".".join(read.dataset.key)
        if key in fingerprint_now.inputs:
            signature = schema_signature(ctx.workspace.table_log(read.dataset))
            if signature is not None:
                signatures[key] = signature
    return signatures


def check_clustering_columns(dataset: Table, columns: list[str]) -> None:
    """CLUSTER BY columns must be columns of the view's query: refused before anything is
    written, as Databricks does."""
    missing = [c for c in dataset.cluster_by if c not in columns]
    if missing:
        raise LakesmithError(
            f"[DELTA_COLUMN_NOT_FOUND_IN_SCHEMA] {dataset.location}: CLUSTER BY of "
            f"'{dataset.name}' names {', '.join(missing)}, not a column of its query "
            f"(columns: {', '.join(columns)}).",
            hint="cluster by columns the query returns.")


def cluster_refreshed(spark: Any, log: DeltaLog, name: str) -> dict[str, Any] | None:
    """Cluster a clustered view's new files right after its refresh (None: not clustered).

    The engine's writer cannot write the result clustered itself: a sorted plan's rows are
    spread over several files with overlapping ranges (docs/engine-gaps.md), so files of
    disjoint ranges need the staged, per-range writes of `tables/incremental_clustering.py`
    and a commit of their own. Clustering the refresh's files in the same flow run costs one
    more read and write of the view; its readers never see it unclustered for long, and the
    predictive step after the update finds nothing left to do. A failure fails the flow, the
    view refreshed but not clustered (the next refresh clusters it)."""
    location = log.location
    table = log.table()  # advanced: the metadata just set may have committed
    if table is None:
        return None
    configuration = table.metadata().configuration
    auto_filters = clustering.is_auto(configuration) and query_filters.read(location).columns
    if not clustering.columns(configuration) and not auto_filters:
        return None
    try:
        result = operations.optimize(location, name, spark=spark)
    except LakesmithError as e:
        raise LakesmithError(f"'{name}' was refreshed, but clustering it failed: {e.message}",
                             hint=e.hint) from e
    metrics = result.row["metrics"]
    return {"reason": result.reason, "numFilesAdded": metrics["numFilesAdded"],
            "numFilesRemoved": metrics["numFilesRemoved"]}


def table_properties(dataset: Table) -> dict[str, str]:
    """The definition's table properties, plus its clustering columns as `tables/clustering.py`
    records them (OPTIMIZE and predictive optimization cluster by them). CLUSTER BY AUTO sets
    only `clusterByAuto`: its columns are OPTIMIZE's to choose (`seed_auto_clustering`)."""
    properties = dict(dataset.table_properties)
    if dataset.cluster_by_auto:
        properties[clustering.AUTO_PROPERTY] = "true"
    elif dataset.cluster_by:
        properties.update(clustering.properties(dataset.cluster_by))
    return properties


def seed_auto_clustering(dataset: Table, location: Location) -> None:
    """A CLUSTER BY AUTO table's first clustering columns (its `cluster_by`, or none), set once:
    later updates keep the columns OPTIMIZE chose from the queries' filters."""
    if not dataset.cluster_by_auto:
        return
    table = open_table(location)
    if table is not None and clustering.COLUMNS_PROPERTY not in table.metadata().configuration:
        seed = clustering.properties(dataset.cluster_by, auto=True)
        apply_metadata(location, description=None, properties=seed)


def _replace_with_merged(ctx: FlowContext, work: GroupAggregateWork, relation: Any, name: str,
                         log: DeltaLog) -> None:
    """Replace the rows of the table `log` reads (the view, or its backing table) with its
    stored rows merged with `relation` over the appended rows, in one commit."""
    assert work.appended is not None
    binder = AppendedRowsBinder(ctx.graph, ctx.spark, ctx.catalog, ctx.binder.project,
                                work.table, work.appended.dataframe(ctx.spark),
                                work.appended.schema(), ctx.workspace.logs)
    try:
        result = merged(binder, relation, work.form, log.location, work.schema)
        ReplaceRows(name, log, lambda: result).write(ctx.refresh_marker())
    finally:
        binder.close()
