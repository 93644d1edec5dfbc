"""A pipeline project opened for work: its spec, an engine session, its sources loaded into a
validated graph. The CLI commands are thin wrappers around this."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lakesmith import errors
from lakesmith.authoring.context import session_active
from lakesmith.authoring.loader import load_definitions
from lakesmith.engine.session import Engine, start_engine
from lakesmith.engine.sql_variables import VARIABLES_ATTRIBUTE, pipeline_variables
from lakesmith.errors import LakesmithError
from lakesmith.graph.build import build_graph
from lakesmith.graph.datasets import Table
from lakesmith.graph.graph import DataflowGraph
from lakesmith.graph.identifiers import NameResolver, TableName
from lakesmith.locations import Location
from lakesmith.project import PipelineSpec, find_spec, load_spec
from lakesmith.runtime.analysis import analyze_graph, dataset_schemas
from lakesmith.runtime.analysis_cache import analysis_key, cached_schemas, record_schemas
from lakesmith.runtime.eventlog import EventLog
from lakesmith.runtime.events import Listeners, UpdateListener, UpdateState
from lakesmith.runtime.flow_filters import record_flow_filters
from lakesmith.runtime.maintenance import TableMaintenance, maintain_tables
from lakesmith.runtime.plan import UpdatePlan, plan_update
from lakesmith.runtime.planner import plan_work
from lakesmith.runtime.published_views import (
    published_views,
    record_views,
    view_name_conflicts,
)
from lakesmith.runtime.storage import PipelineStorage
from lakesmith.runtime.update import (
    DEFAULT_MAX_CONCURRENT_FLOWS,
    DEFAULT_TRIGGER_INTERVAL,
    MAX_CONCURRENT_FLOWS_KEY,
    UpdateResult,
    UpdateRunner,
)
from lakesmith.runtime.workspace import Workspace
from lakesmith.stopping import StopRequest
from lakesmith.storage_options import engine_environment
from lakesmith.tables.catalog import TableCatalog
from lakesmith.tables.delta import DeltaLogs
from lakesmith.tables.logs_ahead import forget as forget_logs_loaded_ahead

logger = logging.getLogger(__name__)


@dataclass
class Pipeline:
    spec: PipelineSpec
    engine: Engine
    graph: DataflowGraph
    source_files: list[Path]
    # When loading the pipeline's code began: its first update's INITIALIZING starts there, as
    # on Databricks (building the graph, analysing it, inferring schemas, planning the work).
    opened_at: tuple[datetime, float] | None = None
    catalog: TableCatalog = field(init=False)
    storage: PipelineStorage = field(init=False)

    def __post_init__(self) -> None:
        self.catalog = TableCatalog(self.spec.warehouse, self.engine.spark,
                                    table_paths(self.graph, self.spec))
        self.storage = PipelineStorage(self.spec.storage, self.spec.name)

    @property
    def spark(self) -> Any:
        return self.engine.spark

    def plan(self, *, refresh: Sequence[str] = (), full_refresh: Sequence[str] = (),
             full_refresh_all: bool = False) -> UpdatePlan:
        """Which flows an update runs (the selection); `plan_work` adds what each will do."""
        return plan_update(self.graph, refresh=refresh, full_refresh=full_refresh,
                           full_refresh_all=full_refresh_all)

    def workspace(self) -> Workspace:
        return Workspace(spark=self.spark, graph=self.graph, catalog=self.catalog,
                         storage=self.storage, project=self.spec.root_location,
                         pipeline_name=self.spec.name, configuration=self.spec.configuration)

    def plan_work(self, plan: UpdatePlan) -> UpdatePlan:
        """Each flow's work in an update run now (metadata only; what `dry-run` shows)."""
        workspace = self.workspace()
        try:
            return plan_work(plan, workspace)
        finally:
            workspace.close()
            forget_logs_loaded_ahead()

    def analyze(self, workspace: Workspace | None = None,
                reported: frozenset[TableName] = frozenset()) -> dict[str, Any]:
        """Resolve every flow's query against the engine; raises with every problem found.
        Stream sources come from `workspace` (the update's, so that they are made once); flows
        into `reported` datasets (problems known already) and what reads them are skipped."""
        conflicts = view_name_conflicts(self.graph, self.catalog)
        if conflicts:
            raise errors.GraphValidationError(conflicts)
        self.engine.ensure_started()
        own = workspace is None
        workspace = workspace or self.workspace()
        try:
            return analyze_graph(self.graph, self.spark, self.spec.root_location,
                                 stream_sources=workspace.sources, reported=reported)
        finally:
            if own:
                workspace.close()

    def analyze_or_reuse(self, workspace: Workspace) -> dict[str, Any]:
        """`analyze`, unless the last successful analysis depended on exactly what the graph
        depends on now: then its schemas (`runtime/analysis_cache.py`)."""
        key = analysis_key(workspace, self.spark)
        schemas = cached_schemas(self.storage.location, key)
        if schemas is None:
            schemas = self.analyze(workspace)
            record_schemas(self.storage.location, key, schemas)
        return schemas

    def run(self, plan: UpdatePlan, *listeners: UpdateListener, continuous: bool = False,
            trigger_interval: float = DEFAULT_TRIGGER_INTERVAL,
            stop: StopRequest | None = None) -> UpdateResult:
        """Run an update: under the pipeline's lock, analyse the graph, plan each flow's work
        (what dry-run shows, now final), record the plan, then execute exactly it."""
        update_id = str(uuid.uuid4())
        self.storage.pipeline_id()  # refuses storage that belongs to another pipeline
        with self.storage.lock() as lock:
            # The update's time includes INITIALIZING, as on Databricks: the first update of an
            # opened pipeline began when its code began loading.
            started_at, start = self.opened_at or (datetime.now(timezone.utc),
                                                   time.perf_counter())
            self.opened_at = None
            self.storage.record_table_locations(self.catalog.paths)
            workspace = self.workspace()
            error: BaseException | None = None
            flow_schemas: dict[str, Any] = {}
            try:
                flow_schemas = self.analyze_or_reuse(workspace)
                record_views(self.storage.location, published_views(self.graph))
                plan = plan_work(plan, workspace, on_data=self.engine.start_in_background)
                if any(p.work is not None and p.work.has_data_now for p in plan.flows):
                    # Started here, not by the first flow: a failure is the update's error as
                    # before, and no flow's time includes the start.
                    self.engine.ensure_started()
            except BaseException as e:
                error = e
            event_log = EventLog(self.storage, update_id, self.graph, plan,
                                 continuous=continuous, started_at=started_at,
                                 flushed_by_caller=True)
            # (an update that writes data starts the engine: its events are written from then)
            self.engine.on_start(lambda spark: event_log.work_begins())
            listener = Listeners(event_log, *listeners)
            listener.update_progress(UpdateState.INITIALIZING)
            if lock.previous_holder:
                event_log.lock_taken_over(
                    "The previous update did not release the pipeline lock (process "
                    f"{lock.previous_holder.get('pid')} on {lock.previous_holder.get('host')} "
                    "ended without finishing); this update took it over and recovers any "
                    "interrupted batch.")
            if error is not None:
                listener.update_progress(UpdateState.FAILED, error)
                workspace.close()
                raise error
            event_log.definitions(flow_schemas)
            runner = UpdateRunner(
                workspace=workspace, plan=plan, listener=listener,
                schemas=dataset_schemas(self.graph, flow_schemas),
                max_concurrent_flows=self.max_concurrent_flows, update_id=update_id,
                continuous=continuous, trigger_interval=trigger_interval, stop=stop,
            )
            try:
                initializing = time.perf_counter() - start
                result = replace(runner.run(), started_at=started_at,
                                 initializing_seconds=initializing)
                if result.state == UpdateState.COMPLETED:
                    record_flow_filters(self.graph, self.catalog, (p.flow for p in plan.flows))
                if result.state == UpdateState.COMPLETED and not continuous:
                    # (while the update's last events are written, on the log's writer thread)
                    self.maintain(event_log, logs=workspace.logs)
                if result.state == UpdateState.COMPLETED:  # the next command loads them ahead
                    self.storage.record_delta_logs([*workspace.logs.tables(),
                                                    event_log.location])
                return result
            finally:
                try:
                    event_log.flush()  # every event written before the update returns
                finally:
                    workspace.close()
                    forget_logs_loaded_ahead()

    def maintain(self, event_log: EventLog, tables: Sequence[TableName] | None = None,
                 logs: DeltaLogs | None = None) -> list[TableMaintenance]:
        """Predictive optimization of the pipeline's tables (the caller holds the lock); each
        operation is recorded as a `maintenance` event. `logs`: the tables an update loaded."""
        done = maintain_tables(self.graph, self.catalog, self.storage, self.spec.configuration,
                               tables, self.spark, logs)
        for table in done:
            for outcome in table.outcomes:
                event_log.maintenance(table.dataset, str(table.table), outcome.action.operation,
                                      outcome.action.reason, outcome.metrics, outcome.error)
        event_log.flush()
        return done

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
                  verbose: bool = False, start: Path | None = None,
                  configuration: Mapping[str, str] | None = None,
                  analyze_invalid: bool = False) -> Iterator[Pipeline]:
    """Load the spec (with `configuration` overriding its keys), start (or connect) the engine,
    load sources and build the graph; the engine is stopped when the block exits, on errors and
    on Ctrl-C too. With `analyze_invalid` (dry-run, run), an invalid graph's error also has the
    problems analysis finds in the flows that could be built: every problem in one run."""
    spec = load_spec(spec_path) if spec_path else load_spec(find_spec(start or Path.cwd()))
    spec = spec.with_configuration(configuration or {})
    # Relative paths in sources (spark.read.csv("data/x.csv")) mean the project folder: they are
    # made absolute when plans are bound, so nothing here changes the working directory.
    # The embedded engine starts on the first request that needs it: an update with nothing new
    # asks it nothing (engine/lazy_start.py).
    with start_engine(remote, verbose=verbose, conf=spec.configuration,
                      environment=engine_environment(spec.storage.options), lazy=True) as engine:
        if verbose:
            from lakesmith.engine.sql_log import log_sql_statements

            log_sql_statements(engine.spark)
        opened_at = (datetime.now(timezone.utc), time.perf_counter())
        # `${...}` in expression strings (`F.expr`) read the configuration, as in spark.sql
        setattr(engine.spark, VARIABLES_ATTRIBUTE,
                lambda: pipeline_variables(spec.configuration))
        engine.on_start(lambda spark: prepare_session(spark, spec))
        with session_active(engine.spark):
            definitions, files = load_definitions(spec, engine.spark)
            # (when the engine runs: found from the warehouse's folders now, registered then)
            engine.on_start(lambda spark: register_outside_tables(spark, spec,
                                                                  definitions.datasets))
            try:
                graph = build_graph(definitions, engine.spark,
                                    NameResolver(spec.catalog, spec.schema),
                                    user_files=frozenset(str(f) for f in files),
                                    project=spec.root_location,
                                    configuration=spec.configuration)
            except errors.GraphValidationError as e:
                if not analyze_invalid:
                    raise
                raise _with_analysis_problems(e, engine, spec, files) from None
        yield Pipeline(spec=spec, engine=engine, graph=graph, source_files=files,
                       opened_at=opened_at)


def table_paths(graph: DataflowGraph, spec: PipelineSpec) -> dict[TableName, Location]:
    """The tables whose definition gives a `path` (`LOCATION`), at that location; two tables may
    not share one."""
    paths: dict[TableName, Location] = {}
    for name in graph.stored_datasets():
        dataset = graph.dataset(name)
        if not isinstance(dataset, Table) or dataset.path is None:
            continue
        location = spec.location(dataset.path, where=f"{dataset.location}: path of "
                                                     f"'{dataset.name}'")
        other = next((n for n, p in paths.items() if p.uri == location.uri), None)
        if other is not None:
            raise LakesmithError(
                f"{dataset.location}: '{dataset.name}' and '{graph.dataset(other).name}' are "
                f"both stored at {location}; give each table its own path.")
        paths[name] = location
    return paths


def register_outside_tables(spark: Any, spec: PipelineSpec, datasets: Sequence[Any]) -> None:
    """Tables in the warehouse that the pipeline does not define (`ext.customers`, created with
    `lakesmith sql` or by a test) readable by name in its sources, as tables of the catalog are
    on Databricks. The pipeline's own tables are left to its catalog, which registers each when
    it is read."""
    names = NameResolver(spec.catalog, spec.schema)
    own: set[TableName] = set()
    for dataset in datasets:
        try:
            own.add(names.qualify(dataset.name))
        except LakesmithError:  # an invalid name: building the graph reports it
            continue
    TableCatalog(spec.warehouse, spark).register_warehouse(catalogs=[spec.catalog], skip=own)


def prepare_session(spark: Any, spec: PipelineSpec) -> None:
    """Unqualified names of tables outside the pipeline resolve in the spec's schema. A new
    session is in `default` already, which every catalog has (two round trips fewer)."""
    from lakesmith.tables.catalog import quote_always

    if spec.schema.lower() == "default":
        return
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {quote_always(spec.schema)}")
    spark.catalog.setCurrentDatabase(quote_always(spec.schema))


def _with_analysis_problems(error: errors.GraphValidationError, engine: Engine, spec: PipelineSpec,
                            files: list[Path]) -> errors.GraphValidationError:
    """`error` with the problems analysis finds in the flows that could be built, so that one
    run reports every problem (an unknown column in one flow and a missing table in another)."""
    partial = error.partial
    if partial is None:
        return error
    # Flows whose definition has a problem already (found by building or validating) are not
    # analysed: their analysis errors would repeat it.
    located = {p.location for p in error.problems if p.location is not None}
    reported = partial.unresolved | {f.target for f in partial.graph.flows
                                     if f.flow.location in located}
    pipeline = Pipeline(spec=spec, engine=engine, graph=partial.graph, source_files=files)
    try:
        pipeline.analyze(reported=reported)
    except errors.GraphValidationError as more:
        known = {str(p) for p in error.problems}
        return errors.GraphValidationError(
            error.problems + [p for p in more.problems if str(p) not in known])
    except Exception as e:  # analysing a broken graph failed otherwise: its own problems stand
        logger.debug("analysis of the flows that could be built failed: %s", e)
    return error
