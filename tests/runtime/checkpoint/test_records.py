"""Offset and commit records round-trip through JSON and refuse other formats; markers of the
current format and of the three format-0 shapes parse to the same kinds."""

from __future__ import annotations

import json

import pytest

from lakesmith.runtime.checkpoint.records import (
    BATCH,
    CREATE,
    FORMAT,
    REFRESH,
    RESET,
    CheckpointError,
    CommitRecord,
    Marker,
    OffsetRecord,
    SourceRange,
    dumps,
)


def roundtrip(record):
    return json.loads(dumps(record.to_json()))


def test_offset_record_round_trips_through_json() -> None:
    record = OffsetRecord(
        batch=7,
        sources={"b": SourceRange({"version": 3, "index": 0, "snapshot": False},
                                  {"version": 5, "index": 0, "snapshot": False}, "id-b"),
                 "a": SourceRange(None, {"version": 0, "index": 2, "snapshot": True})},
        versions={"output": 12, "state:dedup": None},
        watermark_ms=1_000, previous_watermark_ms=500, timestamp_ms=1_700_000_000_000,
        update_id="u-1")
    data = roundtrip(record)
    assert data["format"] == FORMAT
    assert list(data["sources"]) == ["a", "b"]  # sorted: the same record, the same bytes
    assert data["sources"]["a"] == {"start": None, "identity": None,
                                    "end": {"version": 0, "index": 2, "snapshot": True}}
    assert OffsetRecord.from_json(data) == record


def test_offset_record_defaults_round_trip() -> None:
    record = OffsetRecord(batch=0, sources={})
    assert OffsetRecord.from_json(roundtrip(record)) == record
    assert record.to_json() == {"format": 1, "batch": 0, "sources": {}, "versions": {},
                                "watermark_ms": None, "previous_watermark_ms": None,
                                "timestamp_ms": 0, "update_id": None}


def test_commit_record_round_trips_through_json() -> None:
    record = CommitRecord(batch=3, output_version=9, num_input_rows=10, num_output_rows=8,
                          watermark_ms=42)
    assert CommitRecord.from_json(roundtrip(record)) == record
    nothing = CommitRecord(batch=4, output_version=None)
    assert CommitRecord.from_json(roundtrip(nothing)) == nothing


@pytest.mark.parametrize("parse", [OffsetRecord.from_json, CommitRecord.from_json])
@pytest.mark.parametrize("found", [0, 2, None])
def test_records_of_another_format_are_refused(parse, found) -> None:
    data = {"batch": 1, "sources": {}, "versions": {}, "output_version": None}
    if found is not None:
        data["format"] = found
    expected = 0 if found is None else found
    with pytest.raises(CheckpointError) as info:
        parse(data)
    assert info.value.message == f"record format {expected}, expected 1"


def test_dumps_is_stable_indented_json_with_a_newline() -> None:
    assert dumps({"b": 1, "a": [1]}) == b'{\n "a": [\n  1\n ],\n "b": 1\n}\n'


def test_marker_of_the_current_format_round_trips() -> None:
    marker = Marker(kind=BATCH, flow="f", checkpoint="c-1", batch=4, pipeline="p",
                    update_id="u")
    text = marker.to_json()
    assert text == ('{"lakesmith":{"batch":4,"checkpoint":"c-1","flow":"f","format":1,'
                    '"kind":"batch","pipeline":"p","update_id":"u"}}')
    assert Marker.parse(text) == marker
    assert marker.is_batch("c-1", 4)
    assert not marker.is_batch("c-1", 3) and not marker.is_batch("c-2", 4)


def test_marker_leaves_out_empty_fields() -> None:
    marker = Marker(kind=RESET, update_id="u")
    assert marker.to_json() == '{"lakesmith":{"format":1,"kind":"reset","update_id":"u"}}'
    assert Marker.parse(marker.to_json()) == marker
    assert not Marker(kind=REFRESH, checkpoint="c", batch=1).is_batch("c", 1)


def test_format_0_batch_marker() -> None:
    text = json.dumps({"lakesmith": {"checkpoint": "c-0", "flow": "f", "batch": 2,
                                     "pipeline": "p", "update_id": "u"}})
    assert Marker.parse(text) == Marker(kind=BATCH, flow="f", checkpoint="c-0", batch=2,
                                        pipeline="p", update_id="u", format=0)
    assert Marker.parse(text).is_batch("c-0", 2)


def test_format_0_refresh_marker() -> None:
    text = json.dumps({"lakesmith": {"pipeline": "p", "update_id": "u", "flow": "mv"}})
    assert Marker.parse(text) == Marker(kind=REFRESH, flow="mv", pipeline="p", update_id="u",
                                        format=0)


@pytest.mark.parametrize(("setup", "kind"), [("append", CREATE), ("overwrite", RESET)])
def test_format_0_setup_markers(setup: str, kind: str) -> None:
    text = json.dumps({"lakesmith": {"update_id": "u", "setup": setup}})
    assert Marker.parse(text) == Marker(kind=kind, update_id="u", format=0)


@pytest.mark.parametrize("text", [None, "", "not json", "[1, 2]", "5", '"text"', "{}",
                                  '{"other": {"kind": "batch"}}', '{"lakesmith": "batch"}',
                                  '{"lakesmith": null}'])
def test_commits_lakesmith_did_not_make_have_no_marker(text) -> None:
    assert Marker.parse(text) is None
