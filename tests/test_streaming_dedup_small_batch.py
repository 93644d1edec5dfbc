"""A small streaming batch is deduplicated in one engine query that writes its kept rows once; the
output, the expectation counts, the state and Spark's progress counts all come from them. Two runs
of a real pipeline: the second batch repeats keys within itself and keys of the first run (a NULL
key among them), and its first row of a new key fails an `expect_or_drop` rule (the key is still
seen). Killed at each point of the second batch and run again, it lands the same rows and state,
once."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import write_deltalake

from conftest import Project, read_rows
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint.crash import CRASH_ENV
from lakesmith.runtime.eventlog_queries import quality, read_events, updates
from lakesmith.runtime.events import UpdateState

Row = tuple[int | None, float, str]

RUN_1: list[Row] = [(1, 10.0, "a"), (1, 11.0, "a-dup"), (2, -1.0, "b-negative"),
                    (None, 5.0, "null-key"), (None, 6.0, "null-key-dup"), (3, 3.0, "c")]
# In one file, in this order: keys seen in run 1 (3, NULL, 2: dropped by the rule then, still
# seen), new keys repeated within the batch (4, 6), a new key whose first row fails the rule (5).
RUN_2: list[Row] = [(3, 30.0, "c-again"), (4, 4.0, "d"), (None, 7.0, "null-key-again"),
                    (4, 40.0, "d-dup"), (5, -5.0, "e-negative"), (6, 6.0, "f"),
                    (6, 60.0, "f-dup"), (6, 61.0, "f-dup-2"), (2, 2.0, "b-again"), (5, 50.0, "e")]

OUTPUT = [(1, 10.0, "a"), (3, 3.0, "c"), (4, 4.0, "d"), (6, 6.0, "f"), (None, 5.0, "null-key")]
STATE = [(1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, 1), (None, 0)]  # key, batch that saw it
# The second batch's new rows (keys not seen in run 1), stored in input order with their ordinals.
CANDIDATES_2 = [(4, 4.0, "d"), (4, 40.0, "d-dup"), (5, -5.0, "e-negative"), (6, 6.0, "f"),
                (6, 60.0, "f-dup"), (6, 61.0, "f-dup-2"), (5, 50.0, "e")]
# Spark's counts for the second batch: 10 rows in, 3 keys added, 7 duplicates dropped.
PROGRESS_2 = {"numRowsTotal": 7, "numRowsUpdated": 3, "numRowsRemoved": 0,
              "numRowsDroppedByWatermark": 0, "customMetrics": {"numDroppedDuplicateRows": 7}}

CODE = """
import dlt


@dlt.table
@dlt.expect_or_drop("positive", "amount > 0")
def orders():
    return (spark.readStream.format("delta").load(spark.conf.get("source"))
            .select("order_id", "amount", "note").dropDuplicates(["order_id"]))
"""

POINTS = ("before_offsets", "after_offsets", "after_output", "after_state", "after_commit")


def append(source: Path, rows: list[Row]) -> None:
    """One source commit, one file, rows in this order."""
    write_deltalake(str(source), pa.table({
        "order_id": pa.array([r[0] for r in rows], pa.int64()),
        "amount": pa.array([r[1] for r in rows], pa.float64()),
        "note": pa.array([r[2] for r in rows], pa.string())}), mode="append")


def rows_of(path: Path, *columns: str) -> list[tuple]:
    return sorted((tuple(r[c] for c in columns) for r in read_rows(path)),
                  key=lambda r: tuple((v is None, v) for v in r))


@pytest.fixture
def pipeline(project: Project, tmp_path: Path) -> Project:
    source = tmp_path / "source"
    append(source, RUN_1)
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/orders.py", CODE)
    first = project.run()
    assert first.state == UpdateState.COMPLETED
    assert progress(project, first.update_id) == {
        "numRowsTotal": 4, "numRowsUpdated": 4, "numRowsRemoved": 0,
        "numRowsDroppedByWatermark": 0, "customMetrics": {"numDroppedDuplicateRows": 2}}
    assert expectations(project, first.update_id) == (3, 1)
    append(source, RUN_2)
    return project


def state_folder(project: Project) -> Path:
    return project.root / "storage/checkpoints/spark_catalog.default.orders/orders/state"


def scratches(project: Project) -> dict[str, Path]:
    """The flow's scratches by kind (`scratch-files-dedup`: a small batch's candidates as plain
    Parquet files; `scratch-dedup-candidates`, `scratch-dedup`: a larger batch's tables)."""
    return {d.name.split("-flow")[0]: d for d in state_folder(project).iterdir()
            if d.name.startswith("scratch-")}


def state_rows(project: Project) -> list[tuple]:
    (state,) = [d for d in state_folder(project).iterdir() if d.name.startswith("dedup-")]
    return rows_of(state, "order_id", "__lakesmith_batch")


def events(project: Project) -> list[dict]:
    return read_events(Location.local(project.root / "storage"))


def progress(project: Project, update_id: str) -> dict:
    (event,) = [e for e in events(project) if e["event_type"] == "flow_progress"
                and e["origin"]["update_id"] == update_id
                and e["details_json"]["flow_progress"]["status"] == "COMPLETED"]
    (operator,) = event["details_json"]["flow_progress"]["metrics"]["stateOperators"]
    return {k: v for k, v in operator.items() if k != "operatorName"}


def expectations(project: Project, update_id: str) -> tuple[int, int]:
    (rule,) = quality(events(project), update_id)
    assert (rule.dataset, rule.expectation, rule.action) == ("orders", "positive", "drop")
    return rule.passed, rule.failed


def assert_landed_once(project: Project) -> None:
    """The target and the state hold the two batches' rows exactly once; the second batch's
    candidates are stored once, as plain Parquet files, and no kept rows (a small batch reads
    them as a query)."""
    assert rows_of(project.table_path("orders"), "order_id", "amount", "note") == OUTPUT
    assert state_rows(project) == STATE
    kinds = scratches(project)
    assert kinds.keys() == {"scratch-files-dedup"}
    assert not (kinds["scratch-files-dedup"] / "_delta_log").exists()
    stored = pq.read_table(kinds["scratch-files-dedup"]).to_pylist()
    by_ordinal = sorted(stored, key=lambda r: r["__lakesmith_ordinal"])
    assert [(r["order_id"], r["amount"], r["note"]) for r in by_ordinal] == CANDIDATES_2


def test_small_batch_keeps_each_keys_first_row(pipeline: Project) -> None:
    second = pipeline.run()
    assert second.state == UpdateState.COMPLETED
    assert_landed_once(pipeline)
    assert progress(pipeline, second.update_id) == PROGRESS_2
    assert expectations(pipeline, second.update_id) == (2, 1)
    (flow,) = second.flows
    assert (flow.metrics.details["num_input_rows"], flow.metrics.num_output_rows) == (10, 2)


@pytest.mark.parametrize("point", POINTS)
def test_small_batch_killed_at_each_point_lands_once(pipeline: Project, point: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    env[CRASH_ENV] = f"{point}:orders:1"
    crashed = subprocess.run(
        [sys.executable, "-m", "lakesmith", "run", "--spec", str(pipeline.spec_path)],
        cwd=pipeline.root, env=env, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    rerun = pipeline.run()
    assert rerun.state == UpdateState.COMPLETED
    assert_landed_once(pipeline)
    (last,) = updates(events(pipeline))[-1:]
    assert last.update_id == rerun.update_id
    if point != "after_commit":  # the batch runs again: Spark's counts for it, as without a crash
        assert progress(pipeline, rerun.update_id) == PROGRESS_2
    third = pipeline.run()  # and nothing runs twice after it
    assert third.state == UpdateState.COMPLETED
    assert_landed_once(pipeline)


def test_rows_filtered_before_the_deduplication_are_not_counted_as_duplicates(
        project: Project, tmp_path: Path) -> None:
    """The rows reaching the deduplication are the slice's only through a projection; after a
    filter they are counted by the engine (Spark's numDroppedDuplicateRows counts only rows the
    deduplication saw)."""
    source = tmp_path / "source"
    append(source, [(1, 1.0, "a"), (1, 2.0, "skip"), (2, 3.0, "b"), (2, 4.0, "b-dup"),
                    (3, 5.0, "skip")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/orders.py", CODE.replace(
        '.select("order_id", "amount", "note")',
        '.select("order_id", "amount", "note").where("note <> \'skip\'")'))
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert rows_of(project.table_path("orders"), "order_id", "note") == [(1, "a"), (2, "b")]
    assert progress(project, result.update_id) == {
        "numRowsTotal": 2, "numRowsUpdated": 2, "numRowsRemoved": 0,
        "numRowsDroppedByWatermark": 0, "customMetrics": {"numDroppedDuplicateRows": 1}}


@pytest.mark.parametrize("rows_per_pass", [2_000_000, 2], ids=["one-pass", "passes"])
def test_floating_point_keys_are_equal_as_spark_compares_them(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        rows_per_pass: int) -> None:
    """Spark normalizes FLOAT and DOUBLE keys (-0.0 = 0.0, every NaN one value) within a batch and
    against the keys of earlier batches; the engine tells them apart by their bits. The rows are
    Apache Spark 4.3's (a streaming dropDuplicates over the same two Parquet files: run 1 keeps
    zero, nan, null; run 2 adds new)."""
    from lakesmith.runtime.streaming.operators import deduplicate

    monkeypatch.setattr(deduplicate, "ROWS_PER_PASS", rows_per_pass)
    source = tmp_path / "source"

    def add(rows: list[tuple[float | None, str]]) -> None:
        write_deltalake(str(source), pa.table({
            "k": pa.array([r[0] for r in rows], pa.float64()),
            "v": pa.array([r[1] for r in rows], pa.string())}), mode="append")

    add([(0.0, "zero"), (-0.0, "negative-zero"), (math.nan, "nan"), (-math.nan, "negative-nan"),
         (None, "null")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table
        def t():
            return (spark.readStream.format("delta").load(spark.conf.get("source"))
                    .dropDuplicates(["k"]))
    """)
    assert project.run().state == UpdateState.COMPLETED
    assert sorted(r["v"] for r in read_rows(project.table_path("t"))) == ["nan", "null", "zero"]
    add([(-0.0, "negative-zero-again"), (-math.nan, "negative-nan-again"), (1.5, "new")])
    assert project.run().state == UpdateState.COMPLETED
    assert sorted(r["v"] for r in read_rows(project.table_path("t"))) == [
        "nan", "new", "null", "zero"]


@pytest.mark.parametrize("key", ["s", "a"])
def test_floating_point_fields_of_struct_and_array_keys(project: Project, tmp_path: Path,
                                                        key: str) -> None:
    """Spark normalizes the FLOAT/DOUBLE fields of a STRUCT key and the elements of an ARRAY key
    as it does a top-level one, within a batch and against earlier batches. The rows are Apache
    Spark 4.3's (a streaming dropDuplicates of `s`, then of `a`, over the same two Parquet
    files)."""
    source = tmp_path / "source"
    point = pa.struct([("x", pa.float64()), ("n", pa.int64())])

    def add(rows: list[tuple[dict[str, Any] | None, list[float] | None, str]]) -> None:
        write_deltalake(str(source), pa.table({
            "s": pa.array([r[0] for r in rows], point),
            "a": pa.array([r[1] for r in rows], pa.list_(pa.float64())),
            "v": pa.array([r[2] for r in rows], pa.string())}), mode="append")

    add([({"x": 0.0, "n": 1}, [0.0], "zero"), ({"x": -0.0, "n": 1}, [-0.0], "negative-zero"),
         ({"x": math.nan, "n": 1}, [math.nan], "nan"),
         ({"x": -math.nan, "n": 1}, [-math.nan], "negative-nan"),
         (None, None, "null"), ({"x": 0.0, "n": 2}, [0.0, 1.0], "zero-2")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp

        @dp.table
        def t():
            return (spark.readStream.format("delta").load(spark.conf.get("source"))
                    .dropDuplicates(["{key}"]))
    """)
    assert project.run().state == UpdateState.COMPLETED
    assert sorted(r["v"] for r in read_rows(project.table_path("t"))) == [
        "nan", "null", "zero", "zero-2"]
    add([({"x": -0.0, "n": 1}, [-0.0], "negative-zero-again"),
         ({"x": -math.nan, "n": 1}, [-math.nan], "negative-nan-again"),
         ({"x": 1.5, "n": 1}, [1.5], "new"), ({"x": -0.0, "n": 2}, [-0.0, 1.0], "zero-2-again")])
    assert project.run().state == UpdateState.COMPLETED
    assert sorted(r["v"] for r in read_rows(project.table_path("t"))) == [
        "nan", "new", "null", "zero", "zero-2"]


def test_a_batch_of_only_seen_keys_writes_no_candidate_files(pipeline: Project) -> None:
    """Every row of the third batch repeats a key seen before: no candidate file is written, the
    batch outputs nothing and adds no key, and Spark's counts say so."""
    assert pipeline.run().state == UpdateState.COMPLETED
    append(pipeline.root.parent / "source", [(1, 100.0, "a-late"), (None, 8.0, "null-late"),
                                             (6, 600.0, "f-late")])
    third = pipeline.run()
    assert third.state == UpdateState.COMPLETED
    assert rows_of(pipeline.table_path("orders"), "order_id", "amount", "note") == OUTPUT
    assert state_rows(pipeline) == STATE
    kinds = scratches(pipeline)
    assert kinds.keys() <= {"scratch-files-dedup"}
    assert [p for p in kinds.get("scratch-files-dedup", pipeline.root).glob("*.parquet")] == []
    assert progress(pipeline, third.update_id) == {
        "numRowsTotal": 7, "numRowsUpdated": 0, "numRowsRemoved": 0,
        "numRowsDroppedByWatermark": 0, "customMetrics": {"numDroppedDuplicateRows": 3}}
    assert expectations(pipeline, third.update_id) == (0, 0)


def test_scratch_kinds_follow_the_batch_size(project: Project, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A larger batch's scratch tables (or an older checkpoint's, which always had them) give way
    to a small batch's files, and back: each batch reads only what it wrote, and the rows, the
    state and the counts are those of one size throughout."""
    from lakesmith.runtime.streaming.operators import deduplicate

    source = tmp_path / "source"
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/orders.py", CODE)
    monkeypatch.setattr(deduplicate, "KEPT_AS_QUERY_ROWS", 0)  # every batch "larger"
    append(source, RUN_1)
    assert project.run().state == UpdateState.COMPLETED
    assert scratches(project).keys() == {"scratch-dedup-candidates", "scratch-dedup"}
    monkeypatch.setattr(deduplicate, "KEPT_AS_QUERY_ROWS", 250_000)
    append(source, RUN_2)
    second = project.run()
    assert second.state == UpdateState.COMPLETED
    assert_landed_once(project)  # only the files scratch is left
    assert progress(project, second.update_id) == PROGRESS_2
    assert expectations(project, second.update_id) == (2, 1)
    monkeypatch.setattr(deduplicate, "KEPT_AS_QUERY_ROWS", 0)
    append(source, [(7, 7.0, "g"), (4, 41.0, "d-late"), (7, 70.0, "g-dup")])
    third = project.run()
    assert third.state == UpdateState.COMPLETED
    assert scratches(project).keys() == {"scratch-dedup-candidates", "scratch-dedup"}
    assert rows_of(project.table_path("orders"), "order_id", "amount", "note") == sorted(
        [*OUTPUT, (7, 7.0, "g")], key=lambda r: tuple((v is None, v) for v in r))
    assert state_rows(project) == [*STATE[:-1], (7, 2), STATE[-1]]
