"""The update plan: which flows an update runs, which datasets it resets, and what each flow will
do — refresh a materialized view (by the technique its planner previews), read the backlog of
each source incrementally, recover an interrupted batch, or skip because it is up to date. It is
computed (and shown by `dry-run`) before anything runs; the runner only executes a plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from lakesmith.errors import LakesmithError, UsageError
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.runtime.selection import select_datasets
from lakesmith.sources.base import Backlog, SourceOffset

# What a flow does in an update.
# A materialized view: refreshed by the technique its planner chooses when the flow starts
# (`runtime/refresh/`); the plan previews it (`technique`, and why in `reason`).
REFRESH = "refresh"
INCREMENTAL = "incremental"  # a streaming flow: read each source's backlog in micro-batches
RUN_ONCE = "run_once"  # a once flow that has not run since its table was last reset
SKIP = "skip"  # up to date: nothing new to read, or a once flow that already ran
VIEW = "view"  # a temporary view: nothing stored; checked once if it has expectations
NOT_SUPPORTED = "not_supported"  # defined and validated, but lakesmith cannot run it yet


@dataclass(frozen=True)
class SourceWork:
    """What a streaming flow reads from one source in this update."""

    key: str
    name: str
    # None: the source does not exist yet, or (a pipeline table) the stream starts when the
    # flow starts.
    start: SourceOffset | None
    # Fixed when the update starts for sources outside the pipeline (a writer that keeps
    # appending cannot keep the update running); None for the pipeline's own tables, whose end
    # is fixed when the flow starts, after the flows upstream of it wrote this update's data.
    end: SourceOffset | None
    backlog: Backlog  # what is there now (for pipeline tables: before upstream flows run)
    internal: bool

    def to_event(self) -> dict[str, Any]:
        return {"source": self.name, "start": self.start.to_json() if self.start else None,
                "end": self.end.to_json() if self.end else None,
                "end_fixed_at": "flow start" if self.internal else "update start",
                "files": self.backlog.files, "bytes": self.backlog.bytes,
                "records": self.backlog.records}


@dataclass(frozen=True)
class FlowWork:
    action: str
    reason: str = ""  # why, in a few words ("no new data", "already ran once", ...)
    sources: tuple[SourceWork, ...] = ()
    recover_batch: int | None = None  # an interrupted batch run again first
    reset: bool = False  # a full refresh truncates the table and its checkpoints first
    # Why the flow cannot run (a source replaced, a change commit, ...): it fails with this when
    # the update runs it, and flows that do not depend on it run as planned.
    error: LakesmithError | None = None
    # A materialized view's refresh technique as planned now (NO_OP, GROUP_AGGREGATE,
    # COMPLETE_RECOMPUTE: `runtime/refresh/preview.py`); final when the flow starts.
    technique: str | None = None

    @property
    def has_data_now(self) -> bool:
        """Whether the flow has data to process as planned: a backlog, a batch to recover, a
        reset, a once flow to run (the engine is needed; a materialized view decides whether it
        is up to date when it runs)."""
        return (self.error is None and (self.reset or self.recover_batch is not None
                                        or self.action == RUN_ONCE
                                        or any(not s.backlog.is_empty for s in self.sources)))

    def describe(self) -> str:
        if self.error is not None:
            return f"fails: {self.error.message}"
        parts = ["reset (full refresh), then " if self.reset else ""]
        if self.recover_batch is not None:
            parts.append(f"recover batch {self.recover_batch}, then ")
        parts.append(self.action.replace("_", " "))
        if self.reason:
            parts.append(f": {self.reason}")
        return "".join(parts)

    def to_event(self) -> dict[str, Any]:
        return {"action": self.action, "reason": self.reason or None, "reset": self.reset,
                "error": None if self.error is None else self.error.message,
                "recover_batch": self.recover_batch,
                "sources": [s.to_event() for s in self.sources],
                **({"technique": self.technique} if self.technique is not None else {})}


@dataclass(frozen=True, eq=False)
class PlannedFlow:
    flow: ResolvedFlow
    full_refresh: bool
    work: FlowWork | None = None  # decided by `planner.plan_work`, before the update runs

    @property
    def name(self) -> str:
        return self.flow.name


@dataclass(frozen=True)
class UpdatePlan:
    graph: DataflowGraph
    flows: tuple[PlannedFlow, ...]  # in dependency order
    excluded: tuple[ResolvedFlow, ...]  # flows outside the selection
    full_refresh: frozenset[TableName]
    full_refresh_all: bool

    def planned(self, flow: ResolvedFlow) -> PlannedFlow | None:
        for planned in self.flows:
            if planned.flow is flow:
                return planned
        return None

    def with_resets(self, tables: frozenset[TableName]) -> UpdatePlan:
        """This plan, also resetting `tables` (a full refresh a crash interrupted is finished
        by the next update, whatever it was asked to do)."""
        if tables <= self.full_refresh:
            return self
        resets = self.full_refresh | tables
        return replace(self, full_refresh=resets, flows=tuple(
            replace(p, full_refresh=p.full_refresh or p.flow.target in tables)
            for p in self.flows))

    def with_work(self, work: dict[int, FlowWork]) -> UpdatePlan:
        """This plan with each flow's work (keyed by id of the PlannedFlow)."""
        return replace(self, flows=tuple(replace(p, work=work[id(p)]) for p in self.flows))

    def not_supported(self) -> list[PlannedFlow]:
        """Flows of kinds lakesmith defines and validates but cannot run yet: `run` would fail
        them, so `dry-run` fails too."""
        return [p for p in self.flows if p.work is not None and p.work.action == NOT_SUPPORTED]

    def to_event(self) -> list[dict[str, Any]]:
        return [{"flow": p.name, "dataset": self.graph.dataset(p.flow.target).name,
                 **(p.work.to_event() if p.work else {})} for p in self.flows]


def plan_update(graph: DataflowGraph, *, refresh: Sequence[str] = (),
                full_refresh: Sequence[str] = (), full_refresh_all: bool = False) -> UpdatePlan:
    """Select flows like `spark-pipelines run`: everything by default; with --refresh and/or
    --full-refresh, only the flows into the selected datasets (names, globs and dbt's graph
    operators: `runtime/selection.py`; views they read are always available); --full-refresh and
    --full-refresh-all reset the selected tables first."""
    if full_refresh_all and (refresh or full_refresh):
        option = "--refresh" if refresh else "--full-refresh"
        raise UsageError(f"--full-refresh-all cannot be combined with {option}.")
    refresh_names = select_datasets(graph, refresh, "--refresh")
    reset_names = select_datasets(graph, full_refresh, "--full-refresh")
    overlap = refresh_names & reset_names
    if overlap:
        names = ", ".join(sorted(graph.dataset(n).name for n in overlap))
        raise UsageError(f"Datasets named in both --refresh and --full-refresh: {names}.")
    selection = refresh_names | reset_names
    if full_refresh_all:
        reset_names = frozenset(graph.stored_datasets())
    selected: list[PlannedFlow] = []
    excluded: list[ResolvedFlow] = []
    for flow in graph.topological_flows():
        is_view = graph.kind(flow.target).is_view
        if selection and flow.target not in selection and not is_view:
            excluded.append(flow)
        else:
            selected.append(PlannedFlow(flow, full_refresh=flow.target in reset_names))
    return UpdatePlan(graph, tuple(selected), tuple(excluded), frozenset(reset_names),
                      full_refresh_all)
