"""Flows lakesmith can define and validate but not run yet: they fail loudly, naming the dataset."""

from __future__ import annotations

from lakesmith.errors import NotSupportedYet
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows.base import FlowContext, FlowRunner


class UnsupportedRunner(FlowRunner):
    def __init__(self, what: str) -> None:
        self.what = what

    def run(self, ctx: FlowContext) -> FlowMetrics:
        raise NotSupportedYet(
            f"'{ctx.dataset.name}' ({ctx.dataset.kind.label}, flow '{ctx.flow.name}'): {self.what} "
            "are not supported by lakesmith yet.")
