"""What a flow's expectations did in an update, in the words of its summary line: rows dropped,
violations of `warn` rules, and the quarantine table that kept the dropped rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakesmith.graph.expectations import ExpectationAction
from lakesmith.quality.expectations import ExpectationSet
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.flows.quality import QUARANTINE_SUFFIX, keeps_quarantine


@dataclass(frozen=True)
class FlowQualityCounts:
    dropped: int  # rows `drop` rules removed
    warned: int  # violations of `warn` rules (a row failing two rules counts twice)
    quarantine: str | None  # the table the dropped rows went to, when the dataset keeps them


def flow_quality(graph: Any, flow: Any, metrics: FlowMetrics | None) -> FlowQualityCounts | None:
    """None when the flow evaluated no expectation."""
    report = metrics.details.get("data_quality") if metrics is not None else None
    if report is None:
        return None
    rules = ExpectationSet.for_flow(graph, flow).rules
    warn_rules = {(r.dataset, r.expectation.name) for r in rules
                  if r.expectation.action == ExpectationAction.WARN}
    warned = sum(count for key, count in report.failed.items() if key in warn_rules)
    dataset = graph.dataset(flow.target)
    keeps = keeps_quarantine(dataset)
    return FlowQualityCounts(dropped=report.dropped_records, warned=warned,
                             quarantine=dataset.name + QUARANTINE_SUFFIX if keeps else None)
