"""Temporary views are not stored: their query is inlined wherever they are read, so running one
only means it is available to the flows downstream of it. A view with expectations is evaluated
once per update here (counts in the event log, `fail` rules stop it and what reads it); its `drop`
rules apply where it is inlined."""

from __future__ import annotations

from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows import register_runner
from lakesmith.runtime.flows.base import FlowContext, FlowRunner
from lakesmith.runtime.flows.quality import FlowQuality
from lakesmith.runtime.plan import VIEW, FlowWork, PlannedFlow
from lakesmith.runtime.workspace import Workspace


@register_runner("temporary_view")
class TemporaryViewRunner(FlowRunner):
    def plan(self, workspace: Workspace, planned: PlannedFlow) -> FlowWork:
        return FlowWork(VIEW, "inlined where it is read")

    def run(self, ctx: FlowContext) -> FlowMetrics:
        quality = FlowQuality(ctx)
        if not quality.rules or ctx.flow.streaming:
            return FlowMetrics()
        df = ctx.binder.rewriter.dataframe(ctx.flow.relation)
        _, report = quality.check(df)
        assert report is not None
        return FlowMetrics(details={"data_quality": report.result()})
