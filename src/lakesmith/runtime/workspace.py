"""What every flow of an update works with: the engine session, the graph, where tables and
checkpoints live, and the Delta logs read so far (shared, so each is loaded once per update).

An update holds no process-wide state: two pipelines can run in one process (a scheduler, the web
UI), each with its own workspace.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint import Checkpoint
from lakesmith.runtime.storage import PipelineStorage
from lakesmith.runtime.streaming.sources import flow_sources
from lakesmith.sources.base import StreamSource
from lakesmith.tables.catalog import TableCatalog
from lakesmith.tables.delta import DeltaLog, DeltaLogs


@dataclass
class Workspace:
    spark: Any
    graph: DataflowGraph
    catalog: TableCatalog
    storage: PipelineStorage
    project: Location  # the project folder: relative paths in pipeline code are relative to it
    pipeline_name: str
    logs: DeltaLogs = field(default_factory=DeltaLogs)
    # Expectation counts run alongside a flow's write on these threads.
    evaluations: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(
        max_workers=4, thread_name_prefix="expectations"))
    _sources: dict[int, dict[str, StreamSource]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def table_log(self, name: TableName) -> DeltaLog:
        return self.logs(self.catalog.location(name))

    def checkpoint(self, flow: ResolvedFlow) -> Checkpoint:
        dataset = self.graph.dataset(flow.target)
        return Checkpoint(self.storage.flow_checkpoint(flow.target, flow.name),
                          flow=flow.name, table=".".join(flow.target.key),
                          display_table=dataset.name)

    def sources(self, flow: ResolvedFlow) -> dict[str, StreamSource]:
        """The flow's stream sources (made once per update: planning and running share them)."""
        with self._lock:
            found = self._sources.get(id(flow))
            if found is None:
                found = self._sources[id(flow)] = flow_sources(
                    flow, self.graph, self.catalog, self.logs, self.project)
            return found

    def close(self) -> None:
        self.evaluations.shutdown(wait=False, cancel_futures=True)
