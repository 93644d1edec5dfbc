"""A deduplicated streaming table's expectations are counted by the state append of its new keys
(each rule's flag written with them, NULL where a row passes; the counts read from the commit's
statistics), not by a counting query of their own. The event log reports exactly what the
counting query reported: per rule passed and failed records, dropped records, output rows, on
batches with drops, NULL conditions and duplicates within a batch and across runs; killed at each
point of the second batch and run again, each batch is reported once with the same counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from conftest import Project, read_rows
from lakesmith.locations import Location
from lakesmith.quality.expectations import ExpectationSet
from lakesmith.runtime.checkpoint.crash import CRASH_ENV
from lakesmith.runtime.eventlog_queries import quality, read_events
from lakesmith.runtime.events import UpdateState
from lakesmith.runtime.flows.quality import FlowQuality

Row = tuple[int | None, float | None, str | None, str | None]  # order_id, amount, customer, note

# Kept (first row of each key): 1, 2 (negative), 3 (no customer, no note), NULL key, 4 (NULL
# amount: its rule's condition is NULL, which fails).
RUN_1: list[Row] = [(1, 10.0, "a", "n1"), (1, 11.0, "a", None), (2, -1.0, "b", "n2"),
                    (3, 3.0, None, None), (None, 5.0, "z", "n"), (4, None, "c", "x")]
# Keys 1 and 2 seen in run 1; 5 twice in the batch (its first row has no note); 6 fails both
# drop rules; 7 passes all.
RUN_2: list[Row] = [(1, 7.0, "a", "again"), (5, 5.0, "e", None), (5, 50.0, "e", "dup"),
                    (6, -6.0, None, "both"), (2, 2.0, "b", "seen"), (7, 7.0, "g", "ok")]

# (rule, action) -> (passed, failed); dropped records; output rows
COUNTS_1 = ({("has_note", "warn"): (4, 1), ("positive", "drop"): (3, 2),
             ("known_customer", "drop"): (4, 1)}, 3, 2)
COUNTS_2 = ({("has_note", "warn"): (2, 1), ("positive", "drop"): (2, 1),
             ("known_customer", "drop"): (2, 1)}, 1, 2)
OUTPUT = [(1, "a"), (5, "e"), (7, "g"), (None, "z")]

CODE = """
import dlt


@dlt.table
@dlt.expect("has_note", "note IS NOT NULL")
@dlt.expect_or_drop("positive", "amount > 0")
@dlt.expect_or_drop("known_customer", "customer IS NOT NULL")
def orders():
    return (spark.readStream.format("delta").load(spark.conf.get("source"))
            .dropDuplicates(["order_id"]))
"""

POINTS = ("after_offsets", "after_output", "after_state", "after_commit")


def append(source: Path, rows: list[Row]) -> None:
    write_deltalake(str(source), pa.table({
        "order_id": pa.array([r[0] for r in rows], pa.int64()),
        "amount": pa.array([r[1] for r in rows], pa.float64()),
        "customer": pa.array([r[2] for r in rows], pa.string()),
        "note": pa.array([r[3] for r in rows], pa.string())}), mode="append")


def reported(project: Project, update_id: str) -> tuple[dict, int, int]:
    """The update's expectation counts, dropped records and output rows from its event log."""
    events = read_events(Location.local(project.root / "storage"))
    rules = {(q.expectation, q.action): (q.passed, q.failed) for q in quality(events, update_id)}
    (progress,) = [e["details_json"]["flow_progress"] for e in events
                   if e["event_type"] == "flow_progress" and e["origin"]["update_id"] == update_id
                   and e["details_json"]["flow_progress"]["status"] == "COMPLETED"]
    return (rules, progress["data_quality"]["dropped_records"],
            progress["metrics"]["num_output_rows"])


def output(project: Project) -> list[tuple]:
    return sorted(((r["order_id"], r["customer"]) for r in read_rows(project.table_path("orders"))),
                  key=lambda r: (r[0] is None, r[0] or 0))


def state_table(project: Project) -> DeltaTable:
    folder = project.root / "storage/checkpoints/spark_catalog.default.orders/orders/state"
    (state,) = [d for d in folder.iterdir() if d.name.startswith("dedup-")]
    return DeltaTable(str(state))


def state_keys(project: Project) -> list[tuple]:
    rows = state_table(project).to_pyarrow_table(columns=["order_id", "__lakesmith_batch"])
    return sorted(zip(*rows.to_pydict().values(), strict=True),
                  key=lambda r: (r[0] is None, r[0] or 0))


STATE = [(1, 0), (2, 0), (3, 0), (4, 0), (5, 1), (6, 1), (7, 1), (None, 0)]


@pytest.fixture
def no_counting_query(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: Any, df: Any) -> Any:
        raise AssertionError("the expectations were counted by a query of their own")

    monkeypatch.setattr(ExpectationSet, "evaluate", refused)


@pytest.fixture
def pipeline(project: Project, tmp_path: Path, no_counting_query: None) -> Project:
    source = tmp_path / "source"
    append(source, RUN_1)
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/orders.py", CODE)
    first = project.run()
    assert first.state == UpdateState.COMPLETED
    assert reported(project, first.update_id) == COUNTS_1
    append(source, RUN_2)
    return project


def test_counts_by_the_state_equal_the_counting_query(
        pipeline: Project, tmp_path: Path, sail_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    second = pipeline.run()
    assert second.state == UpdateState.COMPLETED
    assert reported(pipeline, second.update_id) == COUNTS_2
    assert output(pipeline) == OUTPUT
    assert state_keys(pipeline) == STATE
    flags = [f.name for f in state_table(pipeline).schema().fields
             if f.name.startswith("__lakesmith_") and f.name != "__lakesmith_batch"]
    assert [f.split("_")[3] for f in flags] == ["expect", "expect", "expect", "dropped"]

    # The same pipeline with the counting query: the same report, rows and keys.
    monkeypatch.undo()
    monkeypatch.setattr(FlowQuality, "countable_by_state", lambda self: None)
    other = Project(tmp_path / "queried", sail_url)
    other.root.mkdir()
    other.write_spec(configuration={"source": str(tmp_path / "queried-source")})
    other.write("transformations/orders.py", CODE)
    append(tmp_path / "queried-source", RUN_1)
    first = other.run()
    append(tmp_path / "queried-source", RUN_2)
    again = other.run()
    assert reported(other, first.update_id) == COUNTS_1
    assert reported(other, again.update_id) == COUNTS_2
    assert output(other) == OUTPUT
    assert state_keys(other) == STATE
    assert not [f for f in state_table(other).schema().fields if "expect" in f.name]


def test_counts_without_file_statistics_are_asked_of_the_engine(
        pipeline: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    from lakesmith.runtime.streaming.operators import deduplicate

    monkeypatch.setattr(deduplicate, "_batch_stats", lambda actions, batch, names: None)
    second = pipeline.run()
    assert reported(pipeline, second.update_id) == COUNTS_2


def test_file_statistics_of_one_batch(pipeline: Project) -> None:
    """Counts come only from files wholly of the batch; a file of several batches, or without
    statistics, cannot tell."""
    from lakesmith.runtime.streaming.operators.deduplicate import _batch_stats

    names = ["f"]
    actions = pa.table({"num_records": [3, 4], "min.__lakesmith_batch": [0, 1],
                        "max.__lakesmith_batch": [0, 1], "null_count.f": [1, 3]})
    assert _batch_stats(actions, 1, names) == (4, {"f": 1})
    assert _batch_stats(actions, 0, names) == (3, {"f": 2})
    assert _batch_stats(actions, 2, names) == (0, {"f": 0})
    both = actions.set_column(1, "min.__lakesmith_batch", pa.array([0, 0]))
    assert _batch_stats(both, 1, names) is None
    missing = actions.set_column(3, "null_count.f", pa.array([1, None], pa.int64()))
    assert _batch_stats(missing, 1, names) is None
    assert _batch_stats(actions.drop_columns(["null_count.f"]), 1, names) is None


def crash(project: Project, point: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    env[CRASH_ENV] = f"{point}:orders:1"
    crashed = subprocess.run(
        [sys.executable, "-m", "lakesmith", "run", "--spec", str(project.spec_path)],
        cwd=project.root, env=env, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr


@pytest.mark.parametrize("point", POINTS)
def test_killed_at_each_point_reports_each_batch_once(
        pipeline: Project, point: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rerun whose keys may have landed (the state holds rows of its batch) counts with the
    query; one whose keys had not (before its output) counts by its state append."""
    crash(pipeline, point)
    if point in ("after_output", "after_state"):
        monkeypatch.undo()
    rerun = pipeline.run()
    assert rerun.state == UpdateState.COMPLETED
    if point != "after_commit":  # the batch runs again and reports what it did
        assert reported(pipeline, rerun.update_id) == COUNTS_2
    assert output(pipeline) == OUTPUT
    assert state_keys(pipeline) == STATE


def test_a_rerun_with_other_rules_than_its_landed_keys_counts_by_query(
        pipeline: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys landed flagged by the rules of the run that crashed; the rerun counts its
    rules with a query over the batch's rows (as any rerun did before)."""
    crash(pipeline, "after_state")
    pipeline.write("transformations/orders.py", CODE.replace('"amount > 0"', '"amount > 6"'))
    monkeypatch.undo()
    rerun = pipeline.run()
    assert rerun.state == UpdateState.COMPLETED
    rules, dropped, rows = reported(pipeline, rerun.update_id)
    # batch 1's kept rows: 5 (5.0), 6 (-6.0), 7 (7.0); the output landed before the crash
    assert rules[("positive", "drop")] == (1, 2)
    assert (dropped, rows) == (2, 2)
    assert output(pipeline) == OUTPUT
    assert state_keys(pipeline) == STATE


def test_the_result_schema_is_the_stored_candidates_without_asking(
        project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        schema_requests: list[str]) -> None:
    """The result's schema (which the write needs) comes from the candidates' Delta log: the
    same the engine gives (types, NULL-ability of a literal column too), and no analysis round
    trip in the batch beyond the deduplication's own."""
    source = tmp_path / "source"
    write_deltalake(str(source), pa.table({
        "k": pa.array([1, 1, 2], pa.int64()), "amount": pa.array(["1.50", "2", "-3"]),
        "at": pa.array(["2026-01-01 10:00:00", None, "2026-01-02 00:00:00"])}))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        import dlt
        from pyspark.sql.functions import col, lit, to_date

        @dlt.table
        @dlt.expect_or_drop("positive", "amount > 0")
        def t():
            return (spark.readStream.format("delta").load(spark.conf.get("source"))
                    .select("k", col("amount").cast("decimal(10,2)").alias("amount"),
                            col("at").cast("timestamp").alias("at"),
                            to_date("at").alias("day"), lit(1).alias("one"))
                    .dropDuplicates(["k"]))
    """)
    compared: list[tuple[Any, Any]] = []
    original = FlowQuality.counted

    def counted(self: FlowQuality, df: Any, count: Any) -> Any:
        known = df._cached_schema
        before = len(schema_requests)
        result = original(self, df, count)
        assert len(schema_requests) == before  # the known schema: nothing asked
        compared.append((known, df.sparkSession.client.schema(
            df._plan.to_proto(df.sparkSession.client))))
        return result

    monkeypatch.setattr(FlowQuality, "counted", counted)
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    ((known, engine),) = compared
    assert known is not None and known == engine
    assert [f.nullable for f in known.fields] == [True, True, True, True, False]
    assert sorted((r["k"], str(r["amount"])) for r in read_rows(project.table_path("t"))) == [
        (1, "1.50")]
