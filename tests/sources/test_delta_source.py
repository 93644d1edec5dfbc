"""Offset arithmetic of the Delta stream source on real small tables: where a stream starts, what
each micro-batch owns within its limits, listing a planned batch again from its offsets alone,
backlogs, commits that add nothing, and change commits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deltalake import DeltaTable

from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.locations import Location
from lakesmith.sources.base import Backlog, Bounds
from lakesmith.sources.delta import DeltaOffset, DeltaStreamSource, StreamOptions
from lakesmith.tables.delta import DeltaLog
from lakesmith.tables.delta_log import DataFile, read_commit, snapshot_files

SCHEMA = "id BIGINT, kind STRING"


def append(spark, path: Path, rows: list[tuple]) -> None:
    """One commit; partitioned by kind, so one file per kind."""
    spark.createDataFrame(rows, SCHEMA).write.format("delta").mode("append") \
        .partitionBy("kind").save(str(path))


@pytest.fixture
def table(spark, tmp_path: Path) -> Path:
    """v0: 2 files (a, b); v1: 1 file (a); v2: 3 files (a, b, c)."""
    path = tmp_path / "events"
    append(spark, path, [(1, "a"), (2, "b")])
    append(spark, path, [(3, "a")])
    append(spark, path, [(4, "a"), (5, "b"), (6, "c")])
    return path


def source(path: Path, **options: str) -> DeltaStreamSource:
    return DeltaStreamSource("table:events", DeltaLog(Location.local(path)),
                             StreamOptions.parse(options, "flow 'f'"), "events")


def adds(path: Path, version: int) -> list[DataFile]:
    return list(read_commit(Location.local(path), version).adds)


def backlog_of(files: list[DataFile], versions: tuple[int, int] | None) -> Backlog:
    return Backlog(len(files), sum(f.size for f in files),
                   sum(f.num_records or 0 for f in files), versions)


def drain(src: DeltaStreamSource, start: DeltaOffset, end: DeltaOffset) -> list:
    """Every slice from start to end, each checked against slice_between of its offsets."""
    slices = []
    while (found := src.next_slice(start, end)) is not None:
        assert src.slice_between(start, found.end) == found
        slices.append((start, found))
        start = found.end
    return slices


def test_offsets_round_trip_through_json(tmp_path) -> None:
    for offset in (DeltaOffset(3), DeltaOffset(-1), DeltaOffset(2, 5, True), DeltaOffset(0, 1)):
        data = json.loads(json.dumps(offset.to_json()))
        assert source(tmp_path).offset_from_json(data) == offset == DeltaOffset.from_json(data)
    assert DeltaOffset(2, 5, True).to_json() == {"version": 2, "index": 5, "snapshot": True}


def test_a_new_stream_reads_the_snapshot_at_latest(table) -> None:
    src = source(table)
    bounds = src.bounds(None)
    assert bounds == Bounds(DeltaOffset(2, 0, snapshot=True), DeltaOffset(2))
    snapshot = snapshot_files(Location.local(table), 2)
    assert len(snapshot) == 6
    [(_, only)] = drain(src, bounds.start, bounds.end)
    assert only.end == DeltaOffset(2)
    assert list(only.content) == snapshot  # modification time, then path
    assert only.backlog == backlog_of(snapshot, (2, 2))
    assert src.backlog(bounds.start, bounds.end) == only.backlog
    assert sorted(dict(f.partition_values)["kind"] for f in snapshot) == ["a", "a", "a", "b", "b",
                                                                          "c"]


def test_a_snapshot_is_split_by_max_files(table) -> None:
    src = source(table, maxFilesPerTrigger="4")
    bounds = src.bounds(None)
    slices = drain(src, bounds.start, bounds.end)
    assert [s.end for _, s in slices] == [DeltaOffset(2, 4, True), DeltaOffset(2)]
    snapshot = snapshot_files(Location.local(table), 2)
    assert [list(s.content) for _, s in slices] == [snapshot[:4], snapshot[4:]]


def test_a_running_stream_continues_from_its_offset(table, spark) -> None:
    src = source(table)
    assert src.bounds(DeltaOffset(1)) == Bounds(DeltaOffset(1), DeltaOffset(2))
    assert src.next_slice(DeltaOffset(2), DeltaOffset(2)) is None
    append(spark, table, [(7, "d")])
    assert src.bounds(DeltaOffset(2)) == Bounds(DeltaOffset(2), DeltaOffset(3))
    found = src.next_slice(DeltaOffset(2), DeltaOffset(3))
    assert found is not None and list(found.content) == adds(table, 3)
    assert found.backlog.versions == (3, 3)


@pytest.mark.parametrize(("starting", "start", "first_version"), [("0", -1, 0), ("1", 0, 1),
                                                                    ("2", 1, 2)])
def test_starting_version_reads_commits_from_that_version(table, starting, start,
                                                          first_version) -> None:
    src = source(table, startingVersion=starting)
    bounds = src.bounds(None)
    assert bounds == Bounds(DeltaOffset(start), DeltaOffset(2))
    expected = [f for v in range(first_version, 3) for f in adds(table, v)]
    assert src.backlog(bounds.start, bounds.end) == backlog_of(expected, (first_version, 2))
    [(_, only)] = drain(src, bounds.start, bounds.end)
    assert list(only.content) == expected


def test_starting_version_latest_reads_only_new_commits(table, spark) -> None:
    src = source(table, startingVersion="LATEST")
    bounds = src.bounds(None)
    assert bounds == Bounds(DeltaOffset(2), DeltaOffset(2))
    assert src.next_slice(bounds.start, bounds.end) is None
    assert src.backlog(bounds.start, bounds.end) == Backlog(0, 0, 0, None)
    append(spark, table, [(7, "a"), (8, "b")])
    later = src.bounds(bounds.start)
    [(_, only)] = drain(src, later.start, later.end)
    assert list(only.content) == adds(table, 3)


def test_a_starting_version_beyond_the_table_waits_for_it(table) -> None:
    src = source(table, startingVersion="5")
    bounds = src.bounds(None)
    assert bounds == Bounds(DeltaOffset(4), DeltaOffset(4))
    assert src.next_slice(bounds.start, bounds.end) is None


def test_max_files_per_trigger_splits_commits_and_offsets_list_the_same_files(table) -> None:
    src = source(table, startingVersion="0", maxFilesPerTrigger="2")
    slices = drain(src, DeltaOffset(-1), DeltaOffset(2))
    assert [(start, s.end) for start, s in slices] == [
        (DeltaOffset(-1), DeltaOffset(0)),
        (DeltaOffset(0), DeltaOffset(1, 1)),  # v1's file and the first of v2's
        (DeltaOffset(1, 1), DeltaOffset(2)),
    ]
    assert [list(s.content) for _, s in slices] == [
        adds(table, 0), adds(table, 1) + adds(table, 2)[:1], adds(table, 2)[1:]]
    assert [s.backlog.versions for _, s in slices] == [(0, 0), (1, 2), (2, 2)]
    assert [s.backlog.records for _, s in slices] == [2, 2, 2]


def test_one_file_per_batch_within_a_commit(table) -> None:
    src = source(table, maxFilesPerTrigger="1")
    slices = drain(src, DeltaOffset(1), DeltaOffset(2))
    assert [s.end for _, s in slices] == [DeltaOffset(1, 1), DeltaOffset(1, 2), DeltaOffset(2)]
    assert [list(s.content) for _, s in slices] == [[f] for f in adds(table, 2)]
    # A planned batch is listed again from its offsets alone, from anywhere in the stream.
    assert list(src.slice_between(DeltaOffset(1, 1), DeltaOffset(2)).content) == \
        adds(table, 2)[1:]
    assert list(src.slice_between(DeltaOffset(-1), DeltaOffset(1, 2)).content) == \
        adds(table, 0) + adds(table, 1) + adds(table, 2)[:2]
    assert src.slice_between(DeltaOffset(1, 2), DeltaOffset(1, 2)).content == ()


def test_max_bytes_per_trigger_admits_at_least_one_file(table) -> None:
    one = source(table, startingVersion="0", maxBytesPerTrigger="1")
    assert [len(s.content) for _, s in drain(one, DeltaOffset(-1), DeltaOffset(2))] == \
        [1] * 6
    size = adds(table, 0)[0].size
    two = source(table, startingVersion="0", maxBytesPerTrigger=str(size + 1))
    assert [len(s.content) for _, s in drain(two, DeltaOffset(-1), DeltaOffset(2))] == [2, 2, 2]
    both = source(table, startingVersion="0", maxBytesPerTrigger="1g", maxFilesPerTrigger="5")
    assert [len(s.content) for _, s in drain(both, DeltaOffset(-1), DeltaOffset(2))] == [5, 1]


def test_a_slice_never_passes_its_end(table) -> None:
    src = source(table, startingVersion="0")
    found = src.next_slice(DeltaOffset(-1), DeltaOffset(1))
    assert found is not None and found.end == DeltaOffset(1)
    assert list(found.content) == adds(table, 0) + adds(table, 1)
    assert src.next_slice(DeltaOffset(1), DeltaOffset(1)) is None


def test_an_offset_the_table_does_not_reach_is_refused(table) -> None:
    with pytest.raises(LakesmithError) as info:
        source(table).slice_between(DeltaOffset(1), DeltaOffset(1, 7))
    assert info.value.message == (
        f"The checkpoint of a stream over 'events' names offset {DeltaOffset(1, 7)}, which the "
        f"table at {table} does not reach.")


def test_commits_without_data_files_step_the_offset(table) -> None:
    delta = DeltaTable(str(table))
    delta.alter.set_table_properties({"delta.logRetentionDuration": "interval 30 days"})  # v3
    delta.optimize.compact()  # v4: rewrites files, changes no data
    src = source(table)
    assert src.bounds(DeltaOffset(2)) == Bounds(DeltaOffset(2), DeltaOffset(4))
    found = src.next_slice(DeltaOffset(2), DeltaOffset(4))
    assert found is not None
    assert (found.end, found.content, found.has_data) == (DeltaOffset(4), (), False)
    assert src.slice_between(DeltaOffset(2), DeltaOffset(4)) == found
    assert src.backlog(DeltaOffset(2), DeltaOffset(4)) == Backlog(0, 0, 0, None)
    assert src.next_slice(DeltaOffset(4), DeltaOffset(4)) is None


def test_a_change_commit_fails_the_stream_unless_skipped(table, spark, tmp_path) -> None:
    spark.sql(f"UPDATE delta.`{table}` SET id = 10 WHERE id = 1")  # v3
    append(spark, table, [(7, "a")])  # v4
    removed = read_commit(Location.local(table), 3).removes[0].path
    with pytest.raises(LakesmithError) as info:
        source(table).next_slice(DeltaOffset(2), DeltaOffset(4))
    assert info.value.message.startswith(
        f"[DELTA_SOURCE_TABLE_IGNORE_CHANGES] Detected a data update (for example {removed}) in "
        "the source table at version 3. This is currently not supported.")
    assert info.value.message.endswith(f"The source table 'events' can be found at path {table}.")
    assert "skipChangeCommits" in info.value.hint
    with pytest.raises(LakesmithError, match="DELTA_SOURCE_TABLE_IGNORE_CHANGES"):
        source(table).backlog(DeltaOffset(2), DeltaOffset(4))
    skipping = source(table, skipChangeCommits="true")
    slices = drain(skipping, DeltaOffset(2), DeltaOffset(4))
    assert [(s.end, list(s.content)) for _, s in slices] == [(DeltaOffset(4), adds(table, 4))]
    assert skipping.backlog(DeltaOffset(2), DeltaOffset(4)).versions == (4, 4)


def test_a_missing_table_has_no_end(tmp_path) -> None:
    src = source(tmp_path / "missing")
    assert src.bounds(None) == Bounds(None, None)
    assert src.bounds(DeltaOffset(3)) == Bounds(DeltaOffset(3), None)
    assert src.identity() is None


def test_the_dataframe_of_a_slice_reads_exactly_its_files(table, spark) -> None:
    src = source(table, maxFilesPerTrigger="2")
    found = src.next_slice(DeltaOffset(0), DeltaOffset(2))
    assert found is not None and found.end == DeltaOffset(1, 1)
    rows = sorted(tuple(r) for r in src.dataframe(spark, found).collect())
    assert rows == [(3, "a"), (4, "a")]
    assert src.dataframe(spark, None).columns == ["id", "kind"]
    assert src.dataframe(spark, None).count() == 0


def test_a_replaced_source_table_is_refused(table, spark) -> None:
    src = source(table)
    recorded = src.identity()
    src.check_identity(recorded)
    src.check_identity(None)
    import shutil

    shutil.rmtree(table)
    append(spark, table, [(1, "a")])
    fresh = source(table)
    with pytest.raises(LakesmithError, match=r"The source table 'events' at .* was replaced by "
                       r"another table \(id .*, the checkpoint read " + str(recorded) + r"\)"):
        fresh.check_identity(recorded)


def test_stream_options() -> None:
    options = StreamOptions.parse({"STARTINGVERSION": " 3 ", "skipChangeCommits": "TRUE"}, "w")
    assert (options.starting_version, options.skip_change_commits) == (3, True)
    assert (options.limits.max_files, options.limits.max_bytes) == (1000, None)
    assert StreamOptions.parse({"startingVersion": "latest"}, "w").starting_version == "latest"
    assert StreamOptions.parse({"startingVersion": "0"}, "w").starting_version == 0
    assert not StreamOptions.parse({"skipChangeCommits": "yes"}, "w").skip_change_commits
    with pytest.raises(NotSupportedYet) as info:
        StreamOptions.parse({"readChangeFeed": "true", "ignoreDeletes": "true"}, "flow 'f'")
    assert info.value.message == (
        "flow 'f': streaming read option(s) ignoreDeletes, readChangeFeed are not supported yet; "
        "supported: maxFilesPerTrigger, maxBytesPerTrigger, startingVersion, skipChangeCommits.")
    with pytest.raises(LakesmithError) as bad:
        StreamOptions.parse({"startingVersion": "-1"}, "flow 'f'")
    assert bad.value.message == \
        "flow 'f': option startingVersion must be a positive integer, got '-1'."
