"""The offset and commit logs: put-if-absent records, the newest batch tracked without listing
again, unreadable records named, and bounded growth."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakesmith.files import LocalFileStore
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint.log import BatchLog
from lakesmith.runtime.checkpoint.records import CheckpointError, CommitRecord


class CountingStore(LocalFileStore):
    """A local store that counts what the log asks of it."""

    def __init__(self) -> None:
        self.lists = 0
        self.deleted: list[str] = []

    def list(self, location):
        self.lists += 1
        return super().list(location)

    def delete(self, location):
        self.deleted.append(location.name)
        super().delete(location)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


def commit_log(store: CountingStore, tmp_path: Path) -> BatchLog[CommitRecord]:
    return BatchLog(store, Location.local(tmp_path / "commits"), CommitRecord.from_json,
                    what="commit of flow 'f'", hint="run a full refresh")


def record(batch: int) -> dict:
    return CommitRecord(batch, output_version=batch + 10).to_json()



def test_an_empty_log(store, tmp_path) -> None:
    log = commit_log(store, tmp_path)
    assert log.batches() == []
    assert log.latest_batch() is None
    assert log.latest() is None
    assert log.get(0) is None


def test_records_are_added_once_and_read_back(store, tmp_path) -> None:
    log = commit_log(store, tmp_path)
    log.add(0, record(0))
    log.add(1, record(1))
    assert log.get(1) == CommitRecord(1, 11)
    assert log.latest() == CommitRecord(1, 11)
    with pytest.raises(CheckpointError) as info:
        log.add(1, CommitRecord(1, 99).to_json())
    location = tmp_path / "commits" / "1"
    assert info.value.message == (
        f"The commit of flow 'f' record {location} already exists: another process wrote batch "
        "1 (two updates of one pipeline must not run at once).")
    assert info.value.hint == "make sure only one update runs, then run the pipeline again."
    assert log.get(1) == CommitRecord(1, 11)  # the first record stays


def test_latest_is_listed_once_then_tracked(store, tmp_path) -> None:
    first = commit_log(store, tmp_path)
    for batch in range(3):
        first.add(batch, record(batch))
    assert store.lists == 0  # adding does not list
    log = commit_log(store, tmp_path)
    assert log.latest_batch() == 2
    assert store.lists == 1
    log.add(3, record(3))
    log.add(4, record(4))
    assert log.latest_batch() == 4
    assert log.latest() == CommitRecord(4, 14)
    assert store.lists == 1


def test_latest_of_a_new_log_is_tracked_after_one_listing(store, tmp_path) -> None:
    log = commit_log(store, tmp_path)
    assert log.latest_batch() is None
    log.add(0, record(0))
    assert log.latest_batch() == 0
    assert store.lists == 1


def test_batches_ignore_other_files_and_sort_numerically(store, tmp_path) -> None:
    log = commit_log(store, tmp_path)
    for batch in (10, 2, 1):
        log.add(batch, record(batch))
    (tmp_path / "commits" / ".1.abc.tmp").write_text("{}")
    (tmp_path / "commits" / "notes").write_text("x")
    (tmp_path / "commits" / "5").mkdir()
    assert log.batches() == [1, 2, 10]
    assert log.latest_batch() == 10


def test_replace_rewrites_a_record(store, tmp_path) -> None:
    log = commit_log(store, tmp_path)
    log.add(0, record(0))
    log.replace(0, CommitRecord(0, 99).to_json())
    assert log.get(0) == CommitRecord(0, 99)


@pytest.mark.parametrize(("text", "reason"), [
    ("{not json", "not valid JSON: Expecting property name enclosed in double quotes at line 1"),
    ('{"format": 1}', "field 'batch' is missing"),
    ('{"format": 0, "batch": 1}', "record format 0, expected 1"),
    ('{"format": 1, "batch": "x"}', "invalid literal for int() with base 10: 'x'"),
    ("[]", "'list' object has no attribute 'get'"),  # valid JSON, not a record
])
def test_an_unreadable_record_is_named(store, tmp_path, text, reason) -> None:
    log = commit_log(store, tmp_path)
    log.add(0, record(0))
    path = tmp_path / "commits" / "0"
    path.write_text(text)
    with pytest.raises(CheckpointError) as info:
        log.get(0)
    assert info.value.message == (
        f"The commit of flow 'f' record {path} is unreadable ({reason}); the checkpoint cannot "
        "be trusted.")
    assert info.value.hint == "run a full refresh"


def test_an_offset_record_of_the_wrong_shape_is_named(store, tmp_path) -> None:
    from lakesmith.runtime.checkpoint.records import OffsetRecord

    log = BatchLog(store, Location.local(tmp_path / "offsets"), OffsetRecord.from_json,
                   what="offsets of flow 'f'", hint="h")
    path = tmp_path / "offsets" / "0"
    path.parent.mkdir()
    path.write_text('{"format": 1, "batch": 0, "sources": [], "versions": {}}')
    with pytest.raises(CheckpointError, match=r"The offsets of flow 'f' record .*/offsets/0 is "
                       r"unreadable \('list' object has no attribute 'items'\)"):
        log.get(0)


def test_purge_keeps_the_last_n_records(store, tmp_path) -> None:
    log = commit_log(store, tmp_path)
    for batch in range(10):
        log.add(batch, record(batch))
    log.purge(9, retain=3)  # the first purge removes the backlog
    assert log.batches() == [7, 8, 9]
    store.deleted.clear()
    lists = store.lists
    for batch in range(10, 14):
        log.add(batch, record(batch))
        log.purge(batch, retain=3)
    assert store.deleted == ["7", "8", "9", "10"]  # steady state: one delete per batch
    assert store.lists == lists  # and no listing
    assert log.batches() == [11, 12, 13]


def test_purge_does_nothing_before_the_log_exceeds_its_retention(store, tmp_path) -> None:
    log = commit_log(store, tmp_path)
    for batch in range(3):
        log.add(batch, record(batch))
        log.purge(batch, retain=3)
    assert store.deleted == []
    assert store.lists == 0
    log.add(3, record(3))
    log.purge(3, retain=3)
    assert log.batches() == [1, 2, 3]
