"""The file formats give Apache Spark 4.3's answers: schemas inferred, rows read (corrupt records,
partial results, ragged CSV rows, quotes, nullValue, dateFormat), `_metadata` values and what
`input_file_name()` returns. Expected results are recorded from Spark by
scripts/golden/file_formats.py (no JVM here)."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import StructType, _parse_datatype_string

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.sources.files.formats import (
    INPUT_FILE_NAME_SQL,
    ReadSpec,
    infer_partition_schema,
    infer_schema,
    read_files,
)
from lakesmith.sources.files.inputs import InputFile

GOLDEN = json.loads((Path(__file__).parents[2] / "golden" / "file_formats.json").read_text())
SCENARIOS = {s["name"]: s for s in GOLDEN["scenarios"]}
MTIME_MS = int(GOLDEN["file_modification_time_s"] * 1000)
# Known differences, each with its reason; the test checks they still differ (so a fix shows).
KNOWN_GAPS = {
    "partitions_infer": "read_files is given explicit files; folder discovery is the source's",
    "partitions_infer_mixed": "read_files is given explicit files; folder discovery is the "
                              "source's",
    "json_nested_mismatch_corrupt": "a value of the wrong type inside a struct or an array "
                                    "does not make the record corrupt (only top-level ones do)",
    "json_nested_texts_mixed": "the engine's from_json reads -0 into an INT as NULL (Spark: 0); "
                               "the STRING leaves beside it are exact",
    "json_root_arrays_corrupt": "a type mismatch in one element of a top-level array makes only "
                                "that element's row corrupt; Spark shows the line in every row "
                                "of the array",
}

# Spark answers; lakesmith refuses the record, naming the field (an object or array in a STRING
# whose text as written the engine cannot give: sources/files/formats/nested_texts.py).
REFUSED = {
    "json_nested_texts_refused_in_array": "STRING field y\\[\\] inside an array",
    "json_nested_texts_refused_line_array": "STRING field s.b inside an array",
    "json_nested_texts_refused_repeated": "STRING field s.b inside an array",
}


def plain(value):
    if hasattr(value, "asDict"):
        return {k: plain(v) for k, v in value.asDict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and value != value:
        return "NaN"
    return value


def write(root: Path, scenario: dict) -> list[InputFile]:
    files = []
    for name, text in scenario["files"].items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("latin-1"))
        os.utime(path, (GOLDEN["file_modification_time_s"],) * 2)
        stat = path.stat()  # as discovery records it: whole milliseconds, truncated
        files.append(InputFile(Location.local(path), stat.st_size, stat.st_mtime_ns // 10**6))
    return files


def rows_of(df) -> list[dict]:
    return [json.loads(r) for r in sorted(json.dumps(plain(x), sort_keys=True)
                                          for x in df.collect())]


def options_of(scenario: dict) -> dict[str, str]:
    return {k.lower(): v for k, v in scenario["options"].items()}


def schema_of(spark, scenario: dict, files: list[InputFile]) -> StructType:
    if "schema" in scenario:
        return _parse_datatype_string(scenario["schema"])
    options = options_of(scenario)
    infer = options.get("primitivesasstring") != "true" and (
        scenario["format"] != "csv" or options.get("inferschema") == "true")
    return infer_schema(spark, files, scenario["format"], options,
                        infer_column_types=infer, where=scenario["name"])


READS = [n for n in SCENARIOS if n not in ("partitions_infer", "partitions_infer_mixed")]


@pytest.mark.parametrize("name", READS)
def test_read_matches_spark(spark, tmp_path, name) -> None:
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    scenario = SCENARIOS[name]
    files = write(tmp_path, scenario)
    if "error" in scenario:
        with pytest.raises(LakesmithError, match=scenario["error"]):
            schema_of(spark, scenario, files)
        return
    schema = schema_of(spark, scenario, files)
    spec = ReadSpec(scenario["format"], options_of(scenario), schema, where=name)
    df = read_files(spark, files, spec)
    if name in REFUSED:
        with pytest.raises(Exception, match=f"{name}: a JSON record in file:.*n.json holds an "
                                            f"object or array in the {REFUSED[name]}"):
            df.collect()
        return
    got = (StructType(df.schema.fields).simpleString(), rows_of(df))
    if name in KNOWN_GAPS:
        assert got != (scenario["schema"], scenario["rows"]), f"fixed? {KNOWN_GAPS[name]}"
        return
    assert got[0] == scenario["schema"]
    assert got[1] == scenario["rows"]


def test_metadata_and_input_file_name_match_spark(spark, tmp_path) -> None:
    scenario = SCENARIOS["json_infer_types"]
    folder = tmp_path / "meta"
    files = write(folder, scenario)
    spec = ReadSpec("json", {}, _parse_datatype_string("id STRING"), with_metadata=True,
                    where="meta")
    df = read_files(spark, files, spec)
    got = df.select("_metadata", F.expr(INPUT_FILE_NAME_SQL).alias("input_file_name")) \
        .distinct().collect()
    got = sorted((plain(r) for r in got), key=lambda r: r["input_file_name"])
    text = json.dumps(got).replace(str(folder), "<root>")
    assert json.loads(text) == scenario["metadata"]


@pytest.mark.parametrize("name", ["partitions_infer", "partitions_infer_mixed"])
def test_partition_inference_matches_spark(name) -> None:
    scenario = SCENARIOS[name]
    per_file = []
    for path in scenario["files"]:
        parts = Path(path).parent.parts[1:]
        per_file.append(tuple(tuple(p.split("=", 1)) for p in parts))
    schema = infer_partition_schema(per_file)
    data = scenario["schema"].split(",", 1)[1]  # after the data column `v`
    assert "struct<" + data == schema.simpleString()


def test_partition_values_are_cast_and_hive_null_is_null(spark, tmp_path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"v":1}\n')
    file = InputFile(Location.local(path), path.stat().st_size, MTIME_MS,
                     (("year", "2025"), ("k", "__HIVE_DEFAULT_PARTITION__")))
    spec = ReadSpec("json", {}, _parse_datatype_string("v BIGINT"),
                    _parse_datatype_string("year INT, k STRING"), where="parts")
    assert [r.asDict() for r in read_files(spark, [file], spec).collect()] == \
        [{"v": 1, "year": 2025, "k": None}]


def test_files_are_read_once_each_whatever_their_folder(spark, tmp_path) -> None:
    (tmp_path / "with space").mkdir()
    paths = [tmp_path / "a.json", tmp_path / "with space" / "b.json"]
    for i, p in enumerate(paths):
        p.write_text(f'{{"v":{i}}}\n')
        os.utime(p, (1, 1))
    files = [InputFile(Location.local(p), p.stat().st_size, 1000) for p in paths]
    spec = ReadSpec("json", {}, _parse_datatype_string("v BIGINT"), with_metadata=True, where="t")
    got = sorted((r.v, r._metadata.file_name) for r in read_files(spark, files, spec).collect())
    assert got == [(0, "a.json"), (1, "b.json")]
