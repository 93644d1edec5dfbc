"""Deciding each flow's work for an update, from metadata only: checkpoints, Delta logs, the
offsets of sources. `dry-run` prints the result; `run` executes exactly it."""

from __future__ import annotations

from collections.abc import Callable

from lakesmith.errors import LakesmithError
from lakesmith.graph.model import DatasetKind
from lakesmith.runtime.flows import runner_for
from lakesmith.runtime.plan import INCREMENTAL, FlowWork, UpdatePlan
from lakesmith.runtime.workspace import Workspace


def plan_work(plan: UpdatePlan, workspace: Workspace,
              on_data: Callable[[], None] | None = None) -> UpdatePlan:
    """`on_data` is called once, as soon as a flow is found to have data now: the update starts
    the engine then, while the other flows are still planned."""
    graph = plan.graph
    interrupted = frozenset(
        name for name in graph.stored_datasets()
        if graph.kind(name) == DatasetKind.STREAMING_TABLE
        and workspace.storage.reset_pending(name))
    plan = plan.with_resets(interrupted)
    work: dict[int, FlowWork] = {}
    with workspace.logs.quiet():  # no flow runs while the update plans: each log read once
        for planned in plan.flows:
            try:
                work[id(planned)] = runner_for(planned.flow, plan.graph).plan(workspace, planned)
            except LakesmithError as e:
                work[id(planned)] = FlowWork(INCREMENTAL, error=e, reset=planned.full_refresh)
            if on_data is not None and work[id(planned)].has_data_now:
                on_data()
                on_data = None
    return plan.with_work(work)
