"""What a materialized view's refresh will do, said before the update runs (`lakesmith
dry-run`, and the plan an update records in its `create_update` event).

The refresh planner (`planner.py`) decides when the view's flow starts, after the flows
upstream of it wrote this update's data. The preview asks it the same question with the inputs
as they are now, from metadata only (no engine), and says how far the answer can still move:

- COMPLETE_RECOMPUTE, with the reason: stays so. Each reason (the query's form, a full refresh,
  no earlier refresh of this definition, an input that had rows removed, a view written from
  outside) holds whatever upstream flows write; they can only add reasons.
- GROUP_AGGREGATE: its input gained rows since the last refresh; still a merge at flow start if
  upstream flows only add rows to it (one that rewrites it makes the refresh recompute).
- NO_OP: nothing changed yet. If upstream flows write to its inputs before it starts, the
  refresh merges or recomputes: the preview says which the view allows, and why not a merge.
"""

from __future__ import annotations

from lakesmith.graph.model import Table
from lakesmith.runtime.flows.up_to_date import RECORD
from lakesmith.runtime.plan import REFRESH, FlowWork, PlannedFlow
from lakesmith.runtime.refresh.planner import Refreshing, plan_refresh
from lakesmith.runtime.refresh.planning import (
    COMPLETE_RECOMPUTE,
    GROUP_AGGREGATE,
    NO_OP,
    Technique,
)
from lakesmith.runtime.workspace import Workspace

DECIDED = "decided when the flow starts"


def refresh_work(workspace: Workspace, planned: PlannedFlow, dataset: Table) -> FlowWork:
    """The view's work in an update, with the technique the planner would choose now."""
    flow = planned.flow
    ctx = Refreshing(workspace, flow, planned.full_refresh)
    view = workspace.table_log(flow.target)
    record = workspace.storage.flow_checkpoint(flow.target, flow.name).join(RECORD)
    plan = plan_refresh(ctx, dataset, view, record)
    technique = plan.technique
    if technique == COMPLETE_RECOMPUTE:
        reason = f"{COMPLETE_RECOMPUTE}: {_why_not_incremental(plan.information.techniques)}"
    elif technique == GROUP_AGGREGATE:
        assert plan.group_aggregate is not None
        name = workspace.graph.dataset(plan.group_aggregate.table).name
        reason = f"{GROUP_AGGREGATE}: '{name}' gained rows since the last refresh ({DECIDED})"
    else:
        if plan.unless_unchanged is not None:
            then = f"{COMPLETE_RECOMPUTE}: {plan.unless_unchanged.explanation}"
        else:
            assert plan.group_aggregate is not None
            name = workspace.graph.dataset(plan.group_aggregate.table).name
            then = f"{GROUP_AGGREGATE} while '{name}' only gains rows"
        reason = f"{NO_OP} if its inputs do not change, else {then} ({DECIDED})"
    return FlowWork(REFRESH, reason, reset=planned.full_refresh, technique=technique)


def _why_not_incremental(techniques: tuple[Technique, ...]) -> str:
    """The first reason the incremental technique (or, failing that, any) does not apply."""
    for name in (GROUP_AGGREGATE, NO_OP):
        for technique in techniques:
            if technique.name == name and technique.issues:
                return technique.issues[0].explanation
    return "no incremental technique applies"
