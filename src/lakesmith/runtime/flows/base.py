"""What a flow runner gets to work with, and what it must do."""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.model import Dataset
from lakesmith.runtime.binding import TableBinder
from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.plan import PlannedFlow
from lakesmith.runtime.streaming.checkpoint import directory_name
from lakesmith.tables.catalog import TableCatalog


@dataclass
class FlowContext:
    spark: Any
    graph: DataflowGraph
    catalog: TableCatalog
    binder: TableBinder
    pipeline_name: str
    update_id: str
    planned: PlannedFlow
    storage: Path
    stop: threading.Event = field(default_factory=threading.Event)
    on_progress: Callable[[FlowMetrics], None] | None = None

    @property
    def flow(self) -> ResolvedFlow:
        return self.planned.flow

    @property
    def dataset(self) -> Dataset:
        return self.graph.dataset(self.flow.target)

    def checkpoint_root(self) -> Path:
        """<storage>/checkpoints/<table>/<flow>: one checkpoint per flow."""
        return (self.storage / "checkpoints" / directory_name(str(self.flow.target))
                / directory_name(self.flow.name))

    def report(self, metrics: FlowMetrics) -> None:
        """Progress within a flow (e.g. after each micro-batch)."""
        if self.on_progress is not None:
            self.on_progress(metrics)

    def commit_marker(self, batch: int | None = None) -> str:
        """The `userMetadata` of each commit a flow makes: which pipeline, update, flow, batch."""
        marker: dict[str, Any] = {
            "lakesmith": {"pipeline": self.pipeline_name, "update_id": self.update_id,
                          "flow": self.flow.name}
        }
        if batch is not None:
            marker["lakesmith"]["batch"] = batch
        return json.dumps(marker, separators=(",", ":"))


class FlowRunner(ABC):
    @abstractmethod
    def run(self, ctx: FlowContext) -> FlowMetrics:
        """Execute the flow once for this update and report what it did."""
