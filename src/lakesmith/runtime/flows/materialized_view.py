"""Materialized views: recompute the query and replace the table's contents in one Delta commit,
so readers see the old or the new result, never a mix; unless the view is up to date (its query,
definition and input versions those of its last refresh: `up_to_date.py`)."""

from __future__ import annotations

from lakesmith.graph.model import Table
from lakesmith.runtime.checkpoint import Overwrite
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows import register_runner
from lakesmith.runtime.flows.base import FlowContext, FlowRunner, require_delta
from lakesmith.runtime.flows.quality import FlowQuality
from lakesmith.runtime.flows.up_to_date import RECORD, fingerprint, record, up_to_date
from lakesmith.runtime.plan import RECOMPUTE, FlowWork, PlannedFlow
from lakesmith.runtime.schema import conform, declared_schema
from lakesmith.runtime.workspace import Workspace
from lakesmith.tables.delta import apply_metadata, output_rows
from lakesmith.tables.delta_log import read_commit
from lakesmith.tables.maintenance import maintain_if_due

CLUSTER_BY_PROPERTY = "lakesmith.clusterByColumns"
MAINTAIN_EVERY_REFRESHES = 10


@register_runner("materialized_view")
class MaterializedViewRunner(FlowRunner):
    def plan(self, workspace: Workspace, planned: PlannedFlow) -> FlowWork:
        return FlowWork(RECOMPUTE, reset=planned.full_refresh)

    def run(self, ctx: FlowContext) -> FlowMetrics:
        dataset = ctx.table
        require_delta(dataset)
        log = ctx.workspace.table_log(ctx.flow.target)
        refresh_record = ctx.workspace.storage.flow_checkpoint(
            ctx.flow.target, ctx.flow.name).join(RECORD)
        inputs = None if ctx.work.reset else fingerprint(ctx.workspace, ctx.flow, dataset)
        if up_to_date(refresh_record, inputs, log.table_id(), log.version()):
            ctx.catalog.register(ctx.flow.target)
            return FlowMetrics(num_output_rows=0,
                               details={"up_to_date": True, "version": log.version()})
        df = ctx.binder.flow_dataframe(ctx.flow)
        schema = declared_schema(ctx.spark, dataset)
        if schema is not None:
            df = conform(df, dataset, schema)
        quality = FlowQuality(ctx)
        result, report = quality.check(df)
        marker = ctx.refresh_marker()
        Overwrite("output", log, lambda: result, partition_cols=dataset.partition_cols).write(marker)
        version = log.version()
        assert version is not None
        commit = read_commit(log.location, version)
        apply_metadata(log.location, description=dataset.comment,
                       properties=table_properties(dataset))
        # Each refresh replaces every file: vacuum the replaced ones under the table's retention.
        maintain_if_due(log.location, version, compact=False, every=MAINTAIN_EVERY_REFRESHES)
        ctx.catalog.register(ctx.flow.target)
        quarantine = quality.writer(df, report, batch=None, overwrite=True)
        if quarantine is not None:
            quarantine.write(marker)
            quality.register()
        if inputs is not None:  # after every commit of this refresh (metadata, maintenance)
            record(refresh_record, inputs, log.table_id(), log.version() or version)
        metrics = FlowMetrics(num_output_rows=output_rows(commit.info),
                              details={"version": version})
        if report is not None:
            metrics.details["data_quality"] = report.result()
        return metrics


def table_properties(dataset: Table) -> dict[str, str]:
    """The definition's table properties, plus its clustering columns (kept for OPTIMIZE)."""
    properties = dict(dataset.table_properties)
    if dataset.cluster_by:
        properties[CLUSTER_BY_PROPERTY] = ",".join(dataset.cluster_by)
    return properties
