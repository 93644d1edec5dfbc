"""`recover()` decides from the two logs what a restart does, and `run_batch()` writes offsets,
then each writer in order (skipping those whose marked commit landed), then the commit record; a
crash at any named point loses nothing and writes nothing twice. Tables are simulated by fake
writers: no engine."""

from __future__ import annotations

import os
import types
from pathlib import Path

import pytest

from lakesmith.locations import Location
from lakesmith.runtime.checkpoint import crash
from lakesmith.runtime.checkpoint.checkpoint import Checkpoint
from lakesmith.runtime.checkpoint.protocol import (
    BatchPlan,
    Recovery,
    recover,
    run_batch,
    writer_versions,
)
from lakesmith.runtime.checkpoint.records import (
    CheckpointError,
    CommitRecord,
    Marker,
    OffsetRecord,
    SourceRange,
)
from lakesmith.runtime.checkpoint.writers import BatchWriter, Landed


class FakeTable(BatchWriter):
    """A table whose commits are (version, marker, rows); records every call in `calls`."""

    def __init__(self, name: str, calls: list[tuple], crash_point: str = crash.AFTER_OUTPUT,
                 rows: int = 3) -> None:
        self.name = name
        self.crash_point = crash_point
        self.calls = calls
        self.rows = rows
        self.commits: list[tuple[int, Marker, int]] = []

    def version(self) -> int | None:
        return self.commits[-1][0] if self.commits else None

    def landed(self, marker: Marker, version_before: int | None) -> Landed | None:
        self.calls.append(("landed", self.name, marker.batch, version_before))
        assert marker.checkpoint is not None and marker.batch is not None
        for version, found, rows in self.commits:
            after = version_before is None or version > version_before
            if after and found.is_batch(marker.checkpoint, marker.batch):
                return Landed(version, rows)
        return None

    def write(self, marker: Marker) -> None:
        self.calls.append(("write", self.name, marker.batch))
        version = (self.version() if self.commits else -1) + 1
        self.commits.append((version, marker, self.rows))

    def batches(self) -> list[int | None]:
        return [marker.batch for _, marker, _ in self.commits]


class Crashed(Exception):
    pass


@pytest.fixture
def checkpoint(tmp_path: Path) -> Checkpoint:
    cp = Checkpoint(Location.local(tmp_path / "cp"), flow="Flow", table="T", display_table="T")
    cp.create("table-id")
    return cp


@pytest.fixture
def crash_at(monkeypatch):
    """Set LAKESMITH_CRASH_AT; reaching the point raises Crashed instead of exiting."""

    def exit_(status: int) -> None:
        raise Crashed(status)

    monkeypatch.setattr(crash, "os", types.SimpleNamespace(environ=os.environ, _exit=exit_))

    def set_point(point: str) -> None:
        monkeypatch.setenv(crash.CRASH_ENV, point)

    return set_point


def writers(calls: list[tuple]) -> list[FakeTable]:
    return [FakeTable("output", calls), FakeTable("quarantine", calls, crash.AFTER_QUARANTINE, 1),
            FakeTable("state", calls, crash.AFTER_STATE, 2)]


def offsets(batch: int, tables: list[FakeTable]) -> OffsetRecord:
    return OffsetRecord(batch, {"s": SourceRange({"v": batch}, {"v": batch + 1})},
                        versions=writer_versions(tables))


def plan(batch: int, tables: list[FakeTable], **fields) -> BatchPlan:
    return BatchPlan(offsets(batch, tables), tables, output=tables[0], num_input_rows=5,
                     **fields)


def run(checkpoint: Checkpoint, batch: int, tables: list[FakeTable]) -> CommitRecord:
    return run_batch(checkpoint, plan(batch, tables))


def message(checkpoint: Checkpoint, what: str) -> str:
    return (f"The checkpoint of flow 'flow' at {checkpoint.location} is inconsistent: "
            f"{what}.")


# -- recover() -------------------------------------------------------------------------------------


def test_no_offsets_is_a_new_stream(checkpoint) -> None:
    assert recover(checkpoint, FakeTable("output", [])) == Recovery()


def test_offsets_without_a_commit_rerun_that_batch(checkpoint) -> None:
    record = offsets(0, [])
    checkpoint.offsets.add(0, record.to_json())
    assert recover(checkpoint, FakeTable("output", [])) == Recovery(rerun=record)


def test_offsets_n_with_commit_n_minus_1_rerun_n(checkpoint) -> None:
    calls: list[tuple] = []
    tables = writers(calls)
    run(checkpoint, 0, tables)
    run(checkpoint, 1, tables)
    record = offsets(2, tables)
    checkpoint.offsets.add(2, record.to_json())
    calls.clear()
    recovery = recover(checkpoint, tables[0])
    assert recovery == Recovery(rerun=record, last_commit=CommitRecord(1, 1, 5, 3))
    assert calls == []  # the output is not looked for: the batch is not committed


def test_offsets_and_commit_n_with_the_output_present_need_nothing(checkpoint) -> None:
    calls: list[tuple] = []
    tables = writers(calls)
    run(checkpoint, 0, tables)
    commit = run(checkpoint, 1, tables)
    calls.clear()
    assert recover(checkpoint, tables[0]) == Recovery(last_commit=commit)
    # Looked for after the version the offsets recorded.
    assert calls == [("landed", "output", 1, 0)]


def test_a_commit_whose_output_is_missing_reruns_and_replaces_it(checkpoint) -> None:
    calls: list[tuple] = []
    tables = writers(calls)
    first = run(checkpoint, 0, tables)
    run(checkpoint, 1, tables)
    del tables[0].commits[1:]  # an OS crash lost the Delta commit of batch 1
    recovery = recover(checkpoint, tables[0])
    record = checkpoint.offsets.get(1)
    assert recovery == Recovery(rerun=record, replace_commit=True, last_commit=first)
    calls.clear()
    commit = run_batch(checkpoint, BatchPlan(record, tables, output=tables[0], num_input_rows=5,
                                             recovering=True, replace_commit=True))
    assert calls == [("landed", "output", 1, 0), ("write", "output", 1),
                     ("landed", "output", 1, 0), ("landed", "quarantine", 1, 0),
                     ("landed", "state", 1, 0)]
    assert commit == CommitRecord(1, 1, 5, 3)
    assert checkpoint.commits.get(1) == commit
    assert tables[0].batches() == [0, 1]


def test_a_lost_output_of_the_first_batch_reruns_it_with_no_previous_commit(checkpoint) -> None:
    tables = writers([])
    run(checkpoint, 0, tables)
    tables[0].commits.clear()
    assert recover(checkpoint, tables[0]) == Recovery(
        rerun=checkpoint.offsets.get(0), replace_commit=True, last_commit=None)


def test_a_batch_that_wrote_nothing_is_not_looked_for(checkpoint) -> None:
    calls: list[tuple] = []
    empty = FakeTable("output", calls)
    empty.write = lambda marker: calls.append(("write", "output", marker.batch))  # no commit
    commit = run_batch(checkpoint, BatchPlan(offsets(0, [empty]), [empty], output=empty))
    assert commit == CommitRecord(0, None, 0, 0)
    calls.clear()
    assert recover(checkpoint, empty) == Recovery(last_commit=commit)
    assert calls == []


def test_without_an_output_probe_a_commit_is_trusted(checkpoint) -> None:
    tables = writers([])
    commit = run(checkpoint, 0, tables)
    tables[0].commits.clear()
    assert recover(checkpoint, None) == Recovery(last_commit=commit)


def test_a_commit_without_offsets_is_refused(checkpoint) -> None:
    checkpoint.commits.add(3, CommitRecord(3, 7).to_json())
    with pytest.raises(CheckpointError) as info:
        recover(checkpoint, None)
    assert info.value.message == message(
        checkpoint, "batch 3 is committed but the offsets log is empty (offsets/ was deleted)")
    assert info.value.hint == ("run a full refresh of 'T' (--full-refresh T) to rebuild it from "
                               "its sources with a new checkpoint.")


@pytest.mark.parametrize(("planned", "committed"), [(3, 1), (5, None), (1, 2)])
def test_a_gap_between_the_logs_is_refused(checkpoint, planned, committed) -> None:
    for batch in range(planned + 1):
        checkpoint.offsets.add(batch, offsets(batch, []).to_json())
    if committed is not None:
        checkpoint.commits.add(committed, CommitRecord(committed, None).to_json())
    last = -1 if committed is None else committed
    with pytest.raises(CheckpointError) as info:
        recover(checkpoint, None)
    assert info.value.message == message(
        checkpoint, f"batch {planned} is planned but the last committed batch is {last}")
    assert "--full-refresh T" in str(info.value)


# -- run_batch() -----------------------------------------------------------------------------------


def test_run_batch_writes_offsets_then_each_writer_then_the_commit(checkpoint, monkeypatch) -> None:
    calls: list[tuple] = []
    tables = writers(calls)
    offsets_add = checkpoint.offsets.add
    commits_add = checkpoint.commits.add
    monkeypatch.setattr(checkpoint.offsets, "add",
                        lambda n, r: (calls.append(("offsets", n)), offsets_add(n, r)))
    monkeypatch.setattr(checkpoint.commits, "add",
                        lambda n, r: (calls.append(("commit", n)), commits_add(n, r)))
    batch_plan = plan(0, tables, next_watermark_ms=99, pipeline="p", update_id="u")
    commit = run_batch(checkpoint, batch_plan)
    # A new batch asks no writer whether it landed before writing (only a rerun can find its
    # commit landed); the output is found after its write, for the commit record.
    assert calls == [
        ("offsets", 0),
        ("write", "output", 0), ("landed", "output", 0, None),
        ("write", "quarantine", 0),
        ("write", "state", 0),
        ("commit", 0),
    ]
    assert commit == CommitRecord(0, output_version=0, num_input_rows=5, num_output_rows=3,
                                  watermark_ms=99)
    assert checkpoint.commits.get(0) == commit
    assert checkpoint.offsets.get(0) == batch_plan.record
    assert batch_plan.landed == {"output": Landed(0, 3)}
    marker = tables[1].commits[0][1]
    assert marker == Marker(kind="batch", flow="flow", checkpoint=checkpoint.id, batch=0,
                            pipeline="p", update_id="u")


def test_each_batch_marks_its_commits_and_records_versions_before_it(checkpoint) -> None:
    tables = writers([])
    for batch in range(3):
        record = offsets(batch, tables)
        assert record.versions == {"output": batch - 1 if batch else None,
                                   "quarantine": batch - 1 if batch else None,
                                   "state": batch - 1 if batch else None}
        run_batch(checkpoint, BatchPlan(record, tables, output=tables[0]))
    assert [t.batches() for t in tables] == [[0, 1, 2]] * 3
    assert checkpoint.commits.batches() == [0, 1, 2]


def test_writing_a_planned_batch_again_is_refused(checkpoint) -> None:
    tables = writers([])
    run(checkpoint, 0, tables)
    with pytest.raises(CheckpointError, match="offsets of flow 'Flow' record .*/offsets/0 "
                       "already exists"):
        run(checkpoint, 0, tables)


def test_a_batch_purges_records_beyond_the_retention(tmp_path) -> None:
    cp = Checkpoint(Location.local(tmp_path / "cp"), flow="f", table="t", display_table="t",
                    retain=2)
    cp.create(None)
    tables = writers([])
    for batch in range(5):
        run(cp, batch, tables)
    assert cp.offsets.batches() == [3, 4]
    assert cp.commits.batches() == [3, 4]


@pytest.mark.parametrize(("point", "after_crash", "rewritten"), [
    (crash.AFTER_OFFSETS, [[0], [0], [0]], ["output", "quarantine", "state"]),
    (crash.AFTER_OUTPUT, [[0, 1], [0], [0]], ["quarantine", "state"]),
    (crash.AFTER_QUARANTINE, [[0, 1], [0, 1], [0]], ["state"]),
    (crash.AFTER_STATE, [[0, 1], [0, 1], [0, 1]], []),
])
def test_a_crash_before_the_commit_reruns_only_what_did_not_land(
        checkpoint, crash_at, point, after_crash, rewritten) -> None:
    calls: list[tuple] = []
    tables = writers(calls)
    run(checkpoint, 0, tables)
    crash_at(f"{point}:flow:1")
    with pytest.raises(Crashed):
        run(checkpoint, 1, tables)
    assert [t.batches() for t in tables] == after_crash
    assert checkpoint.commits.latest_batch() == 0
    crash_at("")
    recovery = recover(checkpoint, tables[0])
    assert recovery.rerun == checkpoint.offsets.get(1)
    assert not recovery.replace_commit
    calls.clear()
    commit = run_batch(checkpoint, BatchPlan(recovery.rerun, tables, output=tables[0],
                                             recovering=True))
    assert [c[1] for c in calls if c[0] == "write"] == rewritten
    assert [t.batches() for t in tables] == [[0, 1]] * 3  # each batch landed exactly once
    assert commit == CommitRecord(1, 1, 0, 3)
    assert recover(checkpoint, tables[0]) == Recovery(last_commit=commit)


def test_a_crash_before_the_offsets_plans_the_batch_again(checkpoint, crash_at) -> None:
    tables = writers([])
    crash_at(crash.BEFORE_OFFSETS)
    with pytest.raises(Crashed):
        run(checkpoint, 0, tables)
    assert recover(checkpoint, tables[0]) == Recovery()
    assert [t.batches() for t in tables] == [[], [], []]


def test_a_crash_after_the_commit_needs_nothing(checkpoint, crash_at) -> None:
    tables = writers([])
    crash_at(crash.AFTER_COMMIT)
    with pytest.raises(Crashed):
        run(checkpoint, 0, tables)
    assert recover(checkpoint, tables[0]) == Recovery(last_commit=CommitRecord(0, 0, 5, 3))


def test_crash_points_match_flow_and_batch(crash_at) -> None:
    crash_at("after_output:Other:2")
    crash.crash_point(crash.AFTER_OUTPUT, "flow", 2)  # another flow: no crash
    crash.crash_point(crash.AFTER_OUTPUT, "other", 1)  # another batch: no crash
    crash.crash_point(crash.AFTER_STATE, "other", 2)  # another point: no crash
    with pytest.raises(Crashed):
        crash.crash_point(crash.AFTER_OUTPUT, "other", 2)
    crash_at("after_output::2")
    with pytest.raises(Crashed):
        crash.crash_point(crash.AFTER_OUTPUT, "any", 2)


# -- a writer alongside the output -----------------------------------------------------------------


class GatedTable(FakeTable):
    """A table whose write waits until `gate` opens (another thread opens it), or fails."""

    def __init__(self, *args, gate=None, waits_for=None, fails: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = gate
        self.waits_for = waits_for
        self.fails = fails
        self.thread = ""

    def write(self, marker: Marker) -> None:
        import threading

        self.thread = threading.current_thread().name
        if self.waits_for is not None:
            assert self.waits_for.wait(10), f"{self.name} waited for the other write in vain"
        if self.fails:
            raise RuntimeError(f"{self.name} failed")
        super().write(marker)
        if self.gate is not None:
            self.gate.set()


def alongside_writers(calls: list[tuple], **state: object) -> list[FakeTable]:
    """output and quarantine, then a state written alongside the output: the output's write
    waits until the state's landed, so the test fails unless they run at once."""
    import threading

    gate = threading.Event()
    output = GatedTable("output", calls, waits_for=gate if not state.get("fails") else None)
    table = GatedTable("state", calls, crash.AFTER_STATE, 2, gate=gate, **state)
    table.alongside_output = True
    return [output, FakeTable("quarantine", calls, crash.AFTER_QUARANTINE, 1), table]


def test_a_writer_alongside_the_output_writes_at_the_same_time(checkpoint, crash_at) -> None:
    import threading

    calls: list[tuple] = []
    tables = alongside_writers(calls)
    crash_at(f"{crash.AFTER_OUTPUT}:flow:0")
    with pytest.raises(Crashed):  # at after_output, both have landed
        run(checkpoint, 0, tables)
    assert [t.batches() for t in tables] == [[0], [], [0]]
    assert tables[2].thread != threading.current_thread().name
    crash_at("")
    recovery = recover(checkpoint, tables[0])
    calls.clear()
    run_batch(checkpoint, BatchPlan(recovery.rerun, tables, output=tables[0], recovering=True))
    assert [c[1] for c in calls if c[0] == "write"] == ["quarantine"]
    assert [t.batches() for t in tables] == [[0]] * 3


def test_a_failed_writer_alongside_fails_the_batch_once_the_output_landed(checkpoint) -> None:
    calls: list[tuple] = []
    tables = alongside_writers(calls, fails=True)
    with pytest.raises(RuntimeError, match="state failed"):
        run(checkpoint, 0, tables)
    assert [t.batches() for t in tables] == [[0], [], []]  # nothing after it was written
    assert checkpoint.commits.latest_batch() is None
    tables[2].fails = False
    recovery = recover(checkpoint, tables[0])
    calls.clear()
    commit = run_batch(checkpoint, BatchPlan(recovery.rerun, tables, output=tables[0],
                                             recovering=True))
    assert sorted(c[1] for c in calls if c[0] == "write") == ["quarantine", "state"]
    assert [t.batches() for t in tables] == [[0]] * 3
    assert commit == CommitRecord(0, 0, 0, 3)


def test_a_failed_output_leaves_the_writer_alongside_landed(checkpoint) -> None:
    """The state may land before the output (a rerun reads only earlier batches' state)."""
    calls: list[tuple] = []
    tables = alongside_writers(calls)
    tables[0].fails = True
    with pytest.raises(RuntimeError, match="output failed"):
        run(checkpoint, 0, tables)
    assert [t.batches() for t in tables] == [[], [], [0]]
    tables[0].fails = False
    tables[0].waits_for = None
    recovery = recover(checkpoint, tables[0])
    calls.clear()
    run_batch(checkpoint, BatchPlan(recovery.rerun, tables, output=tables[0], recovering=True))
    assert sorted(c[1] for c in calls if c[0] == "write") == ["output", "quarantine"]
    assert [t.batches() for t in tables] == [[0]] * 3
