"""The update plan: which flows an update runs and which datasets it resets, computed (and shown by
`dry-run`) before anything runs; the runner only executes a plan."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lakesmith.errors import LakesmithError
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName
from lakesmith.graph.model import DatasetKind


@dataclass(frozen=True, eq=False)
class PlannedFlow:
    flow: ResolvedFlow
    full_refresh: bool

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


def plan_update(graph: DataflowGraph, *, refresh: Sequence[str] = (),
                full_refresh: Sequence[str] = (), full_refresh_all: bool = False) -> UpdatePlan:
    """Select flows like `spark-pipelines run`: everything by default; with --refresh and/or
    --full-refresh, only the flows into the named datasets (views they read are always
    available); --full-refresh and --full-refresh-all reset the named tables first."""
    if full_refresh_all and (refresh or full_refresh):
        option = "--refresh" if refresh else "--full-refresh"
        raise LakesmithError(f"--full-refresh-all cannot be combined with {option}.")
    refresh_names = _dataset_names(graph, refresh, "--refresh")
    reset_names = _dataset_names(graph, full_refresh, "--full-refresh")
    overlap = refresh_names & reset_names
    if overlap:
        names = ", ".join(sorted(graph.dataset(n).name for n in overlap))
        raise LakesmithError(f"Datasets named in both --refresh and --full-refresh: {names}.")
    selection = refresh_names | reset_names
    if full_refresh_all:
        reset_names = frozenset(graph.stored_datasets())
    selected: list[PlannedFlow] = []
    excluded: list[ResolvedFlow] = []
    for flow in graph.topological_flows():
        is_view = graph.kind(flow.target) == DatasetKind.TEMPORARY_VIEW
        if selection and flow.target not in selection and not is_view:
            excluded.append(flow)
        else:
            selected.append(PlannedFlow(flow, full_refresh=flow.target in reset_names))
    return UpdatePlan(graph, tuple(selected), tuple(excluded), frozenset(reset_names),
                      full_refresh_all)


def _dataset_names(graph: DataflowGraph, names: Sequence[str], option: str) -> frozenset[TableName]:
    result: set[TableName] = set()
    for raw in names:
        name = graph.names.qualify(raw)
        if name not in graph.datasets:
            known = ", ".join(sorted(d.name for d in graph.datasets.values())) or "(none)"
            raise LakesmithError(f"{option}: '{raw}' is not a dataset of this pipeline.",
                                 hint=f"datasets: {known}")
        if graph.kind(name) == DatasetKind.TEMPORARY_VIEW:
            raise LakesmithError(f"{option}: '{raw}' is a temporary view, which is never stored; "
                                 "name the tables that read it instead.")
        result.add(name)
    return frozenset(result)
