"""The refresh planner of a materialized view: which techniques apply to this refresh, and which
one runs. Decided when the flow starts (after the flows upstream of it wrote this update's data),
from metadata only: the view's last recorded refresh (`refresh.json`, `runtime/flows/
up_to_date.py`), the Delta logs of its inputs, and the shape of its query.

- NO_OP: the query, definition and input versions are those of the last refresh, and the view
  is as that refresh left it.
- GROUP_AGGREGATE (`group_aggregate.py`): the query has the form `aggregate_form.py` accepts, the
  definition is the one last refreshed, the view is as that refresh left it (a crash after the
  view's commit and before its record, or a write from outside, makes it recompute), and its one
  input only gained rows since (`appended.py`).
- COMPLETE_RECOMPUTE: always applicable; chosen when neither of the others applies, and on a full
  refresh.
lakesmith has no cost model: an applicable incremental technique is always chosen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyspark.sql.types import StructType

from lakesmith.graph.identifiers import TableName
from lakesmith.graph.model import Table
from lakesmith.locations import Location
from lakesmith.quality.expectations import ExpectationSet
from lakesmith.runtime.flows.up_to_date import (
    Fingerprint,
    Unstable,
    fingerprint,
    recorded,
    same_table,
    up_to_date,
)
from lakesmith.runtime.refresh.aggregate_form import AggregateForm, aggregate_form
from lakesmith.runtime.refresh.appended import Appended, appended_since
from lakesmith.runtime.refresh.planning import (
    COMPLETE_RECOMPUTE,
    GROUP_AGGREGATE,
    NO_OP,
    Issue,
    PlanningInformation,
    Technique,
)
from lakesmith.tables.delta import DeltaLog

if TYPE_CHECKING:
    from lakesmith.runtime.flows.base import FlowContext

FULL_REFRESH = "FULL_REFRESH_REQUESTED"
DATA_HAS_CHANGED = "DATA_HAS_CHANGED"
NO_PREVIOUS = "NO_PREVIOUS_REFRESH"
DEFINITION_CHANGED = "DEFINITION_CHANGED"
TARGET_CHANGED = "TARGET_CHANGED_SINCE_LAST_REFRESH"
NOT_SUPPORTED = "DEFINITION_NOT_INCREMENTALIZABLE"


@dataclass(frozen=True)
class GroupAggregateWork:
    """What a GROUP_AGGREGATE refresh merges: the form of the query, the table it aggregates
    and the rows that table gained, and the view's columns."""

    form: AggregateForm
    table: TableName
    appended: Appended
    schema: StructType


@dataclass(frozen=True)
class RefreshPlan:
    information: PlanningInformation
    fingerprint: Fingerprint | Unstable | None
    group_aggregate: GroupAggregateWork | None = None

    @property
    def technique(self) -> str:
        return self.information.chosen


def plan_refresh(ctx: FlowContext, dataset: Table, view: DeltaLog,
                 record: Location) -> RefreshPlan:
    flow = ctx.flow
    target = {"table_name": dataset.name, "table_id": view.table_id()}
    print_ = fingerprint(ctx.workspace, flow, dataset)
    if ctx.work.reset:  # recorded all the same: the next refresh can be incremental from it
        issue = Issue(FULL_REFRESH, "a full refresh was requested")
        return _plan(flow.name, print_, (issue,), (issue,), target)
    if isinstance(print_, Unstable):
        issue = Issue(print_.issue, print_.explanation)
        return _plan(flow.name, print_, (issue,), (issue,), target)
    if up_to_date(record, print_, view.table_id(), view.version()):
        return RefreshPlan(PlanningInformation(flow.name, (
            Technique(NO_OP, chosen=True), Technique(COMPLETE_RECOMPUTE)), target=target),
            print_)
    no_op = Issue(DATA_HAS_CHANGED, "the inputs or the definition changed")
    found = _group_aggregate(ctx, dataset, view, record, print_)
    if isinstance(found, Issue):
        return _plan(flow.name, print_, (no_op,), (found,), target)
    appended = found.appended
    source = {"table_name": ctx.graph.dataset(found.table).name,
              "table_id": appended.source.identity(),
              "change_size": appended.rows.backlog.bytes,
              "start_version": appended.start, "end_version": appended.end}
    return RefreshPlan(PlanningInformation(flow.name, (
        Technique(NO_OP, (no_op,)), Technique(GROUP_AGGREGATE, chosen=True),
        Technique(COMPLETE_RECOMPUTE)), (source,), target), print_, found)


def _plan(flow: str, print_: Fingerprint | Unstable | None, no_op: tuple[Issue, ...],
          group_aggregate: tuple[Issue, ...], target: dict[str, Any]) -> RefreshPlan:
    return RefreshPlan(PlanningInformation(flow, (
        Technique(NO_OP, no_op), Technique(GROUP_AGGREGATE, group_aggregate),
        Technique(COMPLETE_RECOMPUTE, chosen=True)), target=target), print_)


def _group_aggregate(ctx: FlowContext, dataset: Table, view: DeltaLog, record: Location,
                     print_: Fingerprint) -> GroupAggregateWork | Issue:
    """The GROUP_AGGREGATE work of this refresh, or why it does not apply."""
    if ExpectationSet.for_flow(ctx.graph, ctx.flow):
        return Issue(NOT_SUPPORTED, f"'{dataset.name}' has expectations (rows of the result "
                     "they drop cannot be merged later)")
    if dataset.schema is not None:
        return Issue(NOT_SUPPORTED, f"'{dataset.name}' declares its schema")
    table = view.table()
    if table is None:
        return Issue(NO_PREVIOUS, f"'{dataset.name}' has not been refreshed yet")
    schema = StructType.fromJson(json.loads(table.schema().to_json()))
    assert ctx.flow.relation is not None  # a fingerprinted flow has a plan
    form = aggregate_form(ctx.flow.relation, schema)
    if isinstance(form, Issue):
        return form
    name = ctx.graph.names.qualify(form.read.name or "")
    if name not in ctx.graph.datasets or ctx.graph.kind(name).is_view:
        return Issue("INPUT_NOT_IN_DELTA", f"it aggregates '{form.read.name}', which is not a "
                     "table of the pipeline", {"table_name": form.read.name})
    last = recorded(record)
    if last is None or "definition" not in last:
        return Issue(NO_PREVIOUS, "no earlier refresh of this definition is recorded")
    if last["definition"] != print_.definition:
        return Issue(DEFINITION_CHANGED, "the definition changed since the last refresh")
    if not same_table(last, view.table_id(), view.version()):
        return Issue(TARGET_CHANGED, f"'{dataset.name}' was written after its last recorded "
                     "refresh (an interrupted refresh, or a write from outside the pipeline)")
    key = ".".join(name.key)
    before, now = last.get("inputs", {}).get(key), print_.inputs.get(key)
    if before is None or now is None or len(print_.inputs) != 1:
        return Issue(NO_PREVIOUS, f"no earlier refresh from '{form.read.name}' alone is "
                     "recorded")
    input_name = ctx.graph.dataset(name).name
    if before[0] != now[0]:
        return Issue("SOURCE_REPLACED", f"'{input_name}' was replaced by another table",
                     {"table_name": input_name})
    appended = appended_since(ctx.workspace.table_log(name), key, input_name, int(before[1]),
                              int(now[1]), last.get("input_schemas", {}).get(key))
    if isinstance(appended, Issue):
        return appended
    return GroupAggregateWork(form, name, appended, schema)
