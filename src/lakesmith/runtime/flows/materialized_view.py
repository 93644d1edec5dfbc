"""Materialized views: recompute the query and replace the table's contents in one Delta commit,
so readers see the old or the new result, never a mix."""

from __future__ import annotations

from lakesmith.graph.model import Dataset
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows.base import FlowContext, FlowRunner
from lakesmith.runtime.flows.quality import FlowQuality
from lakesmith.runtime.flows.writing import require_delta, write_delta
from lakesmith.runtime.schema import conform, declared_schema
from lakesmith.tables import delta

CLUSTER_BY_PROPERTY = "lakesmith.clusterByColumns"


class MaterializedViewRunner(FlowRunner):
    def run(self, ctx: FlowContext) -> FlowMetrics:
        dataset = ctx.dataset
        require_delta(dataset)
        df = ctx.binder.flow_dataframe(ctx.flow)
        schema = declared_schema(ctx.spark, dataset)
        if schema is not None:
            df = conform(df, dataset, schema)
        quality = FlowQuality(ctx)
        result, report = quality.check(df)
        location = ctx.catalog.location(ctx.flow.target)
        write_delta(result, location, mode="overwrite", marker=ctx.commit_marker(),
                    partition_cols=dataset.partition_cols)
        commit = delta.last_commit(location)
        delta.apply_metadata(location, description=dataset.comment,
                             properties=table_properties(dataset))
        ctx.catalog.register(ctx.flow.target)
        # A materialized view's quarantine holds the rows dropped by its latest refresh.
        quality.write_quarantine(df, report, batch=None, mode="overwrite",
                                 marker=ctx.commit_marker())
        metrics = FlowMetrics(num_output_rows=delta.output_rows(commit),
                              details={"version": commit.get("version")})
        if report is not None:
            metrics.details["data_quality"] = report.result()
        return metrics


def table_properties(dataset: Dataset) -> dict[str, str]:
    """The definition's table properties, plus its clustering columns (kept for OPTIMIZE)."""
    properties = dict(dataset.table_properties)
    if dataset.cluster_by:
        properties[CLUSTER_BY_PROPERTY] = ",".join(dataset.cluster_by)
    return properties
