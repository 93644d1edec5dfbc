"""Flows lakesmith can define and validate but not run yet: they fail loudly, naming the dataset."""

from __future__ import annotations

from lakesmith.errors import NotSupportedYet
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows import register_runner
from lakesmith.runtime.flows.base import FlowContext, FlowRunner
from lakesmith.runtime.plan import NOT_SUPPORTED, FlowWork, PlannedFlow
from lakesmith.runtime.workspace import Workspace


class UnsupportedRunner(FlowRunner):
    what = "these flows"

    def plan(self, workspace: Workspace, planned: PlannedFlow) -> FlowWork:
        return FlowWork(NOT_SUPPORTED, f"{self.what} are not supported by lakesmith yet")

    def run(self, ctx: FlowContext) -> FlowMetrics:
        raise NotSupportedYet(
            f"'{ctx.dataset.name}' ({ctx.dataset.kind.label}, flow '{ctx.flow.name}'): {self.what} "
            "are not supported by lakesmith yet.")


@register_runner("sink")
class SinkRunner(UnsupportedRunner):
    what = "sinks"
