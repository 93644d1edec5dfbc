"""Crash at every point of the exactly-once protocol, in every kind of flow, then run again: no
batch is lost or written twice, in a target, a quarantine table, a deduplication state or a table
downstream; and the run after that processes new input exactly once.

One pipeline has a flow of each kind (see `crash_pipeline`); each case crashes one run of it at
one (point, flow, batch). The default suite runs each point and each flow kind once; `-m slow`
runs them all.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from crash_pipeline import FLOW_POINTS, FLOW_TABLES, CrashPipeline, output
from lakesmith.runtime.checkpoint.crash import BATCH_POINTS

COMMITS = [
    [(1, 10.0), (2, -1.0), (1, 10.0)],  # a repeated row, a dropped row; creates quarantine, state
    [(3, 5.0), (2, 7.0)],  # id 2 again (deduplicated), nothing dropped
    [(4, 0.0), (5, 2.0)],  # a dropped row, appended to the quarantine
]
NEW_COMMIT = [(5, 3.0), (6, -2.0), (7, 1.0)]

# Which batches of each flow to crash in: the first (nothing committed before it; the quarantine
# and state tables do not exist yet), the last, and for checked and uniq every batch, as each
# writes its quarantine or state differently (created, nothing to write, appended).
BATCHES = {"bronze": (0, 2), "checked": (0, 1, 2), "uniq": (0, 1, 2), "backfill": (0,),
           "silver": (0, 2)}
# By default: each crash point and each flow kind at least once.
DEFAULT_CASES = {
    ("before_offsets", "uniq", 0),
    ("after_offsets", "silver", 2),
    ("after_output", "checked", 0),
    ("after_output", "backfill", 0),
    ("after_quarantine", "checked", 2),
    ("after_state", "uniq", 1),
    ("after_commit", "bronze", 2),
}


def cases() -> list:
    found = []
    for flow, points in FLOW_POINTS.items():
        for point in points:
            for batch in BATCHES[flow]:
                marks = () if (point, flow, batch) in DEFAULT_CASES else (pytest.mark.slow,)
                found.append(pytest.param(point, flow, batch, marks=marks,
                                          id=f"{point}-{flow}-{batch}"))
    return found


@pytest.fixture
def pipeline(tmp_path: Path) -> CrashPipeline:
    pipeline = CrashPipeline(tmp_path / "p")
    for commit in COMMITS:
        pipeline.append(commit)
    return pipeline


def run_to_end(pipeline: CrashPipeline, *args: str) -> None:
    result = pipeline.run(None, *args)
    assert result.returncode == 0, output(result)


@pytest.mark.parametrize(("point", "flow", "batch"), cases())
def test_crash_then_rerun_is_exactly_once(pipeline: CrashPipeline, point: str, flow: str,
                                          batch: int) -> None:
    crashed = pipeline.run(f"{point}:{flow}:{batch}")
    assert crashed.returncode == 137, output(crashed)
    # It crashed where it was asked to: batch N's offsets are written from after_offsets on, its
    # commit at after_commit.
    planned = batch + (point != "before_offsets")
    committed = batch + (point == "after_commit")
    assert pipeline.logged(flow) == (list(range(planned)), list(range(committed)))

    run_to_end(pipeline)
    pipeline.check_done()
    pipeline.append(NEW_COMMIT)
    run_to_end(pipeline)
    pipeline.check_done()


UNREACHED = [(point, flow) for flow, points in FLOW_POINTS.items() for point in BATCH_POINTS
             if point not in points]
UNREACHED_BY_DEFAULT = [("after_state", "backfill"), ("after_state", "checked"),
                        ("after_quarantine", "uniq")]


@pytest.mark.parametrize("unreached", [
    pytest.param(UNREACHED_BY_DEFAULT, id="one-per-flow-kind"),
    pytest.param([case for case in UNREACHED if case not in UNREACHED_BY_DEFAULT], id="others",
                 marks=pytest.mark.slow)])
def test_points_a_flow_does_not_have_are_never_reached(
        pipeline: CrashPipeline, unreached: list[tuple[str, str]]) -> None:
    """after_quarantine in a flow without quarantine, after_state in one without state: the
    update runs to its end (each run with a new source commit, so every streaming flow runs; the
    once flow runs in the first)."""
    for i, (point, flow) in enumerate(unreached):
        if i:
            pipeline.append([(10 + i, float(i)), (20 + i, -float(i))])
        result = pipeline.run(f"{point}:{flow}")
        assert result.returncode == 0, (point, flow, output(result))
        pipeline.check_done()


RESET_CASES = [pytest.param("after_reset_marker", None, id="after_reset_marker")] + [
    pytest.param("after_truncate", table, id=f"after_truncate-{table}",
                 marks=() if table == "checked" else (pytest.mark.slow,))
    for table in sorted(set(FLOW_TABLES.values()))]


@pytest.mark.parametrize(("point", "table"), RESET_CASES)
def test_crash_during_full_refresh_is_finished_by_the_next_update(
        pipeline: CrashPipeline, point: str, table: str | None) -> None:
    """Every table to reset is marked first; the next update (a plain one) finishes the reset:
    each table truncated with its quarantine, its checkpoints and state dropped, then rebuilt."""
    run_to_end(pipeline)
    crash_at = point if table is None else f"{point}:spark_catalog.default.{table}"
    crashed = pipeline.run(crash_at, "--full-refresh-all")
    assert crashed.returncode == 137, output(crashed)
    checkpoints = pipeline.storage / "checkpoints"
    pending = sorted(p.parent.name for p in checkpoints.glob("*/_reset_pending"))
    if table is None:
        assert pending == sorted(f"spark_catalog.default.{t}" for t in set(FLOW_TABLES.values()))
    else:  # it crashed after truncating the table and its quarantine
        assert f"spark_catalog.default.{table}" in pending
        tables = pipeline.tables()
        assert tables[table] == []
        assert tables.get(f"{table}_quarantine", []) == []

    run_to_end(pipeline)
    assert not list(checkpoints.glob("*/_reset_pending"))
    pipeline.check_done()
    pipeline.append(NEW_COMMIT)
    run_to_end(pipeline)
    pipeline.check_done()
