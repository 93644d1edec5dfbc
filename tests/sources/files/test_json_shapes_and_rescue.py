"""JSON records as Spark reads them: inference with every primitive as STRING (Auto Loader's
default) merges the records' shapes in one engine aggregate, and must give the schema the exact
per-record route gives (distinct shapes merged with Spark's rules) whatever the records hold; the
rescued data column holds something only where something was rescued; what follows a record's
first value is ignored."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql.types import StructType

from lakesmith.locations import Location
from lakesmith.sources.files.formats import ReadSpec, infer_schema, read_files
from lakesmith.sources.files.formats.inference import _string_shape, _typed_shape
from lakesmith.sources.files.formats.json_format import json_records
from lakesmith.sources.files.formats.lines import records_of
from lakesmith.sources.files.formats.variant_types import finish
from lakesmith.sources.files.inputs import InputFile

CASES = {
    "number_and_string": ['{"a": 1}', '{"a": "x"}'],
    "structs_merge_and_null": ['{"a": {"b": 1}}', '{"a": {"c": "x"}}', '{"a": null}'],
    "struct_and_scalar": ['{"a": {"b": 1}}', '{"a": 5}'],
    "array_and_struct": ['{"a": [1]}', '{"a": {"b": 1}}'],
    "array_and_scalar": ['{"a": [1]}', '{"a": 3}'],
    "arrays_of_structs": ['{"a": []}', '{"a": [{"x": 1}]}', '{"a": [{"y": 2}, null]}'],
    "mixed_array": ['{"a": [1, "s", {"k": 1}]}', '{"b": [[1], [{"c": true}]]}'],
    "case_and_empty": ['{"A": 1, "e": {}}', '{"a": 2, "n": null}'],
    "malformed_scalar_and_array_lines": ['{"a": 1}', "not json", "5", '[{"b": 2}, {"c": 3}]',
                                         "  \t{\"d\": 4}", '"{\\"s\\": 1}"', "[1, 2]"],
    "only_malformed": ["nope", "{'single': 1}"],
    "big_numbers": ['{"a": 1.5e300}', '{"a": 12345678901234567890123}', '{"a": true}'],
}


def _files(root: Path, lines: list[str]) -> list[InputFile]:
    path = root / "data.json"
    path.write_text("\n".join(lines) + "\n")
    stat = path.stat()
    return [InputFile(Location.local(path), stat.st_size, stat.st_mtime_ns // 10**6)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_one_pass_shape_is_the_exact_shape(spark, tmp_path: Path, name: str) -> None:
    files = _files(tmp_path, CASES[name])
    records = json_records(records_of(spark, files, [], whole=False, line_sep=None, where=name),
                           ReadSpec("json", {}, StructType(), where=name))
    fast, fast_malformed = _string_shape(records, name)
    exact, exact_malformed = _typed_shape(records, name)
    assert fast_malformed == exact_malformed
    assert finish(fast, primitives_as_string=True) == finish(exact, primitives_as_string=True)


def test_inferred_strings_read_back_every_record(spark, tmp_path: Path) -> None:
    """The inferred schema (strings, nested structure kept) reads the records it came from:
    conflicting shapes become STRING columns holding the value's text."""
    files = _files(tmp_path, ['{"id": 1, "v": {"k": 1}, "t": [1]}',
                              '{"id": 2, "v": "plain", "t": [{"x":"y"}]}',
                              "broken {"])
    schema = infer_schema(spark, files, "json", {}, infer_column_types=False, where="t")
    assert schema.simpleString() == (
        "struct<_corrupt_record:string,id:string,t:array<string>,v:string>")
    rows = read_files(spark, files, ReadSpec("json", {}, schema, where="t")).collect()
    got = sorted((r.id, r.v, r.t, r._corrupt_record) for r in rows if r.id is not None)
    assert got == [("1", '{"k": 1}', ["1"], None), ("2", "plain", ['{"x":"y"}'], None)]
    assert [r._corrupt_record for r in rows if r.id is None] == ["broken {"]


def test_an_object_written_with_spaces_in_an_array_of_strings_is_refused(spark,
                                                                          tmp_path: Path) -> None:
    """Spark gives `{"x": "y"}`, its text as written; the engine's parse would give
    `{"x":"y"}`, and inside an array the text as written cannot be had: the record is refused,
    naming the field and the file."""
    files = _files(tmp_path, ['{"id": 1, "t": [1]}', '{"id": 2, "t": [{"x": "y"}]}'])
    schema = StructType.fromDDL("id STRING, t ARRAY<STRING>")
    df = read_files(spark, files, ReadSpec("json", {}, schema, where="orders"))
    with pytest.raises(Exception, match=r"orders: a JSON record in file:.*holds an object or "
                                        r"array in the STRING field t\[\] inside an array"):
        df.collect()


def test_rescued_data_only_where_something_was_rescued(spark, tmp_path: Path) -> None:
    """Records with a JSON null, a repeated key or nothing unusual rescue nothing; a value of
    the wrong type, an unknown field and a name whose case differs are rescued."""
    files = _files(tmp_path, ['{"id": 1, "name": "a"}', '{"id": null, "name": "b"}',
                              '{"id": 3, "id": 4, "name": "c"}', '{"id": "x", "name": "d"}',
                              '{"id": 5, "name": "e", "more": [1]}', '{"id": 6, "NAME": "f"}'])
    schema = StructType.fromDDL("id BIGINT, name STRING")
    spec = ReadSpec("json", {}, schema, rescued_data_column="_rescued_data", where="t")
    path = f"file:{files[0].location.path}"
    rows = sorted(((r.id, r.name, r._rescued_data) for r in read_files(spark, files, spec)
                   .collect() if r.name != "c"), key=repr)
    assert rows == sorted([
        (1, "a", None), (None, "b", None), (None, "d", f'{{"id":"x","_file_path":"{path}"}}'),
        (5, "e", f'{{"more":"[1]","_file_path":"{path}"}}'),
        (6, None, f'{{"NAME":"f","_file_path":"{path}"}}')], key=repr)
    (repeated,) = [r for r in read_files(spark, files, spec).collect() if r.name == "c"]
    assert repeated._rescued_data is None


def test_what_follows_a_records_first_value_is_ignored_as_in_spark(spark, tmp_path: Path) -> None:
    """Spark 4.3 reads `{"a":1,"s":"x"} {"a":2,"s":"y"}` as the row (1, "x"), not a corrupt
    record (checked on Spark 4.3: `spark.read.schema(...).json(...)`)."""
    files = _files(tmp_path, ['{"a":1,"s":"x"} {"a":2,"s":"y"}', '{"a":3,"s":"z"}'])
    corrupt = StructType.fromDDL("a BIGINT, s STRING, _corrupt_record STRING")
    rows = read_files(spark, files, ReadSpec("json", {}, corrupt, where="t")).collect()
    assert sorted((r.a, r.s, r._corrupt_record) for r in rows) == [(1, "x", None),
                                                                   (3, "z", None)]
    rescue = ReadSpec("json", {}, StructType.fromDDL("a BIGINT"),
                      rescued_data_column="_rescued_data", where="t")
    path = f"file:{files[0].location.path}"
    rows = read_files(spark, files, rescue).collect()
    assert sorted((r.a, r._rescued_data) for r in rows) == [
        (1, f'{{"s":"x","_file_path":"{path}"}}'), (3, f'{{"s":"z","_file_path":"{path}"}}')]
