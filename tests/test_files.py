"""LocalFileStore: put-if-absent creation, atomic replacement, compare-and-swap, listing, ranges
and tree deletion, on a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakesmith.files import (
    Entry,
    LocalFileStore,
    StorageError,
    Version,
    finish_discards,
    store_for,
)
from lakesmith.locations import Location


@pytest.fixture
def store() -> LocalFileStore:
    return LocalFileStore()


def at(path: Path) -> Location:
    return Location.local(path)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_local_locations_share_one_store(tmp_path) -> None:
    assert store_for(at(tmp_path)) is store_for(at(tmp_path / "x"))
    assert isinstance(store_for(at(tmp_path)), LocalFileStore)


def test_create_writes_only_if_absent(store, tmp_path) -> None:
    target = at(tmp_path / "a" / "b" / "0")
    assert store.create(target, b"first") == Version(None, b"first")
    assert store.create(target, b"second") is None
    assert store.read(target) == b"first"
    assert leftovers(tmp_path / "a" / "b") == []  # no staged file is left behind


def test_read_of_a_missing_file_is_none(store, tmp_path) -> None:
    assert store.read(at(tmp_path / "missing")) is None
    assert store.read_versioned(at(tmp_path / "missing")) is None
    assert not store.exists(at(tmp_path / "missing"))


def test_read_of_a_folder_is_an_error(store, tmp_path) -> None:
    with pytest.raises(StorageError) as info:
        store.read(at(tmp_path))
    assert str(info.value) == f"{tmp_path} is a folder, where lakesmith expects a file."


def test_write_replaces_atomically(store, tmp_path) -> None:
    target = at(tmp_path / "f" / "lease")
    store.write(target, b"one")
    inode = (tmp_path / "f" / "lease").stat().st_ino
    store.write(target, b"two")
    assert store.read(target) == b"two"
    assert (tmp_path / "f" / "lease").stat().st_ino != inode  # a new file renamed over the old
    assert leftovers(tmp_path / "f") == []
    assert store.exists(target)


def test_a_file_in_the_way_of_a_folder_is_named(store, tmp_path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(StorageError) as info:
        store.write(at(tmp_path / "file" / "child"), b"y")
    assert str(info.value) == f"Cannot create the folder {tmp_path / 'file'}: a file is in the way."


def test_replace_if_swaps_only_what_was_read(store, tmp_path) -> None:
    target = at(tmp_path / "lease")
    store.write(target, b"v1")
    seen = store.read_versioned(target)
    assert seen == Version(None, b"v1")
    assert store.replace_if(target, b"v2", seen) == Version(None, b"v2")
    assert store.replace_if(target, b"v3", seen) is None  # changed since it was read
    assert store.read(target) == b"v2"
    store.delete(target)
    assert store.replace_if(target, b"v4", seen) is None
    assert store.read(target) is None


def test_list_returns_direct_children(store, tmp_path) -> None:
    store.write(at(tmp_path / "d" / "a"), b"123")
    store.write(at(tmp_path / "d" / "sub" / "deep"), b"x")
    store.write(at(tmp_path / "d" / "b"), b"")
    assert sorted(store.list(at(tmp_path / "d")), key=lambda e: e.name) == [
        Entry("a", False, 3), Entry("b", False, 0), Entry("sub", True, 0)]
    assert store.list(at(tmp_path / "missing")) == []
    assert store.list(at(tmp_path / "d" / "a")) == []  # a file has no children


def test_read_range_from_the_start_and_from_the_end(store, tmp_path) -> None:
    target = at(tmp_path / "f")
    store.write(target, b"0123456789")
    assert store.read_range(target, 0, 4) == b"0123"
    assert store.read_range(target, 6, 10) == b"6789"
    assert store.read_range(target, 20, 4) == b""
    assert store.read_range(target, -4, 4) == b"6789"
    assert store.read_range(target, -4, 2) == b"67"
    # A file shorter than the range asked from its end is read from its start (as on object
    # stores), so a truncated file is reported by its size, not by a failed seek.
    assert store.read_range(target, -20, 8) == b"01234567"
    with pytest.raises(FileNotFoundError):
        store.read_range(at(tmp_path / "missing"), 0, 1)


def test_delete_is_idempotent(store, tmp_path) -> None:
    target = at(tmp_path / "f")
    store.write(target, b"x")
    store.delete(target)
    store.delete(target)
    assert not (tmp_path / "f").exists()


def test_delete_tree_removes_everything_below(store, tmp_path) -> None:
    store.write(at(tmp_path / "cp" / "offsets" / "0"), b"x")
    store.write(at(tmp_path / "cp" / "metadata.json"), b"{}")
    store.write(at(tmp_path / "keep"), b"k")
    store.delete_tree(at(tmp_path / "cp"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep"]  # no renamed folder remains
    store.delete_tree(at(tmp_path / "cp"))  # already gone
    assert store.list(at(tmp_path / "cp")) == []


def test_discard_tree_frees_the_name_at_once_and_deletes_in_the_background(store, tmp_path
                                                                           ) -> None:
    store.write(at(tmp_path / "kept" / "part-0.parquet"), b"x" * 1000)
    store.write(at(tmp_path / "kept" / "_delta_log" / "0.json"), b"{}")
    store.discard_tree(at(tmp_path / "kept"))
    assert not (tmp_path / "kept").exists()  # the name is free for the next write at once
    store.write(at(tmp_path / "kept" / "part-1.parquet"), b"y")
    finish_discards()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # the set-aside folder is gone
    assert store.read(at(tmp_path / "kept" / "part-1.parquet")) == b"y"
    store.discard_tree(at(tmp_path / "missing"))  # nothing there: nothing to do


def test_discard_files_deletes_them_in_the_background(store, tmp_path) -> None:
    old = [tmp_path / "t" / f"part-{n}.parquet" for n in range(3)]
    for path in old:
        store.write(at(path), b"x")
    store.write(at(tmp_path / "t" / "part-new.parquet"), b"y")
    store.discard_files([at(path) for path in old] + [at(tmp_path / "t" / "gone.parquet")])
    finish_discards()
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["part-new.parquet"]
