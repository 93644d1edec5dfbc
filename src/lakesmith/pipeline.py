"""A pipeline project opened for work: its spec, an engine session, its sources loaded into a
validated graph. The CLI commands are thin wrappers around this."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import chdir, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakesmith.authoring.context import session_active
from lakesmith.authoring.loader import load_definitions
from lakesmith.engine.session import Engine, start_engine
from lakesmith.graph.build import build_graph
from lakesmith.graph.graph import DataflowGraph
from lakesmith.graph.identifiers import NameResolver
from lakesmith.project import PipelineSpec, find_spec, load_spec
from lakesmith.runtime.analysis import analyze_graph, dataset_schemas
from lakesmith.runtime.eventlog import EventLog
from lakesmith.runtime.events import Listeners, UpdateListener, UpdateState
from lakesmith.runtime.plan import UpdatePlan, plan_update
from lakesmith.runtime.lock import PipelineLock
from lakesmith.runtime.update import (
    DEFAULT_MAX_CONCURRENT_FLOWS,
    DEFAULT_TRIGGER_INTERVAL,
    MAX_CONCURRENT_FLOWS_KEY,
    UpdateResult,
    UpdateRunner,
)
from lakesmith.tables.catalog import TableCatalog


@dataclass
class Pipeline:
    spec: PipelineSpec
    engine: Engine
    graph: DataflowGraph
    source_files: list[Path]
    catalog: TableCatalog = field(init=False)

    def __post_init__(self) -> None:
        self.catalog = TableCatalog(self.spec.warehouse, self.engine.spark)

    @property
    def spark(self) -> Any:
        return self.engine.spark

    def plan(self, *, refresh: Sequence[str] = (), full_refresh: Sequence[str] = (),
             full_refresh_all: bool = False) -> UpdatePlan:
        return plan_update(self.graph, refresh=refresh, full_refresh=full_refresh,
                           full_refresh_all=full_refresh_all)

    def analyze(self) -> dict[str, Any]:
        """Resolve every flow's query against the engine; raises with every problem found."""
        return analyze_graph(self.graph, self.spark)

    def run(self, plan: UpdatePlan, *listeners: UpdateListener, continuous: bool = False,
            trigger_interval: float = DEFAULT_TRIGGER_INTERVAL) -> UpdateResult:
        update_id = str(uuid.uuid4())
        with PipelineLock(self.spec.storage, self.spec.name) as lock:
            event_log = EventLog(self.spec.storage, self.spec.name, update_id, self.graph, plan,
                                 continuous=continuous)
            listener = Listeners(event_log, *listeners)
            listener.update_progress(UpdateState.INITIALIZING)
            if lock.previous_holder:
                event_log.lock_taken_over(
                    "The previous update did not release the pipeline lock (process "
                    f"{lock.previous_holder.get('pid')} on {lock.previous_holder.get('host')} "
                    "ended without finishing); this update took it over and recovers any "
                    "interrupted batch.")
            try:
                flow_schemas = self.analyze()
            except BaseException as e:
                listener.update_progress(UpdateState.FAILED, e)
                raise
            event_log.definitions(flow_schemas)
            runner = UpdateRunner(
                pipeline_name=self.spec.name, spark=self.spark, catalog=self.catalog, plan=plan,
                listener=listener, storage=self.spec.storage,
                schemas=dataset_schemas(self.graph, flow_schemas),
                max_concurrent_flows=self.max_concurrent_flows, update_id=update_id,
                continuous=continuous, trigger_interval=trigger_interval,
            )
            return runner.run()

    @property
    def max_concurrent_flows(self) -> int:
        value = self.spec.configuration.get(MAX_CONCURRENT_FLOWS_KEY)
        return int(value) if value else DEFAULT_MAX_CONCURRENT_FLOWS

    def register_tables(self) -> None:
        """Make every existing pipeline table queryable by name (for `lakesmith sql`)."""
        for name in self.graph.stored_datasets():
            if self.catalog.exists(name):
                self.catalog.register(name)


@contextmanager
def open_pipeline(spec_path: Path | None = None, *, remote: str | None = None,
                  verbose: bool = False, start: Path | None = None) -> Iterator[Pipeline]:
    """Load the spec, start (or connect) the engine, load sources and build the graph; the engine
    is stopped when the block exits, on errors and on Ctrl-C too."""
    spec = load_spec(spec_path) if spec_path else load_spec(find_spec(start or Path.cwd()))
    # Relative paths in sources (spark.read.csv("data/x.csv")) mean the project directory, at
    # load time and when the embedded engine reads them.
    with chdir(spec.root), start_engine(
            remote, verbose=verbose, conf=spec.configuration) as engine:
        prepare_session(engine.spark, spec)
        with session_active(engine.spark):
            definitions, files = load_definitions(spec, engine.spark)
            graph = build_graph(definitions, engine.spark, NameResolver(spec.catalog, spec.schema),
                                user_files=frozenset(str(f) for f in files))
        yield Pipeline(spec=spec, engine=engine, graph=graph, source_files=files)


def prepare_session(spark: Any, spec: PipelineSpec) -> None:
    """Unqualified names of tables outside the pipeline resolve in the spec's schema."""
    from lakesmith.tables.catalog import quote_always

    spark.sql(f"CREATE DATABASE IF NOT EXISTS {quote_always(spec.schema)}")
    spark.catalog.setCurrentDatabase(spec.schema)

