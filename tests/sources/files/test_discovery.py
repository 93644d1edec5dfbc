"""Discovery of landing files: listing rules, the durable file log, offsets and limits."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.locations import Location
from lakesmith.sources.files import file_log as file_log_module
from lakesmith.sources.files.file_log import FileLog, LogEntry
from lakesmith.sources.files.inputs import InputFile
from lakesmith.sources.files.listing import ListingRules, list_files
from lakesmith.sources.files.options import AutoLoaderOptions
from lakesmith.sources.files.source import FileOffset, FileSourceConfig, FileStreamSource


def write(path: Path, text: str = "{}\n", mtime: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def names(listing) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(s.location.path.rsplit("/landing/", 1)[1] for s, _ in listing.files)


def source(tmp_path: Path, **options: str) -> FileStreamSource:
    parsed = AutoLoaderOptions.parse({"cloudFiles.format": "json", **options}, "flow 'b'")
    return FileStreamSource(FileSourceConfig(
        key="cloudfiles:test", display_name=str(tmp_path / "landing"),
        paths=(Location.local(tmp_path / "landing"),), options=parsed, user_schema=None,
        log_folder=Location.local(tmp_path / "checkpoint" / "files"),
        schema_location=Location.local(tmp_path / "checkpoint" / "schema"),
        with_metadata=False, where="flow 'b'"))


def uris(data) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.location.path.rsplit("/", 1)[1] for f in data.content]


# -- listing -----------------------------------------------------------------------------------

def test_listing_is_recursive_and_skips_hidden_and_copying_files(tmp_path: Path) -> None:
    land = tmp_path / "landing"
    for name in ["a.json", "sub/b.json", "sub/deeper/c.json", "_SUCCESS", ".hidden.json",
                 "_tmp/d.json", "e.json._COPYING_", "day=2024-01-01/f.json"]:
        write(land / name)
    listing = list_files([Location.local(land)], ListingRules())
    assert names(listing) == ["a.json", "day=2024-01-01/f.json", "sub/b.json",
                              "sub/deeper/c.json"]
    partitions = {s.location.name: p for s, p in listing.files}
    assert partitions["f.json"] == (("day", "2024-01-01"),)
    assert partitions["a.json"] == ()


def test_glob_in_path_and_path_glob_filter(tmp_path: Path) -> None:
    land = tmp_path / "landing"
    for name in ["2024/orders/a.json", "2024/orders/b.csv", "2024/refunds/c.json",
                 "2025/orders/d.json"]:
        write(land / name)
    globbed = list_files([Location.local(land).join("*", "orders")], ListingRules())
    assert names(globbed) == ["2024/orders/a.json", "2024/orders/b.csv", "2025/orders/d.json"]
    filtered = list_files([Location.local(land)], ListingRules(path_glob_filter="*.{json,txt}"))
    assert names(filtered) == ["2024/orders/a.json", "2024/refunds/c.json", "2025/orders/d.json"]


def test_modified_after_and_before(tmp_path: Path) -> None:
    land = tmp_path / "landing"
    write(land / "old.json", mtime=1_700_000_000)
    write(land / "new.json", mtime=1_800_000_000)
    rules = ListingRules.parse({"modifiedafter": "2024-01-01T00:00:00"}, None, "flow 'b'")
    assert names(list_files([Location.local(land)], rules)) == ["new.json"]
    rules = ListingRules.parse({"modifiedbefore": "2024-01-01T00:00:00"}, None, "flow 'b'")
    assert names(list_files([Location.local(land)], rules)) == ["old.json"]
    with pytest.raises(LakesmithError, match="modifiedAfter must be a timestamp"):
        ListingRules.parse({"modifiedafter": "yesterday"}, None, "flow 'b'")


# -- options -----------------------------------------------------------------------------------

def test_options_are_checked_by_name() -> None:
    with pytest.raises(LakesmithError, match=r"unknown Auto Loader option\(s\) cloudFiles.maxFilesPerTriger"):
        AutoLoaderOptions.parse({"cloudFiles.format": "json",
                                 "cloudFiles.maxFilesPerTriger": "1"}, "flow 'b'")
    relaxed = AutoLoaderOptions.parse({"cloudFiles.format": "json", "cloudFiles.whatever": "1",
                                       "cloudFiles.validateOptions": "false"}, "flow 'b'")
    assert relaxed.format == "json"
    with pytest.raises(LakesmithError, match="needs the option cloudFiles.format"):
        AutoLoaderOptions.parse({}, "flow 'b'")
    with pytest.raises(NotSupportedYet, match="cloudFiles.useNotifications=true"):
        AutoLoaderOptions.parse({"cloudFiles.format": "json",
                                 "cloudFiles.useNotifications": "true"}, "flow 'b'")
    with pytest.raises(NotSupportedYet, match="cloudFiles.maxFileAge is not supported yet"):
        AutoLoaderOptions.parse({"cloudFiles.format": "json",
                                 "cloudFiles.maxFileAge": "1 day"}, "flow 'b'")
    with pytest.raises(LakesmithError, match="schemaEvolutionMode 'sometimes'"):
        AutoLoaderOptions.parse({"cloudFiles.format": "json",
                                 "cloudFiles.schemaEvolutionMode": "sometimes"}, "flow 'b'")
    parsed = AutoLoaderOptions.parse({"cloudFiles.format": "CSV", "header": "true",
                                      "pathGlobFilter": "*.csv",
                                      "cloudFiles.maxBytesPerTrigger": "10m"}, "flow 'b'")
    assert (parsed.format, parsed.reader, parsed.path_glob_filter) == \
        ("csv", {"header": "true"}, "*.csv")
    assert (parsed.limits.max_files, parsed.limits.max_bytes) == (None, 10 * 1024**2)


# -- the file log ------------------------------------------------------------------------------

def entry(number: int, *paths: str) -> LogEntry:
    return LogEntry(number, tuple(InputFile(Location.local(p), 10, 1000 + number) for p in paths))


def test_file_log_compacts_and_loads_every_entry(tmp_path: Path) -> None:
    folder = Location.local(tmp_path / "log")
    log = FileLog(folder, {})
    entries: list[LogEntry] = []
    for number in range(25):
        new = entry(number, f"/land/f{number}.json")
        log.append(new, entries)
        entries.append(new)
    stored = sorted(os.listdir(tmp_path / "log"))
    # Entries 0-18 live only in the compact file of entry 19; 19 and later are plain files.
    assert stored == ["19", "19.compact", "20", "21", "22", "23", "24"]
    assert FileLog(folder, {}).load() == entries
    compact = json.loads((tmp_path / "log" / "19.compact").read_text())
    assert compact["through"] == 19 and len(compact["entries"]) == 20


def test_file_log_refuses_a_gap_and_a_second_writer(tmp_path: Path) -> None:
    folder = Location.local(tmp_path / "log")
    log = FileLog(folder, {})
    first = entry(0, "/land/a.json")
    log.append(first, [])
    with pytest.raises(LakesmithError, match="already exists: another process"):
        log.append(first, [])
    (tmp_path / "log" / "2").write_text(json.dumps({"format": 1, **entry(2, "/x").to_json()}))
    with pytest.raises(LakesmithError, match="missing entry 1"):
        log.load()


# -- offsets and slices ------------------------------------------------------------------------

def test_batches_take_each_file_once_in_modification_order(tmp_path: Path) -> None:
    land = tmp_path / "landing"
    for i, name in enumerate(["c.json", "a.json", "b.json", "d.json", "e.json"]):
        write(land / name, mtime=1_700_000_000 + i)
    stream = source(tmp_path, **{"cloudFiles.maxFilesPerTrigger": "2"})
    bounds = stream.bounds(None)
    assert bounds.start == FileOffset(0) and bounds.end == FileOffset(1)
    assert stream.backlog(bounds.start, bounds.end).files == 5
    assert not (tmp_path / "checkpoint" / "files").exists()  # planning writes nothing
    stream.begin()
    assert sorted(os.listdir(tmp_path / "checkpoint" / "files")) == ["0"]
    batches, position = [], bounds.start
    while (data := stream.next_slice(position, bounds.end)) is not None:
        batches.append(uris(data))
        position = data.end
    assert batches == [["c.json", "a.json"], ["b.json", "d.json"], ["e.json"]]
    assert position == FileOffset(1)
    # A later run: only the new file, and the recorded slices list the same files again.
    write(land / "f.json", mtime=1_700_000_100)
    again = source(tmp_path, **{"cloudFiles.maxFilesPerTrigger": "2"})
    later = again.bounds(position)
    again.begin()
    data = again.next_slice(later.start, later.end)
    assert data is not None and uris(data) == ["f.json"]
    assert uris(again.slice_between(FileOffset(0, 2), FileOffset(0, 4))) == ["b.json", "d.json"]


def test_max_bytes_per_trigger_admits_at_least_one_file(tmp_path: Path) -> None:
    land = tmp_path / "landing"
    write(land / "big.json", "x" * 5000, mtime=1_700_000_000)
    write(land / "small1.json", "x" * 10, mtime=1_700_000_001)
    write(land / "small2.json", "x" * 10, mtime=1_700_000_002)
    stream = source(tmp_path, **{"cloudFiles.maxBytesPerTrigger": "1k"})
    bounds = stream.bounds(None)
    stream.begin()
    first = stream.next_slice(bounds.start, bounds.end)
    assert first is not None and uris(first) == ["big.json"]
    second = stream.next_slice(first.end, bounds.end)
    assert second is not None and uris(second) == ["small1.json", "small2.json"]


def test_overwritten_files_are_ignored_unless_allow_overwrites(tmp_path: Path) -> None:
    land = tmp_path / "landing"
    write(land / "a.json", "1\n", mtime=1_700_000_000)
    for allow, expected in (("false", []), ("true", ["a.json"])):
        checkpoint = tmp_path / "checkpoint"
        if checkpoint.exists():
            import shutil
            shutil.rmtree(checkpoint)
        write(land / "a.json", "1\n", mtime=1_700_000_000)
        stream = source(tmp_path, **{"cloudFiles.allowOverwrites": allow})
        end = stream.bounds(None).end
        stream.begin()
        write(land / "a.json", "2\n22\n", mtime=1_700_000_500)  # rewritten in place
        again = source(tmp_path, **{"cloudFiles.allowOverwrites": allow})
        later = again.bounds(end)
        again.begin()
        data = again.next_slice(later.start, later.end)
        assert (uris(data) if data else []) == expected


def test_include_existing_files_false_reads_only_later_files(tmp_path: Path) -> None:
    land = tmp_path / "landing"
    write(land / "old.json", mtime=1_700_000_000)
    options = {"cloudFiles.includeExistingFiles": "false"}
    stream = source(tmp_path, **options)
    bounds = stream.bounds(None)
    assert stream.has_unwritten_discovery  # the flow runs to record what exists
    assert stream.backlog(bounds.start, bounds.end).files == 0
    stream.begin()
    assert stream.next_slice(bounds.start, bounds.end) is None
    write(land / "new.json", mtime=1_700_000_100)
    again = source(tmp_path, **options)
    later = again.bounds(bounds.end)
    again.begin()
    data = again.next_slice(later.start, later.end)
    assert data is not None and uris(data) == ["new.json"]


def test_include_existing_files_false_on_an_empty_folder_reads_every_later_file(
        tmp_path: Path) -> None:
    (tmp_path / "landing").mkdir()
    options = {"cloudFiles.includeExistingFiles": "false"}
    stream = source(tmp_path, **options)
    bounds = stream.bounds(None)
    assert stream.has_unwritten_discovery  # the start of the stream is recorded
    stream.begin()
    write(tmp_path / "landing" / "first.json", mtime=1_700_000_100)
    again = source(tmp_path, **options)
    later = again.bounds(bounds.end)
    again.begin()
    data = again.next_slice(later.start, later.end)
    assert data is not None and uris(data) == ["first.json"]


def test_a_file_still_growing_is_left_for_the_next_listing(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    land = tmp_path / "landing"
    write(land / "done.json", mtime=1_700_000_000)
    growing = write(land / "growing.json", "{}\n", mtime=1_700_000_001)
    from lakesmith.sources.files import source as source_module
    real = source_module.list_files

    def list_then_append(*args, **kwargs):  # type: ignore[no-untyped-def]
        listing = real(*args, **kwargs)
        with growing.open("a") as f:  # the writer appends after the listing saw the file
            f.write("{}\n")
        return listing

    monkeypatch.setattr(source_module, "list_files", list_then_append)
    stream = source(tmp_path)
    bounds = stream.bounds(None)
    stream.begin()
    data = stream.next_slice(bounds.start, bounds.end)
    assert data is not None and uris(data) == ["done.json"]
    monkeypatch.setattr(source_module, "list_files", real)
    again = source(tmp_path)
    later = again.bounds(bounds.end)
    again.begin()
    data = again.next_slice(later.start, later.end)
    assert data is not None and uris(data) == ["growing.json"]
    assert data.content[0].size == growing.stat().st_size


def test_restart_forgets_discovery_for_a_full_refresh(tmp_path: Path) -> None:
    write(tmp_path / "landing" / "a.json", mtime=1_700_000_000)
    stream = source(tmp_path)
    stream.bounds(None)
    stream.begin()
    stream.restart()
    bounds = stream.bounds(None)
    assert stream.backlog(bounds.start, bounds.end).files == 1


def test_many_entries_load_without_reading_each_one(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    land = tmp_path / "landing"
    position = None
    for i in range(30):
        write(land / f"f{i:03d}.json", mtime=1_700_000_000 + i)
        stream = source(tmp_path)
        bounds = stream.bounds(position)
        stream.begin()
        position = bounds.end
    reads: list[str] = []
    original = FileLog._read

    def counting(self, name):  # type: ignore[no-untyped-def]
        reads.append(name)
        return original(self, name)

    monkeypatch.setattr(FileLog, "_read", counting)
    stream = source(tmp_path)
    bounds = stream.bounds(position)
    assert stream.backlog(bounds.start, bounds.end).files == 0
    assert reads == ["29.compact"]
    assert file_log_module.COMPACT_INTERVAL == 10
