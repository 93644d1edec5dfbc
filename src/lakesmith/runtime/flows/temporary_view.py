"""Temporary views are not stored: their query is inlined wherever they are read, so running one
only means it is available to the flows downstream of it."""

from __future__ import annotations

from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows.base import FlowContext, FlowRunner


class TemporaryViewRunner(FlowRunner):
    def run(self, ctx: FlowContext) -> FlowMetrics:
        return FlowMetrics()
