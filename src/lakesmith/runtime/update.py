"""One update: run the flows of an update plan and report every state change to the listeners."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from pyspark.sql.types import StructType

from lakesmith.authoring.tracebacks import describe
from lakesmith.errors import FlowFailed, LakesmithError
from lakesmith.graph.identifiers import TableName
from lakesmith.runtime.binding import TableBinder
from lakesmith.runtime.events import IDLE, FlowMetrics, FlowStatus, UpdateListener, UpdateState
from lakesmith.runtime.executor import Outcome, run_dag
from lakesmith.runtime.flows import FlowContext, runner_for
from lakesmith.runtime.plan import PlannedFlow, UpdatePlan
from lakesmith.runtime.planner import plan_work
from lakesmith.runtime.run_totals import add_metrics
from lakesmith.runtime.tables_setup import TableSetup
from lakesmith.runtime.workspace import Workspace
from lakesmith.stopping import StopRequest

logger = logging.getLogger(__name__)

DEFAULT_MAX_CONCURRENT_FLOWS = 4
DEFAULT_TRIGGER_INTERVAL = 10.0
MAX_CONCURRENT_FLOWS_KEY = "lakesmith.maxConcurrentFlows"


class FlowStopped(LakesmithError):
    """A flow interrupted by a stop request (not a failure)."""

    def __init__(self, flow: str) -> None:
        super().__init__(f"Flow '{flow}' was stopped before it finished.")


@dataclass
class FlowResult:
    planned: PlannedFlow
    status: FlowStatus
    metrics: FlowMetrics | None = None
    error: BaseException | None = None


@dataclass
class UpdateResult:
    update_id: str
    state: UpdateState
    started_at: datetime
    duration_seconds: float  # SETTING_UP_TABLES and RUNNING
    flows: list[FlowResult] = field(default_factory=list)
    cycles: int = 1  # a continuous update's cycles; its flows' metrics are summed over them
    initializing_seconds: float = 0.0  # INITIALIZING: analysis, schema inference, planning

    @property
    def total_seconds(self) -> float:
        """The update's time as Databricks reports it: from INITIALIZING to its end."""
        return self.initializing_seconds + self.duration_seconds

    @property
    def failed_flows(self) -> list[FlowResult]:
        return [r for r in self.flows if r.status == FlowStatus.FAILED]


class UpdateRunner:
    """Runs a planned update (`plan` has each flow's work); in continuous mode, plans each later
    cycle the same way before running it."""

    def __init__(self, *, workspace: Workspace, plan: UpdatePlan, listener: UpdateListener,
                 schemas: dict[TableName, StructType] | None = None,
                 max_concurrent_flows: int = DEFAULT_MAX_CONCURRENT_FLOWS,
                 update_id: str | None = None, continuous: bool = False,
                 trigger_interval: float = DEFAULT_TRIGGER_INTERVAL,
                 stop: StopRequest | None = None) -> None:
        self.workspace = workspace
        self.spark = workspace.spark
        self.catalog = workspace.catalog
        self.plan = plan
        self.listener = listener
        self.schemas = schemas or {}
        self.max_concurrent_flows = max_concurrent_flows
        self.update_id = update_id or str(uuid.uuid4())
        self.continuous = continuous
        self.trigger_interval = trigger_interval
        self.stop_request = stop or StopRequest()
        self.stop = self.stop_request.event
        self._results: dict[int, FlowResult] = {}
        self._totals: dict[str, FlowMetrics | None] = {}  # per flow, over every cycle
        self._outcomes: dict[str, FlowResult] = {}  # per flow, its latest finished run
        self._cycle = 0
        self._target_locks: dict[TableName, threading.Lock] = {
            name: threading.Lock() for name in plan.graph.datasets}
        self._writers_left = Counter(p.flow.target for p in plan.flows)
        self._writers_lock = threading.Lock()

    def run(self) -> UpdateResult:
        started_at = datetime.now(timezone.utc)
        start = time.perf_counter()
        graph = self.plan.graph
        binder = TableBinder(graph, self.spark, self.catalog, self.workspace.project,
                             logs=self.workspace.logs)
        state = UpdateState.FAILED
        error: BaseException | None = None
        try:
            with self.stop_request.handling(self._on_stop):
                self.listener.update_progress(UpdateState.SETTING_UP_TABLES)
                TableSetup(self.workspace, self.schemas, self.update_id).run(
                    self.plan.full_refresh)
                self.listener.update_progress(UpdateState.RUNNING)
                outcome = self._run_cycles(binder)
            for planned in outcome.canceled:
                self._report(planned, FlowStatus.SKIPPED)
            if outcome.canceled or self.stop.is_set():
                state = UpdateState.CANCELED
            elif outcome.failed:
                state = UpdateState.FAILED
                error = LakesmithError(
                    f"{len(outcome.failed)} flow(s) failed: "
                    + ", ".join(p.name for p in outcome.failed))
            else:
                state = UpdateState.COMPLETED
        except BaseException as e:
            error = e
            state = UpdateState.CANCELED if isinstance(e, KeyboardInterrupt) else UpdateState.FAILED
            raise
        finally:
            binder.close()
            self.listener.update_progress(state, error)
        flows = [self._results[id(p)] for p in self.plan.flows if id(p) in self._results]
        if self.continuous:
            flows = [replace(self._summarized(r), metrics=self._totals.get(r.planned.name,
                                                                           r.metrics))
                     for r in flows]
        return UpdateResult(
            update_id=self.update_id, state=state, started_at=started_at,
            duration_seconds=time.perf_counter() - start, flows=flows, cycles=self._cycle,
        )

    def _run_cycles(self, binder: TableBinder) -> Outcome[PlannedFlow]:
        """A triggered update runs every flow once; a continuous one repeats until stopped
        (Ctrl-C), waiting `trigger_interval` seconds between cycles."""
        while True:
            self._cycle += 1
            if self._cycle > 1:  # each later cycle reads what arrived since the previous one
                self.plan = plan_work(self.plan, self.workspace)
            for planned in self.plan.flows:
                self._report(planned, FlowStatus.QUEUED)
            for excluded in self.plan.excluded:
                self.listener.flow_progress(excluded, FlowStatus.EXCLUDED)
            outcome = run_dag(
                list(self.plan.flows),
                {p: self._planned_dependencies(p) for p in self.plan.flows},
                lambda p: self._run_flow(p, binder),
                max_workers=self.max_concurrent_flows,
                on_skip=lambda task, failed: self._report(task, FlowStatus.SKIPPED),
                exclusive=lambda p: bool(p.flow.flow.spark_conf),
                stop=self.stop,
            )
            if not self.continuous or outcome.failed or self.stop.is_set():
                return outcome
            cycle_finished = getattr(self.listener, "cycle_finished", None)  # optional
            if cycle_finished is not None:
                cycle_finished(self._cycle, idle=self._cycle_was_idle())
            self.stop.wait(self.trigger_interval)
            if self.stop.is_set():
                return outcome

    def _summarized(self, result: FlowResult) -> FlowResult:
        """A continuous update's summary row for a flow. A flow that the stop kept from starting
        in the cycle it interrupted shows how its latest run ended (the skip says nothing about
        the flow); a flow the stop interrupted while running shows STOPPED."""
        if result.status == FlowStatus.SKIPPED and self.stop.is_set():
            return self._outcomes.get(result.planned.name, result)
        return result

    def _cycle_was_idle(self) -> bool:
        """Whether no flow of the cycle just run had anything to do."""
        if self._cycle <= 1:
            return False
        for planned in self.plan.flows:
            result = self._results.get(id(planned))
            if result is None or result.metrics is None or not result.metrics.details.get(IDLE):
                return False
        return True

    def _planned_dependencies(self, planned: PlannedFlow) -> list[PlannedFlow]:
        deps = []
        for dependency in self.plan.graph.dependencies(planned.flow):
            dep = self.plan.planned(dependency)
            if dep is not None:
                deps.append(dep)
        return deps

    def _run_flow(self, planned: PlannedFlow, binder: TableBinder) -> None:
        flow = planned.flow
        self._report(planned, FlowStatus.STARTING)
        ctx = FlowContext(workspace=self.workspace, binder=binder, update_id=self.update_id,
                          planned=planned, stop=self.stop,
                          on_progress=lambda m: self._report(planned, FlowStatus.RUNNING, m))
        start = time.perf_counter()
        self._report(planned, FlowStatus.RUNNING)
        try:
            if planned.work is not None and planned.work.error is not None:
                raise planned.work.error
            # Flows into one table take turns: Delta appends from one writer at a time.
            with self._target_locks[flow.target], _session_conf(self.spark, flow.flow.spark_conf):
                metrics = runner_for(flow, self.plan.graph).run(ctx)
        except BaseException as e:
            if self.stop.is_set():
                # Interrupted by the stop (the engine reports `operation not found`): nothing
                # of the running batch was committed; the next update recovers it.
                self._report(planned, FlowStatus.STOPPED, FlowMetrics(
                    duration_seconds=time.perf_counter() - start))
                raise FlowStopped(flow.name) from e
            failure = e if isinstance(e, FlowFailed) else FlowFailed(
                flow.name, e.message if isinstance(e, LakesmithError) else describe(e),
                flow.flow.location, hint=getattr(e, "hint", None))
            self._report(planned, FlowStatus.FAILED, FlowMetrics(
                duration_seconds=time.perf_counter() - start), failure)
            raise failure from e
        metrics.duration_seconds = time.perf_counter() - start
        if self._cycle > 1 and _did_nothing(metrics):
            metrics.details[IDLE] = True  # a continuous cycle with nothing new: not logged
        self._settle_when_written(planned)
        self._report(planned, FlowStatus.COMPLETED, metrics)

    def _settle_when_written(self, planned: PlannedFlow) -> None:
        """Once every flow of a triggered update into a table has finished, nothing writes the
        table until the update ends (the pipeline's lock keeps other writers out): the flows
        reading it downstream and the maintenance after the update read its log without
        advancing it again (`tables/delta.py`). A continuous update's next cycle writes again."""
        if self.continuous:
            return
        target = planned.flow.target
        with self._writers_lock:
            self._writers_left[target] -= 1
            if self._writers_left[target] > 0:
                return
        if target in self.plan.graph.stored_datasets():
            self.workspace.table_log(target).settle()

    def _report(self, planned: PlannedFlow, status: FlowStatus, metrics: FlowMetrics | None = None,
                error: BaseException | None = None) -> None:
        self._results[id(planned)] = FlowResult(planned, status, metrics, error)
        if status.is_final:
            self._totals[planned.name] = add_metrics(
                self._totals.get(planned.name), metrics,
                completed=status == FlowStatus.COMPLETED)
            if status in (FlowStatus.COMPLETED, FlowStatus.FAILED):
                self._outcomes[planned.name] = self._results[id(planned)]
        self.listener.flow_progress(planned.flow, status, metrics, error)

    def _on_stop(self) -> None:
        """A stop was requested: no new flow or batch starts (the DAG and the streaming loops
        watch `self.stop`), and the engine is asked to interrupt what runs now."""
        self.listener.update_progress(UpdateState.STOPPING)
        self._interrupt_engine()

    def _interrupt_engine(self) -> None:
        try:
            self.spark.interruptAll()
        except Exception as e:  # best effort: running flows then finish on their own
            logger.debug("interrupting the engine failed: %s", e)


def _did_nothing(metrics: FlowMetrics) -> bool:
    if metrics.details.get("up_to_date") or metrics.details.get("skipped"):
        return True
    if "num_input_rows" in metrics.details:  # a streaming flow
        return metrics.batches == 0
    return metrics.num_output_rows is None and not metrics.details  # a view without checks


@contextmanager
def _session_conf(spark: Any, conf: dict[str, str] | Any) -> Iterator[None]:
    """Set a flow's spark_conf for its run (such flows run alone), then restore the session."""
    if not conf:
        yield
        return
    saved = {key: spark.conf.get(key, None) for key in conf}
    for key, value in conf.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
