"""JSON schema inference gives Apache Spark 4.3's schema on both routes: the engine's own
inference checked in one pass (`native_json_shape`, taken when every primitive is a STRING)
and the exact route (every record parsed into a VARIANT), or refuses clearly. Expected schemas
are recorded from Spark by scripts/golden/json_inference.py (no JVM here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql.types import StructType

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.sources.files.formats import ReadSpec, infer_schema, inference, native_json_shape
from lakesmith.sources.files.formats.json_format import json_records
from lakesmith.sources.files.formats.lines import records_of
from lakesmith.sources.files.formats.native_json_shape import native_string_shape
from lakesmith.sources.files.inputs import InputFile

GOLDEN = json.loads((Path(__file__).parents[2] / "golden" / "json_inference.json").read_text())
CASES = {c["name"]: c for c in GOLDEN["cases"]}

# Cases the engine's inference answers and the checks vouch for; every other case must take
# the exact route (the engine refuses the records, or a check finds a difference).
# (an object inside an array takes the exact route: its repeated keys cannot be checked cheaply)
FAST = {"empty_struct", "empty_name",
        "only_empty_arrays", "empty_string_and_array", "case_top", "case_nested",
        "unicode_escape_key", "big_integer"}
# Spark's answer that lakesmith refuses instead, with the reason.
REFUSED = {
    "case_top": "Spark merges two structs whose names differ only by case under the first "
                "record's spelling (an order-dependent answer)",
    "case_nested": "as case_top, inside a struct",
    "deep_nesting": "the engine's VARIANT parser stops at a nesting depth Spark reads",
}
# The exact route's known differences (the fast route gives Spark's answer for them).
EXACT_DIFFERS = {
    "empty_string_and_array": "Spark infers an empty string as NULL; a VARIANT holds a STRING",
}
# The typed route (inferColumnTypes) is always the exact one; its known differences.
TYPED_DIFFERS = {
    "empty_string_and_array": "as EXACT_DIFFERS",
    "big_integer": "the engine's VARIANT holds an integer beyond BIGINT as a DOUBLE; Spark "
                   "infers DECIMAL(20,0)",
}


def _files(root: Path, case: dict) -> list[InputFile]:
    files = []
    for name, text in sorted(case["files"].items()):
        path = root / name
        path.write_bytes(text.encode("latin-1"))
        stat = path.stat()
        files.append(InputFile(Location.local(path), stat.st_size, stat.st_mtime_ns // 10**6))
    return files


def _infer(spark, files: list[InputFile], name: str, *, typed: bool = False) -> str:
    try:
        return infer_schema(spark, files, "json", {}, infer_column_types=typed,
                            where=name).simpleString()
    except LakesmithError as e:
        return f"REFUSED {e}"


def _matches(got: str, expected: str) -> bool:
    if expected.startswith("ERROR "):
        return got.startswith("REFUSED") and expected.removeprefix("ERROR ") in got
    return got == expected


@pytest.mark.parametrize("name", list(CASES))
def test_inference_routes_match_spark(spark, tmp_path, monkeypatch, name) -> None:
    case = CASES[name]
    files = _files(tmp_path, case)
    records = json_records(records_of(spark, files, [], whole=False, line_sep=None, where=name),
                           ReadSpec("json", {}, StructType(), where=name))
    took_fast = native_string_shape(spark, files, records, {}) is not None
    assert took_fast == (name in FAST)

    got = _infer(spark, files, name)
    if name in REFUSED:
        assert got.startswith("REFUSED"), REFUSED[name]
    else:
        assert _matches(got, case["strings"])

    monkeypatch.setattr(inference, "native_string_shape", lambda *args: None)
    exact = _infer(spark, files, name)
    if name in EXACT_DIFFERS:
        assert not _matches(exact, case["strings"]), f"fixed? {EXACT_DIFFERS[name]}"
    elif name in REFUSED:
        assert exact.startswith("REFUSED"), REFUSED[name]
    else:
        assert _matches(exact, case["strings"])

    typed = _infer(spark, files, name, typed=True)
    if name in TYPED_DIFFERS:
        assert not _matches(typed, case["typed"]), f"fixed? {TYPED_DIFFERS[name]}"
    elif name in REFUSED:
        assert typed.startswith("REFUSED"), REFUSED[name]
    else:
        assert _matches(typed, case["typed"]), typed


def test_repeated_key_names_the_file(spark, tmp_path) -> None:
    files = _files(tmp_path, CASES["repeated_key_struct"])
    with pytest.raises(LakesmithError, match=r"d\.json repeats a key.*COLUMN_ALREADY_EXISTS"):
        infer_schema(spark, files, "json", {}, infer_column_types=False, where="bronze")


def test_fast_route_is_not_taken_for_other_line_separators(spark, tmp_path) -> None:
    files = _files(tmp_path, CASES["field_order"])
    records = json_records(records_of(spark, files, [], whole=False, line_sep=";", where="x"),
                           ReadSpec("json", {"linesep": ";"}, StructType(), where="x"))
    assert native_string_shape(spark, files, records, {"linesep": ";"}) is None
    assert native_string_shape(spark, files, records, {"multiline": "true"}) is None


@pytest.mark.parametrize("name", ["int_and_double_across_files", "array_and_scalar_across_files"])
def test_one_read_per_core_merges_with_spark_rules(spark, tmp_path, monkeypatch, name) -> None:
    """Large inputs are inferred by one read per core, on sessions of their own; the shapes
    merge here with Spark's rules, so a field that is BIGINT in one file and DOUBLE in another
    (which one engine read refuses) or an array in one and a scalar in another still gets
    Spark's schema."""
    monkeypatch.setattr(native_json_shape, "_SPLIT_BYTES", 0)
    monkeypatch.setattr(native_json_shape, "local_cores", lambda _spark: 2)
    case = CASES[name]
    files = _files(tmp_path, case)
    if len(files) == 1:  # split one file's records over two
        text = (tmp_path / next(iter(case["files"]))).read_bytes().splitlines(keepends=True)
        (tmp_path / "second.json").write_bytes(b"".join(text[len(text) // 2:]))
        (tmp_path / next(iter(case["files"]))).write_bytes(b"".join(text[:len(text) // 2]))
        files = _files(tmp_path, {"files": {}}) + [
            InputFile(Location.local(p), p.stat().st_size, p.stat().st_mtime_ns // 10**6)
            for p in sorted(tmp_path.iterdir())]
    assert len(native_json_shape._groups(files, 2)) == 2
    records = json_records(records_of(spark, files, [], whole=False, line_sep=None, where=name),
                           ReadSpec("json", {}, StructType(), where=name))
    assert native_string_shape(spark, files, records, {}) is not None
    assert _infer(spark, files, name) == case["strings"]


def test_an_object_inside_an_array_in_the_first_records_skips_the_engine_inference(
        spark, tmp_path, monkeypatch) -> None:
    """Its repeated keys cannot be checked cheaply, so the exact route runs, and the first
    records' shape says so before the engine infers from every record."""
    def never(*_args):
        raise AssertionError("the engine's inference over every record ran")

    monkeypatch.setattr(native_json_shape, "_engine_inference", never)
    files = _files(tmp_path, CASES["events"])
    records = json_records(records_of(spark, files, [], whole=False, line_sep=None, where="e"),
                           ReadSpec("json", {}, StructType(), where="e"))
    assert native_string_shape(spark, files, records, {}) is None
    monkeypatch.undo()
    assert _infer(spark, files, "events") == CASES["events"]["strings"]
