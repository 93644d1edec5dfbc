"""A streaming batch gives large files to the engine's line reader without scanning their bytes
for UTF-8 first (`formats/lines.py`): the scan was on every batch's critical path, and landing
files are nearly always UTF-8. A file that is not fails the reader; nothing of the batch is
committed, the file is found and read whole (its bad bytes U+FFFD, as Spark shows them), and the
batch runs once more: its rows, counts and commits land exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from lakesmith.runtime.checkpoint import crash
from lakesmith.runtime.events import UpdateState
from lakesmith.sources.files.formats import lines

PIPELINE = """
import dlt

@dlt.table
@dlt.expect("named", "name IS NOT NULL")
{fail}
def bronze():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            .schema("id BIGINT, name STRING").load("{landing}")
            .selectExpr("*", "_metadata.file_name AS file"){query})
"""


def write_pipeline(project: Any, landing: Path, *, fail: str = "", query: str = "") -> None:
    project.write_spec()
    project.write("transformations/bronze.py", PIPELINE.format(
        landing=landing, fail=fail, query=query))


@pytest.fixture(autouse=True)
def large_from_2kb(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files from 2 KB take the line reader (4 MB in production): small test files."""
    monkeypatch.setattr(lines, "LARGE_FILE_BYTES", 2048)


@pytest.fixture
def scans(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The UTF-8 scans the engine ran, each as the names of the files it scanned."""
    calls: list[list[str]] = []
    original = lines._not_utf8

    def counted(spark: Any, files: Any) -> set[str]:
        calls.append(sorted(f.location.uri.rsplit("/", 1)[-1] for f in files))
        found: set[str] = original(spark, files)
        return found

    monkeypatch.setattr(lines, "_not_utf8", counted)
    return calls


@pytest.fixture
def found(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each time a failed read was looked at: the files found not UTF-8 (read whole after)."""
    calls: list[list[str]] = []
    original = lines.found_not_utf8

    def counted(spark: Any, files: Any, error: BaseException, **options: Any) -> list[Any]:
        result: list[Any] = original(spark, files, error, **options)
        calls.append(sorted(f.location.uri.rsplit("/", 1)[-1] for f in result))
        return result

    monkeypatch.setattr(lines, "found_not_utf8", counted)
    return calls


def land(landing: Path, name: str, ids: range, bad: int | None = None) -> None:
    """A JSON lines file of ~60-byte records; record `bad`'s name has a byte that is not UTF-8."""
    landing.mkdir(exist_ok=True)
    with (landing / name).open("wb") as out:
        for i in ids:
            name_bytes = b"caf\xe9" if i == bad else f"n{i:04d}".encode()
            out.write(b'{"id": %d, "name": "' % i + name_bytes + b'", "pad": "' + b"x" * 30
                      + b'"}\n')


def checkpoint_logs(project: Any) -> tuple[list[str], list[str]]:
    (flow,) = (project.root / "storage" / "checkpoints").glob("*/*")
    return (sorted(p.name for p in (flow / "offsets").glob("*")),
            sorted(p.name for p in (flow / "commits").glob("*")))


def batch_commits(project: Any) -> list[int]:
    """The batch number of each commit of the table that carries a batch marker, oldest first."""
    history = DeltaTable(str(project.table_path("bronze"))).history()
    markers = [json.loads(c["userMetadata"]).get("lakesmith", {})
               for c in reversed(history) if "userMetadata" in c]
    return [m["batch"] for m in markers if "batch" in m]


def test_valid_large_files_are_read_without_a_scan(project, tmp_path: Path,
                                                   scans: list[list[str]],
                                                   found: list[list[str]]) -> None:
    landing = tmp_path / "landing"
    land(landing, "a.json", range(0, 100))
    land(landing, "small.json", range(100, 102))
    write_pipeline(project, landing)
    assert project.run().state == UpdateState.COMPLETED
    land(landing, "b.json", range(200, 300))
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert scans == [] and found == []
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["name"], r["file"]) for r in rows] == [
        (i, f"n{i:04d}", "a.json" if i < 100 else "small.json" if i < 200 else "b.json")
        for i in [*range(0, 102), *range(200, 300)]]
    assert batch_commits(project) == [0, 1]


def test_a_large_file_that_is_not_utf8_is_read_whole_and_lands_once(
        project, tmp_path: Path, scans: list[list[str]], found: list[list[str]]) -> None:
    landing = tmp_path / "landing"
    land(landing, "good.json", range(0, 100))
    land(landing, "bad.json", range(100, 200), bad=150)
    write_pipeline(project, landing)
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    # The line reader failed once; then one scan of the large files it had read unchecked.
    assert found == [["bad.json"]] and scans == [["bad.json", "good.json"]]
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["name"]) for r in rows] == [
        (i, "caf\ufffd" if i == 150 else f"n{i:04d}") for i in range(200)]
    assert batch_commits(project) == [0]
    assert checkpoint_logs(project) == (["0"], ["0"])
    (flow,) = result.flows
    assert flow.metrics.num_output_rows == 200
    assert flow.metrics.details["data_quality"].passed == {("bronze", "named"): 200}
    assert project.run().state == UpdateState.COMPLETED  # nothing new: nothing twice
    assert len(project.rows("bronze")) == 200 and batch_commits(project) == [0]


def test_a_batch_read_while_it_is_prepared_is_prepared_again(
        project, tmp_path: Path, scans: list[list[str]], found: list[list[str]]) -> None:
    """A `fail` expectation counts the batch before it is recorded: the reader fails there, and
    the batch is prepared again; the violation then stops it naming the rule, nothing landed."""
    landing = tmp_path / "landing"
    land(landing, "good.json", range(0, 100))
    write_pipeline(project, landing, fail='@dlt.expect_or_fail("small ids", "id < 1000")')
    assert project.run().state == UpdateState.COMPLETED
    land(landing, "bad.json", range(1000, 1100), bad=1050)
    failed = project.run()
    assert failed.state == UpdateState.FAILED
    message = str(failed.failed_flows[0].error)
    assert "small ids" in message and "bronze" in message
    assert "UTF-8" not in message
    # The violation is looked at too: not the reader's failure, so no scan.
    assert found == [["bad.json"], []] and scans == [["bad.json"]]
    assert [r["id"] for r in project.rows("bronze", order_by="id")] == list(range(100))
    assert batch_commits(project) == [0]
    assert checkpoint_logs(project) == (["0"], ["0"])


def test_a_recorded_batch_rerun_after_a_crash_reads_the_file_whole(
        project, tmp_path: Path, scans: list[list[str]], found: list[list[str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch's offsets were recorded, then the run stopped: the rerun over those offsets
    fails in the line reader, reads the file whole and lands the batch once."""
    landing = tmp_path / "landing"
    land(landing, "bad.json", range(0, 100), bad=7)
    write_pipeline(project, landing)

    def stop_after_offsets(point: str, flow: str = "", batch: int | None = None) -> None:
        if point == crash.AFTER_OFFSETS:
            raise RuntimeError("stopped after the offsets record")

    with monkeypatch.context() as patch:
        patch.setattr(crash, "crash_point", stop_after_offsets)
        assert project.run().state == UpdateState.FAILED
    assert checkpoint_logs(project) == (["0"], [])
    assert scans == [] and found == [[]]  # the batch stopped before its read
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert found == [[], ["bad.json"]] and scans == [["bad.json"]]
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["name"]) for r in rows] == [
        (i, "caf\ufffd" if i == 7 else f"n{i:04d}") for i in range(100)]
    assert batch_commits(project) == [0]
    assert checkpoint_logs(project) == (["0"], ["0"])


def test_a_small_file_of_a_few_is_read_by_the_line_reader_and_recovered_the_same_way(
        project, tmp_path: Path, scans: list[list[str]], found: list[list[str]]) -> None:
    """A streaming batch of a few files (`lines.FEW_FILES`) reads even small ones with the line
    reader, unchecked: a small file that is not UTF-8 is found after the reader fails, read
    whole, and lands once."""
    landing = tmp_path / "landing"
    land(landing, "a.json", range(0, 2))
    write_pipeline(project, landing)
    assert project.run().state == UpdateState.COMPLETED
    assert scans == [] and found == []
    land(landing, "tiny.json", range(10, 13), bad=11)  # ~200 bytes: below the large files
    assert project.run().state == UpdateState.COMPLETED
    assert found == [["tiny.json"]] and scans == [["tiny.json"]]
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["name"], r["file"]) for r in rows] == [
        (0, "n0000", "a.json"), (1, "n0001", "a.json"), (10, "n0010", "tiny.json"),
        (11, "caf\ufffd", "tiny.json"), (12, "n0012", "tiny.json")]
    assert batch_commits(project) == [0, 1]
