"""What a flow runner gets to work with, and what it must do: say what it will do in an update
(`plan`, shown by dry-run before anything runs) and then do exactly that (`run`)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lakesmith.errors import NotSupportedYet
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.model import Dataset, Table
from lakesmith.runtime.binding import TableBinder
from lakesmith.runtime.checkpoint.records import REFRESH, Marker
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.plan import FlowWork, PlannedFlow
from lakesmith.runtime.workspace import Workspace
from lakesmith.tables.catalog import TableCatalog


@dataclass
class FlowContext:
    workspace: Workspace
    binder: TableBinder
    update_id: str
    planned: PlannedFlow
    stop: threading.Event = field(default_factory=threading.Event)
    on_progress: Callable[[FlowMetrics], None] | None = None

    @property
    def spark(self) -> Any:
        return self.workspace.spark

    @property
    def graph(self) -> DataflowGraph:
        return self.workspace.graph

    @property
    def catalog(self) -> TableCatalog:
        return self.workspace.catalog

    @property
    def pipeline_name(self) -> str:
        return self.workspace.pipeline_name

    @property
    def flow(self) -> ResolvedFlow:
        return self.planned.flow

    @property
    def work(self) -> FlowWork:
        assert self.planned.work is not None, "the update runs planned flows only"
        return self.planned.work

    @property
    def dataset(self) -> Dataset:
        return self.graph.dataset(self.flow.target)

    @property
    def table(self) -> Table:
        """The flow's target, for flows that write a stored table (the graph guarantees it)."""
        dataset = self.dataset
        if not isinstance(dataset, Table):
            raise TypeError(f"flow '{self.flow.name}' writes {dataset.kind.label} "
                            f"'{dataset.name}', not a table")
        return dataset

    def report(self, metrics: FlowMetrics) -> None:
        """Progress within a flow (e.g. after each micro-batch)."""
        if self.on_progress is not None:
            self.on_progress(metrics)

    def refresh_marker(self) -> Marker:
        """The marker of a commit that is not a checkpointed batch (a materialized view)."""
        return Marker(kind=REFRESH, flow=self.flow.name.lower(), pipeline=self.pipeline_name,
                      update_id=self.update_id)


class FlowRunner(ABC):
    @abstractmethod
    def plan(self, workspace: Workspace, planned: PlannedFlow) -> FlowWork:
        """What this flow will do in the update, decided from metadata only (no table data)."""

    @abstractmethod
    def run(self, ctx: FlowContext) -> FlowMetrics:
        """Execute the planned work and report what it did."""


def require_delta(dataset: Table) -> None:
    if dataset.format not in (None, "delta"):
        raise NotSupportedYet(
            f"'{dataset.name}' asks for format '{dataset.format}'; lakesmith writes Delta tables "
            "only.")
