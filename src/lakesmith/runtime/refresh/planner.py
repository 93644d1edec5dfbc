"""The refresh planner of a materialized view: which techniques apply to this refresh, and which
one runs. Decided when the flow starts (after the flows upstream of it wrote this update's data),
from metadata only: the view's last recorded refresh (`refresh.json`, `runtime/flows/
up_to_date.py`), the Delta logs of its inputs, and the shape of its query.

- NO_OP: the query, definition and input versions are those of the last refresh, and the view
  is as that refresh left it.
- GROUP_AGGREGATE (`group_aggregate.py`): the query has the form `aggregate_form.py` accepts, the
  definition is the one last refreshed, the view is as that refresh left it (a crash after the
  view's commit and before its record, or a write from outside, makes it recompute), and its one
  input only gained rows since (`appended.py`). An aggregation of that form below the top of the
  query (a join, HAVING; in SQL text, a subquery in FROM: `sql_aggregate_below.py`) is kept in
  a backing table (`aggregate_state.py`) or the view's own rows (`view_state.py`), merged the
  same way or rebuilt; the rest of the query is recomputed from it.
- COMPLETE_RECOMPUTE: always applicable; chosen when neither of the others applies, and on a full
  refresh.
lakesmith has no cost model but one rule: a backing table is kept only for an aggregated table of
at least BACKING_TABLE_MIN_RATIO times its rows (`_backing_table_pays`); otherwise an applicable
incremental technique is always chosen.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pyspark.sql.connect import proto
from pyspark.sql.types import StructType

from lakesmith.engine.plans import PlanRead
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
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
from lakesmith.runtime.refresh.aggregate_form import (
    NOT_TOP,
    AggregateForm,
    aggregate_form,
    aggregated_read,
    mergeable_shape,
)
from lakesmith.runtime.refresh.aggregate_state import (
    AggregateBelow,
    aggregate_below,
    recorded_state,
    state_form,
    state_location,
)
from lakesmith.runtime.refresh.appended import Appended, appended_since, schema_signature
from lakesmith.runtime.refresh.planning import (
    COMPLETE_RECOMPUTE,
    GROUP_AGGREGATE,
    NO_OP,
    Issue,
    PlanningInformation,
    Technique,
)
from lakesmith.runtime.refresh.view_state import keeps_aggregate, stored_schema
from lakesmith.tables.delta import DeltaLog, stats_row_count

if TYPE_CHECKING:
    from lakesmith.runtime.flows.base import FlowContext
    from lakesmith.runtime.workspace import Workspace

FULL_REFRESH = "FULL_REFRESH_REQUESTED"
DATA_HAS_CHANGED = "DATA_HAS_CHANGED"
NO_PREVIOUS = "NO_PREVIOUS_REFRESH"
DEFINITION_CHANGED = "DEFINITION_CHANGED"
TARGET_CHANGED = "TARGET_CHANGED_SINCE_LAST_REFRESH"
NOT_SUPPORTED = "DEFINITION_NOT_INCREMENTALIZABLE"
REJECTED_BY_COST = "INCREMENTAL_PLAN_REJECTED_BY_COST_MODEL"
# A backing table pays when the aggregated table has this many times its rows (`_below`).
BACKING_TABLE_MIN_RATIO = 15
# Before the view's first refresh its groups are not known: an aggregated table of at least this
# many rows gets a backing table at once (the next refresh checks the ratio with its rows).
BACKING_TABLE_FIRST_MIN_ROWS = 200_000


@dataclass(frozen=True)
class Refreshing:
    """What the planner works from: the update's workspace (graph, Delta logs, checkpoints),
    the view's flow, whether the view is reset (a full refresh), and the engine's analysis of a
    relation's columns; without it (a preview, `preview.py`) the engine is asked nothing."""

    workspace: Workspace
    flow: ResolvedFlow
    reset: bool
    analyze: Callable[[proto.Relation], StructType] | None = None

    @property
    def graph(self) -> DataflowGraph:
        return self.workspace.graph

    @staticmethod
    def at_run(ctx: FlowContext) -> Refreshing:
        binder = ctx.binder
        return Refreshing(ctx.workspace, ctx.flow, ctx.work.reset,
                          lambda relation: binder.rewriter.dataframe(
                              binder.prepare(relation)).schema)


@dataclass(frozen=True)
class GroupAggregateWork:
    """What a GROUP_AGGREGATE refresh merges: the form of the query, the table it aggregates
    and the rows that table gained, and the view's columns."""

    form: AggregateForm
    table: TableName
    appended: Appended | None  # None: the backing table is rebuilt from the whole table
    schema: StructType  # the view's columns (or the backing table's)
    below: AggregateBelow | None = None  # an aggregation below the top of the query
    state: Location | None = None  # its backing table
    in_view: bool = False  # the view itself is the backing table (`view_state.py`)
    # The query's columns are the view's (the definition and every input's schema as the last
    # refresh recorded them): its result replaces the view's rows without asking its schema.
    same_columns: bool = False


@dataclass(frozen=True)
class Found:
    """The view's table as the refresh found it (its log advanced once: each advance lists the
    log again)."""

    table: Any  # a DeltaTable, None before the first refresh
    table_id: str | None
    version: int | None

    @staticmethod
    def of(log: DeltaLog) -> Found:
        table = log.table()
        if table is None:
            return Found(None, None, None)
        return Found(table, str(table.metadata().id), table.version())


@dataclass(frozen=True)
class RefreshPlan:
    information: PlanningInformation
    fingerprint: Fingerprint | Unstable | None
    # The merge (GROUP_AGGREGATE), or the rebuild of a backing table (COMPLETE_RECOMPUTE).
    group_aggregate: GroupAggregateWork | None = None
    # A preview's NO_OP: why GROUP_AGGREGATE would not apply if the inputs gained rows (None:
    # it would, `group_aggregate` holding its work).
    unless_unchanged: Issue | None = None

    @property
    def technique(self) -> str:
        return self.information.chosen

    def recompute_instead(self, issue: Issue) -> RefreshPlan:
        """This refresh as a COMPLETE_RECOMPUTE, GROUP_AGGREGATE having turned out not to give
        the recompute's answer while it ran (`issue`); a backing table is rebuilt."""
        techniques = tuple(
            replace(t, issues=(issue,), chosen=False) if t.name == GROUP_AGGREGATE else
            replace(t, chosen=t.name == COMPLETE_RECOMPUTE) for t in self.information.techniques)
        work = self.group_aggregate
        rebuild = None if work is None or work.below is None or work.in_view \
            else replace(work, appended=None)
        return RefreshPlan(replace(self.information, techniques=techniques),
                           self.fingerprint, rebuild)


def plan_refresh(ctx: Refreshing, dataset: Table, view: DeltaLog,
                 record: Location) -> RefreshPlan:
    flow = ctx.flow
    found = Found.of(view)
    target = {"table_name": dataset.name, "table_id": found.table_id}
    fingerprint_now = fingerprint(ctx.workspace, flow, dataset)
    if ctx.reset:  # recorded all the same: the next refresh can be incremental from it
        issue = Issue(FULL_REFRESH, "a full refresh was requested")
        return _plan(flow.name, fingerprint_now, (issue,), (issue,), target)
    if isinstance(fingerprint_now, Unstable):
        issue = Issue(fingerprint_now.issue, fingerprint_now.explanation)
        return _plan(flow.name, fingerprint_now, (issue,), (issue,), target)
    if up_to_date(record, fingerprint_now, found.table_id, found.version):
        plan = RefreshPlan(PlanningInformation(flow.name, (
            Technique(NO_OP, chosen=True), Technique(COMPLETE_RECOMPUTE)), target=target),
            fingerprint_now)
        if ctx.analyze is not None:
            return plan
        # A preview: what the refresh does if upstream flows write to the inputs first.
        work, why = _group_aggregate(ctx, dataset, found, record, fingerprint_now)
        return replace(plan, group_aggregate=work, unless_unchanged=why)
    no_op = Issue(DATA_HAS_CHANGED, "the inputs or the definition changed")
    work, why = _group_aggregate(ctx, dataset, found, record, fingerprint_now)
    if why is not None:
        plan = _plan(flow.name, fingerprint_now, (no_op,), (why,), target)
        return RefreshPlan(plan.information, fingerprint_now, work)
    assert work is not None and work.appended is not None
    appended = work.appended
    source = {"table_name": ctx.graph.dataset(work.table).name,
              "table_id": appended.source.identity(),
              "change_size": appended.rows.backlog.bytes,
              "start_version": appended.start, "end_version": appended.end}
    if work.state is not None:
        target["backing_table"] = "the view itself" if work.in_view else str(work.state)
    return RefreshPlan(PlanningInformation(flow.name, (
        Technique(NO_OP, (no_op,)), Technique(GROUP_AGGREGATE, chosen=True),
        Technique(COMPLETE_RECOMPUTE)), (source,), target), fingerprint_now, work)


def _plan(flow: str, fingerprint_now: Fingerprint | Unstable | None, no_op: tuple[Issue, ...],
          group_aggregate: tuple[Issue, ...], target: dict[str, Any]) -> RefreshPlan:
    return RefreshPlan(PlanningInformation(flow, (
        Technique(NO_OP, no_op), Technique(GROUP_AGGREGATE, group_aggregate),
        Technique(COMPLETE_RECOMPUTE, chosen=True)), target=target), fingerprint_now)


def _group_aggregate(ctx: Refreshing, dataset: Table, view: Found, record: Location,
                     fingerprint_now: Fingerprint) -> tuple[GroupAggregateWork | None, Issue | None]:
    """The GROUP_AGGREGATE work of this refresh and, when it cannot be incremental, why: no
    work (a recompute), or (an aggregation below the top) work that rebuilds the backing
    table."""
    assert ctx.flow.relation is not None  # a fingerprinted flow has a plan
    below = aggregate_below(ctx.flow.relation)
    if below is not None:  # the rest of the query is recomputed: expectations, schema apply
        if keeps_aggregate(ctx.graph, ctx.flow, dataset, below) and (
                view.table is None or stored_schema(view.table, below) is not None):
            return _in_view(ctx, dataset, view, record, fingerprint_now, below)
        return _below(ctx, view, record, fingerprint_now, below)
    if ctx.flow.relation.WhichOneof("rel_type") == "sql":
        from lakesmith.runtime.refresh.sql_aggregate_below import split_sql

        split = split_sql(ctx.flow.relation)  # (an AggregateBelow unless an Issue or None)
        if isinstance(split, Issue):
            return None, split
    if ExpectationSet.for_flow(ctx.graph, ctx.flow):
        return None, Issue(NOT_SUPPORTED, f"'{dataset.name}' has expectations (rows of the "
                           "result they drop cannot be merged later)")
    if dataset.schema is not None:
        return None, Issue(NOT_SUPPORTED, f"'{dataset.name}' declares its schema")
    if view.table is None:
        return None, Issue(NO_PREVIOUS, f"'{dataset.name}' has not been refreshed yet")
    schema = StructType.fromJson(json.loads(view.table.schema().to_json()))
    form = aggregate_form(ctx.flow.relation, schema,
                          partitioned=bool(view.table.metadata().partition_columns))
    if isinstance(form, Issue):
        return None, form
    name = _input(ctx, form.read)
    if isinstance(name, Issue):
        return None, name
    last = recorded(record)
    issue = _changed(last, fingerprint_now)
    if issue is None and not same_table(last, view.table_id, view.version):
        issue = Issue(TARGET_CHANGED, f"'{dataset.name}' was written after its last recorded "
                      "refresh (an interrupted refresh, or a write from outside the pipeline)")
    if issue is None and len(fingerprint_now.inputs) != 1:
        issue = Issue(NO_PREVIOUS, f"no earlier refresh from '{form.read.name}' alone is "
                      "recorded")
    appended = issue or _appended(ctx, name, last or {}, fingerprint_now)
    if isinstance(appended, Issue):
        return None, appended
    return GroupAggregateWork(form, name, appended, schema), None


def _mergeable_input(ctx: Refreshing, below: AggregateBelow, state: Any) -> TableName | Issue:
    """The aggregated input of an aggregation below the top, when its shape merges and a
    backing table (`state`, the table holding its rows) pays; else why not."""
    shape = mergeable_shape(below.relation)
    if shape is not None:
        return _not_mergeable_below(ctx, shape)
    name = _input(ctx, aggregated_read(below.relation))
    if isinstance(name, Issue):
        return name
    rejected = _backing_table_pays(ctx, name, state)
    return rejected if rejected is not None else name


def _below(ctx: Refreshing, view: Found, record: Location, fingerprint_now: Fingerprint,
           below: AggregateBelow) -> tuple[GroupAggregateWork | None, Issue | None]:
    """An aggregation below the top (`aggregate_state.py`): its backing table merged with the
    appended rows, or rebuilt."""
    location = state_location(ctx.workspace.storage.flow_checkpoint(ctx.flow.target,
                                                                    ctx.flow.name))
    state = ctx.workspace.logs(location)
    table = state.table()
    name = _mergeable_input(ctx, below, table if table is not None else view.table)
    if isinstance(name, Issue):
        return None, name
    if table is not None:
        schema = StructType.fromJson(json.loads(table.schema().to_json()))
    elif ctx.analyze is None:  # a preview asks the engine nothing: it is a rebuild anyway
        return None, Issue(NO_PREVIOUS, "its aggregation has no backing table yet: this "
                           "refresh builds one")
    else:  # no backing table yet: the aggregation's columns from the engine
        schema = ctx.analyze(below.relation)
    form = state_form(below, schema)
    if isinstance(form, Issue):
        return None, _not_mergeable_below(ctx, form)
    rebuild = GroupAggregateWork(form, name, None, schema, below, location)
    last = recorded(record)
    issue = _changed(last, fingerprint_now)
    if issue is None and table is None:
        issue = Issue(NO_PREVIOUS, "its aggregation has no backing table yet: this refresh "
                      "builds one")
    elif issue is None and recorded_state(last) != (state.table_id(), state.version()):
        issue = Issue(TARGET_CHANGED, "its backing table was written after the last recorded "
                      "refresh (an interrupted refresh)")
    appended = issue or _appended(ctx, name, last or {}, fingerprint_now)
    if isinstance(appended, Issue):
        return rebuild, appended
    return GroupAggregateWork(form, name, appended, schema, below, location), None


def _in_view(ctx: Refreshing, dataset: Table, view: Found, record: Location,
             fingerprint_now: Fingerprint, below: AggregateBelow
             ) -> tuple[GroupAggregateWork | None, Issue | None]:
    """An aggregation LEFT JOINed at the top (`view_state.py`): the view's own rows are its
    backing table, merged with the appended rows' aggregates; otherwise a recompute (which
    records the view as the backing table)."""
    name = _mergeable_input(ctx, below, view.table)
    if isinstance(name, Issue):
        return None, name
    schema = stored_schema(view.table, below)
    if schema is None:
        return None, Issue(NO_PREVIOUS, f"'{dataset.name}' has not been refreshed yet")
    form = state_form(below, schema)
    if isinstance(form, Issue):
        return None, _not_mergeable_below(ctx, form)
    last = recorded(record)
    issue = _changed(last, fingerprint_now)
    if issue is None and recorded_state(last, in_view=True) != (view.table_id, view.version):
        issue = Issue(TARGET_CHANGED, f"'{dataset.name}', which holds its aggregation's rows, "
                      "was written after its last recorded refresh (an interrupted refresh, or "
                      "a write from outside the pipeline)")
    appended = issue or _appended(ctx, name, last or {}, fingerprint_now)
    if isinstance(appended, Issue):
        return None, appended
    location = ctx.workspace.catalog.location(ctx.flow.target)
    return GroupAggregateWork(form, name, appended, schema, below, location, in_view=True,
                              same_columns=_same_input_schemas(ctx, last or {})), None


def _same_input_schemas(ctx: Refreshing, last: dict[str, Any]) -> bool:
    """Whether every input of the query is a pipeline table read directly whose schema is the
    one the last refresh recorded (`input_schemas`): with the same definition, the query's
    columns are then those the view was last written with."""
    schemas = last.get("input_schemas") or {}
    for read in ctx.flow.inputs:
        if read.dataset is None or ctx.graph.kind(read.dataset).is_view:
            return False
        signature = schema_signature(ctx.workspace.table_log(read.dataset))
        if signature is None or schemas.get(".".join(read.dataset.key)) != signature:
            return False
    return True


def _not_mergeable_below(ctx: Refreshing, issue: Issue) -> Issue:
    return Issue(NOT_TOP, "the top of its query is not an aggregation, and the aggregation "
                 f"below it cannot be merged: {issue.explanation}",
                 {"operator_name": ctx.flow.relation.WhichOneof("rel_type")
                  if ctx.flow.relation is not None else None})


def _backing_table_pays(ctx: Refreshing, name: TableName, kept: Any) -> Issue | None:
    """Whether keeping a backing table costs less than recomputing: it adds a write of the
    backing table (its rows merged with the new rows' aggregates) to every refresh, and saves
    reading and aggregating the whole table. Measured on gold_customer_orders' shape (a join
    of 50,000 groups, 5 % of the rows appended; docs/materialized-views.md): the backing table
    is cheaper at 20 input rows per group, the recompute at 10 and below. So only a table of at
    least BACKING_TABLE_MIN_RATIO times the backing table's rows (before there is one: the
    view's) is aggregated through one; before the view's first refresh, a table of at least
    BACKING_TABLE_FIRST_MIN_ROWS rows. Row counts from the Delta statistics; unknown counts:
    no backing table."""
    table = ctx.workspace.table_log(name).table()
    input_rows = None if table is None else stats_row_count(table)
    kept_rows = None if kept is None else stats_row_count(kept)
    if input_rows is not None and kept is None and input_rows >= BACKING_TABLE_FIRST_MIN_ROWS:
        return None
    if input_rows is not None and kept_rows is not None \
            and input_rows >= BACKING_TABLE_MIN_RATIO * max(kept_rows, 1):
        return None
    return Issue(REJECTED_BY_COST, f"'{ctx.graph.dataset(name).name}' has {input_rows} rows, "
                 f"not {BACKING_TABLE_MIN_RATIO} times the {kept_rows} a backing table of its "
                 "aggregation would hold: recomputing costs less",
                 {"cost_model_rejection_subtype": "BACKING_TABLE_NOT_SMALL_ENOUGH",
                  "input_rows": input_rows, "backing_table_rows": kept_rows})


def _input(ctx: Refreshing, read: PlanRead | Issue) -> TableName | Issue:
    """The pipeline table the aggregation reads."""
    if isinstance(read, Issue):
        return read
    name = ctx.graph.names.qualify(read.name or "")
    if name not in ctx.graph.datasets or ctx.graph.kind(name).is_view:
        return Issue("INPUT_NOT_IN_DELTA", f"it aggregates '{read.name}', which is not a "
                     "table of the pipeline", {"table_name": read.name})
    return name


def _changed(last: dict[str, Any] | None, fingerprint_now: Fingerprint) -> Issue | None:
    if last is None or "definition" not in last:
        return Issue(NO_PREVIOUS, "no earlier refresh of this definition is recorded")
    if not last["definition"]:
        return Issue(NO_PREVIOUS, "the last refresh read an input while it was being written")
    if last["definition"] != fingerprint_now.definition:
        return Issue(DEFINITION_CHANGED, "the definition changed since the last refresh")
    return None


def _appended(ctx: Refreshing, name: TableName, last: dict[str, Any],
              fingerprint_now: Fingerprint) -> Appended | Issue:
    """What the aggregated table gained since the recorded refresh."""
    key = ".".join(name.key)
    input_name = ctx.graph.dataset(name).name
    before, now = last.get("inputs", {}).get(key), fingerprint_now.inputs.get(key)
    if before is None or now is None:
        return Issue(NO_PREVIOUS, f"no earlier refresh from '{input_name}' is recorded")
    if before[0] != now[0]:
        return Issue("SOURCE_REPLACED", f"'{input_name}' was replaced by another table",
                     {"table_name": input_name})
    return appended_since(ctx.workspace.table_log(name), key, input_name, int(before[1]),
                          int(now[1]), last.get("input_schemas", {}).get(key))
