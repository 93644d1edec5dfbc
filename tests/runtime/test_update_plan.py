"""The update plan: which flows an update runs (`--refresh`, `--full-refresh`,
`--full-refresh-all`, as `spark-pipelines run`), resets a crash left unfinished, and how each
flow's work reads in `dry-run`. Built on a hand-made graph: no engine."""

from __future__ import annotations

import pytest

from lakesmith.engine.plans import PlanRead
from lakesmith.errors import LakesmithError
from lakesmith.graph.graph import DataflowGraph, FlowInput, ResolvedFlow
from lakesmith.graph.identifiers import NameResolver, TableName
from lakesmith.graph.model import (
    MaterializedView,
    OnceFlow,
    PythonQuery,
    QueryFlow,
    StreamingTable,
    TemporaryView,
)
from lakesmith.runtime.plan import (
    INCREMENTAL,
    REFRESH,
    SKIP,
    FlowWork,
    SourceWork,
    plan_update,
)
from lakesmith.source_location import SourceLocation
from lakesmith.sources.base import Backlog
from lakesmith.sources.delta import DeltaOffset

HERE = SourceLocation("transformations/p.py", 1)
NAMES = NameResolver("spark_catalog", "default")


def name(table: str) -> TableName:
    return NAMES.qualify(table)


def flow(target: str, reads: tuple[str, ...] = (), *, flow_name: str | None = None,
         once: bool = False) -> ResolvedFlow:
    kind = OnceFlow if once else QueryFlow
    query_flow = kind(name=flow_name or target, target=target, location=HERE,
                      query=PythonQuery(lambda: None))
    inputs = tuple(FlowInput(PlanRead(r, streaming=True), name(r)) for r in reads)
    return ResolvedFlow(query_flow, name(target), None, inputs, streaming=True)


@pytest.fixture
def graph() -> DataflowGraph:
    """raw <- (external); clean (view) <- raw; silver <- clean, backfill (once) -> silver;
    gold (materialized view) <- silver."""
    datasets = {
        name("raw"): StreamingTable(name="raw", location=HERE),
        name("clean"): TemporaryView(name="clean", location=HERE),
        name("silver"): StreamingTable(name="Silver", location=HERE),
        name("gold"): MaterializedView(name="gold", location=HERE),
    }
    flows = [  # registered out of order: the plan orders them
        flow("gold", ("silver",)),
        flow("silver", ("clean",)),
        flow("silver", flow_name="backfill", once=True),
        flow("clean", ("raw",)),
        flow("raw"),
    ]
    return DataflowGraph(datasets, flows, NAMES)


def names(flows) -> list[str]:
    return [f.name for f in flows]


def resets(plan) -> list[str]:
    return [p.name for p in plan.flows if p.full_refresh]


def test_an_update_runs_every_flow_in_dependency_order(graph) -> None:
    plan = plan_update(graph)
    assert names(plan.flows) == ["raw", "clean", "silver", "backfill", "gold"]
    assert plan.excluded == ()
    assert plan.full_refresh == frozenset() and not plan.full_refresh_all
    assert resets(plan) == []
    assert all(p.work is None for p in plan.flows)


def test_refresh_selects_the_flows_into_the_named_datasets_and_every_view(graph) -> None:
    plan = plan_update(graph, refresh=["gold", "LIVE.silver"])
    assert names(plan.flows) == ["clean", "silver", "backfill", "gold"]
    assert names(plan.excluded) == ["raw"]
    assert resets(plan) == []
    assert plan.planned(graph.flow("gold")) is plan.flows[-1]
    assert plan.planned(graph.flow("raw")) is None


def test_full_refresh_selects_and_resets_the_named_tables(graph) -> None:
    plan = plan_update(graph, full_refresh=["default.SILVER"])
    assert names(plan.flows) == ["clean", "silver", "backfill"]
    assert names(plan.excluded) == ["raw", "gold"]
    assert resets(plan) == ["silver", "backfill"]
    assert plan.full_refresh == frozenset({name("silver")})


def test_refresh_and_full_refresh_together(graph) -> None:
    plan = plan_update(graph, refresh=["gold"], full_refresh=["raw"])
    assert names(plan.flows) == ["raw", "clean", "gold"]
    assert resets(plan) == ["raw"]


def test_full_refresh_all_resets_every_stored_dataset(graph) -> None:
    plan = plan_update(graph, full_refresh_all=True)
    assert names(plan.flows) == ["raw", "clean", "silver", "backfill", "gold"]
    assert resets(plan) == ["raw", "silver", "backfill", "gold"]  # not the view
    assert plan.full_refresh == frozenset({name("raw"), name("silver"), name("gold")})
    assert plan.full_refresh_all


@pytest.mark.parametrize(("options", "message", "hint"), [
    ({"full_refresh_all": True, "refresh": ["gold"]},
     "--full-refresh-all cannot be combined with --refresh.", None),
    ({"full_refresh_all": True, "full_refresh": ["gold"]},
     "--full-refresh-all cannot be combined with --full-refresh.", None),
    ({"refresh": ["nope"]}, "--refresh: 'nope' is not a dataset of this pipeline.",
     "datasets: Silver, clean, gold, raw"),
    ({"full_refresh": ["other.silver"]},
     "--full-refresh: 'other.silver' is not a dataset of this pipeline.",
     "did you mean 'Silver'?"),
    ({"refresh": ["clean"]}, "--refresh: 'clean' is a temporary view, which is never stored; "
                             "name the tables that read it instead.", None),
    ({"refresh": ["gold", "silver"], "full_refresh": ["SILVER"]},
     "Datasets named in both --refresh and --full-refresh: Silver.", None),
])
def test_selections_that_make_no_sense_are_refused(graph, options, message, hint) -> None:
    with pytest.raises(LakesmithError) as info:
        plan_update(graph, **options)
    assert (info.value.message, info.value.hint) == (message, hint)


def test_with_resets_finishes_an_interrupted_full_refresh(graph) -> None:
    plan = plan_update(graph, full_refresh=["raw"])
    assert plan.with_resets(frozenset()) is plan
    assert plan.with_resets(frozenset({name("raw")})) is plan
    selected = plan_update(graph, refresh=["silver", "gold"])
    both = selected.with_resets(frozenset({name("silver"), name("raw")}))
    assert names(both.flows) == names(selected.flows)  # the selection does not change
    assert resets(both) == ["silver", "backfill"]
    # raw's flow is not selected: table setup finishes its reset, its flow does not run.
    assert both.full_refresh == frozenset({name("silver"), name("raw")})
    assert resets(selected) == []  # plans are immutable
    assert both.planned(graph.flow("silver")) is not selected.planned(graph.flow("silver"))


def test_with_work_and_events(graph) -> None:
    plan = plan_update(graph, refresh=["gold"])
    work = {id(p): FlowWork(SKIP, "no new data") for p in plan.flows}
    planned = plan.with_work(work)
    assert [p.work for p in planned.flows] == [FlowWork(SKIP, "no new data")] * 2
    assert planned.to_event()[-1] == {
        "flow": "gold", "dataset": "gold", "action": "skip", "reason": "no new data",
        "reset": False, "error": None, "recover_batch": None, "sources": []}
    assert plan.to_event()[0] == {"flow": "clean", "dataset": "clean"}


def test_flow_work_describes_itself() -> None:
    assert FlowWork(REFRESH, "COMPLETE_RECOMPUTE: it computes avg(...)",
                    technique="COMPLETE_RECOMPUTE").describe() == \
        "refresh: COMPLETE_RECOMPUTE: it computes avg(...)"
    assert FlowWork(SKIP, "no new data").describe() == "skip: no new data"
    assert FlowWork(INCREMENTAL, "3 files", reset=True).describe() == \
        "reset (full refresh), then incremental: 3 files"
    assert FlowWork(INCREMENTAL, "2 files", recover_batch=4).describe() == \
        "recover batch 4, then incremental: 2 files"
    assert FlowWork(INCREMENTAL, "x", reset=True, recover_batch=1,
                    error=LakesmithError("source replaced", hint="refresh")).describe() == \
        "fails: source replaced"


def test_flow_work_event_names_each_source() -> None:
    source = SourceWork("table:raw", "raw", DeltaOffset(1), DeltaOffset(3),
                        Backlog(2, 100, 7, (2, 3)), internal=False)
    internal = SourceWork("table:silver", "silver", None, None, Backlog(), internal=True)
    work = FlowWork(INCREMENTAL, sources=(source, internal), recover_batch=2)
    assert work.to_event() == {
        "action": "incremental", "reason": None, "reset": False, "error": None,
        "recover_batch": 2, "sources": [
            {"source": "raw", "start": {"version": 1, "index": 0, "snapshot": False},
             "end": {"version": 3, "index": 0, "snapshot": False},
             "end_fixed_at": "update start", "files": 2, "bytes": 100, "records": 7},
            {"source": "silver", "start": None, "end": None, "end_fixed_at": "flow start",
             "files": 0, "bytes": 0, "records": 0}]}


@pytest.mark.parametrize(("selector", "selected"), [
    ("+gold", ["raw", "silver", "gold"]),  # through the view clean, which is never stored
    ("raw+", ["raw", "silver", "gold"]),
    ("silver+", ["silver", "gold"]),
    ("+silver+", ["raw", "silver", "gold"]),
    ("+raw", ["raw"]),
    ("s*", ["silver"]),  # globs match case-insensitively, as names do
    ("*l*", ["silver", "gold"]),  # clean matches too, but views are never selected
    ("default.g?ld", ["gold"]),
])
def test_selection_takes_globs_and_graph_operators_like_dbt(graph, selector, selected) -> None:
    plan = plan_update(graph, full_refresh=[selector])
    assert sorted(str(n.table) for n in plan.full_refresh) == sorted(selected)
    targets = {str(p.flow.target.table) for p in plan.flows}
    assert targets == set(selected) | {"clean"}


@pytest.mark.parametrize(("selector", "message", "hint"), [
    ("silvr", "--refresh: 'silvr' is not a dataset of this pipeline.", "did you mean 'Silver'?"),
    ("+gld+", "--refresh: '+gld+' is not a dataset of this pipeline.", "did you mean 'gold'?"),
    ("x*", "--refresh: 'x*' matches no table of this pipeline.",
     "datasets: Silver, clean, gold, raw"),
    ("cl*", "--refresh: 'cl*' matches no table of this pipeline.",
     "datasets: Silver, clean, gold, raw"),
    ("+", "--refresh: '+' names no dataset.",
     "write NAME, a glob such as silver_*, +NAME (with upstream) or NAME+ (with downstream)."),
])
def test_a_selector_that_matches_nothing_says_what_exists(graph, selector, message, hint) -> None:
    from lakesmith.errors import UsageError

    with pytest.raises(UsageError) as info:
        plan_update(graph, refresh=[selector])
    assert (info.value.message, info.value.hint) == (message, hint)
