"""What every flow of an update works with: the engine session, the graph, where tables and
checkpoints live, and the Delta logs read so far (shared, so each is loaded once per update).

An update holds no process-wide state: two pipelines can run in one process (a scheduler, the web
UI), each with its own workspace.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lakesmith.errors import LakesmithError
from lakesmith.files import finish_discards
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint import Checkpoint
from lakesmith.runtime.checkpoint.log import DEFAULT_BATCHES_TO_RETAIN
from lakesmith.runtime.storage import PipelineStorage
from lakesmith.runtime.streaming.sources import flow_sources
from lakesmith.sources.base import StreamSource
from lakesmith.tables.catalog import TableCatalog
from lakesmith.tables.delta import DeltaLog, DeltaLogs

MIN_BATCHES_TO_RETAIN = "spark.sql.streaming.minBatchesToRetain"


@dataclass
class Workspace:
    spark: Any
    graph: DataflowGraph
    catalog: TableCatalog
    storage: PipelineStorage
    project: Location  # the project folder: relative paths in pipeline code are relative to it
    pipeline_name: str
    configuration: Mapping[str, str] = field(default_factory=dict)
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
                          display_table=dataset.name, retain=self.batches_to_retain)

    @property
    def batches_to_retain(self) -> int:
        """Spark's `spark.sql.streaming.minBatchesToRetain` (default 100): how many offset and
        commit records a checkpoint keeps."""
        value = self.configuration.get(MIN_BATCHES_TO_RETAIN, str(DEFAULT_BATCHES_TO_RETAIN))
        try:
            retain = int(value)
        except ValueError:
            retain = 0
        if retain < 1:
            raise LakesmithError(f"configuration '{MIN_BATCHES_TO_RETAIN}' must be a positive "
                                 f"integer, got {value!r}.")
        return retain

    def sources(self, flow: ResolvedFlow) -> dict[str, StreamSource]:
        """The flow's stream sources (made once per update: planning and running share them)."""
        with self._lock:
            found = self._sources.get(id(flow))
            if found is None:
                found = self._sources[id(flow)] = flow_sources(
                    flow, self.graph, self.catalog, self.logs, self.project,
                    self.storage.flow_checkpoint(flow.target, flow.name))
            return found

    def close(self) -> None:
        self.evaluations.shutdown(wait=False, cancel_futures=True)
        finish_discards()  # files the update set aside are gone when it ends
