"""Record Apache Spark 4.3's file-format semantics (JSON, CSV, text, `_metadata`,
`input_file_name()`, partition inference) as a golden file for lakesmith's Auto Loader formats.

Run with the *oracle* environment (classic PySpark 4.3.0 on a local JVM), from the repository root:

    /work/spark-venv/bin/python scripts/golden/file_formats.py [--out tests/golden/file_formats.json]

Each scenario writes small input files (bytes fixed here, modification times fixed with
`os.utime`) under one temporary root, reads them with Spark's built-in file sources and records
the schema (`simpleString`) and the rows, or the error class when Spark refuses. Paths in results
are recorded relative to the root: `<root>` stands for it. Rows are sorted by their JSON text so
the comparison does not depend on partitioning. Databricks-only behaviour (`_rescued_data`) is not
Apache Spark's and cannot be recorded here; lakesmith follows the Databricks documentation for it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "golden" / "file_formats.json"
MTIME_S = 1_700_000_000.123  # every input file's modification time

SPARK_CONF = {
    "spark.master": "local[1]",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "1",
}

JSON_A = (
    b'{"id":1,"name":"a","extra":{"x":1},"tags":["p","q"]}\n'
    b'{"id":"oops","name":"b","score":2.5}\n'
    b'not json\n'
    b'\n'
    b'{"id":3,"nested":{"b":1.5,"a":true,"c":{"d":null}},"arr":[1,2]}\r\n'
    b'{"id":4,"score":7,"flag":false}\n'
    b'{"id":5,"name":null,"big":12345678901}'
)
JSON_B = b'{"id":6,"name":"f","when":"2024-01-02T03:04:05Z"}\n{"z":1}\n'
JSON_CASE = b'{"id":1,"name":"a"}\n{"id":2,"Name":"b"}\n'
JSON_MULTI_ARRAY = b'[\n  {"id": 1, "name": "m1"},\n  {"id": 2,\n   "name": "m2"}\n]\n'
JSON_MULTI_OBJECT = b'{\n  "id": 3,\n  "name": "m3",\n  "nested": {"a": 1}\n}\n'
JSON_BAD_UTF8 = b'\xff\xfe{"id":1}\n{"id":2,"name":"ok"}\n'
JSON_TYPES = (
    b'{"i":1,"l":1,"d":1,"b":true,"s":"x","ts":"2024-01-02T03:04:05Z","dt":"2024-01-02"}\n'
    b'{"i":3000000000,"l":"2","d":"1.5","b":"true","s":5,"ts":"nope","dt":"2024-13-45"}\n'
    b'{"i":1.5,"l":1.5,"d":2.5,"b":1,"s":{"k":[1, 2]},"ts":null,"dt":null}\n'
    b'{"s":[1,"a"],"d":"NaN"}\n'
)
# Records whose typed values are all absent or NULL, next to malformed ones and values that are
# not objects: a read with a schema and no corrupt-record column must still tell them apart.
JSON_VALIDITY = (
    b'{"id":1,"amount":2.5,"c":{"k":1,"n":"x"},"items":[{"q":1},{"q":2}]}\n'
    b'{}\n'
    b'{"other":1}\n'
    b'{"id":null,"amount":null,"c":null,"items":null}\n'
    b'not json\n'
    b'5\n'
    b'"text"\n'
    b'null\n'
    b'[[1,2]]\n'
    b'{"id":2} {"id":3}\n'
    b'{"id":4,"amount":"x"}\n'
    b'{"id":"7","amount":1}\n'
    b'{"id":1.5,"amount":1e2}\n'
    b'{"id":9223372036854775808}\n'
    b'{"id":6,"amount":\n'
    b'{"items":[],"c":{}}\n'
    b'  {"id":8}  \n'
)
# A value of the wrong type inside a struct or an array makes the record corrupt (partial results).
JSON_NESTED_MISMATCH = b'{"c":{"k":"1"},"items":[{"q":1.5},{"q":3000000000}]}\n{"id":1,"c":{"k":2}}\n'
# Repeated keys: Spark keeps the last value, at the top level and inside structs.
JSON_REPEATED_KEYS = (
    b'{"id":1,"id":2,"s":"a","s":"b","c":{"k":"x","k":"y"}}\n'
    b'{"s":"only","t":"u","t":"v"}\n'
    b'{"s":12.30,"t":"w"}\n'
    b'{"s":"first","s":null}\n'
)
# Lines holding a top-level array: one row per element only when every element is an object.
JSON_ROOT_ARRAYS = (
    b'[{"id":1}, 5]\n'
    b'[null]\n'
    b'["{\\"id\\":1}"]\n'
    b'[]\n'
    b'[{"id":2},{"id":3}] x\n'
    b'[{"id":4}, {"id":"s"}]\n'
    b'[{"id":5}, null, {"id":6}]\n'
    b'[[{"id":7}]]\n'
    b'  [ {"id":8} ,{"id":9,"n":"b"}]  \n'
    b'[{"id":10},\n'
)
# STRING values inside structs, arrays and maps: Spark keeps their text as written (numbers,
# objects and arrays), also in the elements of a line holding an array of objects.
JSON_NESTED_TEXTS = (
    b'{"id":"1","s":{"a":12.30,"b":{"k": [1, 2]},"c":1e3,"d":true,"e":"x\\u0041","f":-0,'
    b'"g":12345678901234567890},"x":[{"a":12.30},{"a":"t"}],"y":[1.50,"z",true,null],'
    b'"m":{"k":1.0E2}}\n'
    b'{"id":"2","s":{"a":"[x]","b":"{y}"},"x":[{"a":"[v]"}],"y":["[INFO] z"],"m":{"k":[1,2]}}\n'
    b'[{"id":"3","s":{"a":-0,"b":[1,2]}},{"id":"4","x":[{"a":1.5e3}],"t":0.10}]\n'
    b'{"id":"5","s":{"b":{"z": 2.0}},"t":{"q": 0.5}}\n'
)
# Leaves of other types beside STRING ones: each keeps its own type's reading.
JSON_NESTED_MIXED = (
    b'{"id":1,"s":{"a":12.30,"b":12.30,"f":-0},"x":[{"a":0.50,"n":2},{"a":"u","n":3}],'
    b'"m":{"k":{"a":1e1,"n":7}}}\n'
    b'{"id":2,"s":{"a":1,"b":{"k": 1}},"x":[],"m":{}}\n'
)
# Objects or arrays in a STRING whose text as written the engine cannot give: inside an array,
# in an element of a line's array (written with spaces), under a repeated key. lakesmith
# refuses these records (tests/sources/files/test_formats_golden.py, REFUSED).
JSON_NESTED_REFUSED = {
    "json_nested_texts_refused_in_array": b'{"y":[1.50,{"q" : 1}]}\n',
    "json_nested_texts_refused_line_array": b'[{"s":{"b":[1, 2]}},{"s":{"b":"c"}}]\n',
    "json_nested_texts_refused_repeated": b'{"s":{"b":[1,2],"b":{"z": 2.0}}}\n',
}
CSV_HEADER = (
    b'id,name,amount,day\n'
    b'1,"x,y",1.5,2024-01-02\n'
    b'2,NA,2,02/01/2024\n'
    b'3\n'
    b'4,d,3.25,2024-03-04,extra\n'
    b'5,"say ""hi""",,2024-05-06\n'
    b'\n'
    b'6,  spaced  ,abc,\n'
)
CSV_MULTILINE = b'id,text\n1,"two\nlines"\n2,plain\n3,"a\r\nb"\n'
CSV_HEADER_DUPES = b'a,b,a,,\n1,2,3,4,5\n'
TEXT = b'first\r\nsecond\n\nfourth'

SCENARIOS: list[dict] = [
    {"name": "json_infer_types", "format": "json", "options": {},
     "files": {"a.json": JSON_A, "b.json": JSON_B}},
    {"name": "json_infer_strings", "format": "json", "options": {"primitivesAsString": "true"},
     "files": {"a.json": JSON_A, "b.json": JSON_B}},
    {"name": "json_schema_corrupt", "format": "json", "options": {},
     "schema": "id BIGINT, name STRING, score DOUBLE, nested STRUCT<a: BOOLEAN, b: DOUBLE>, "
               "arr ARRAY<BIGINT>, _corrupt_record STRING",
     "files": {"a.json": JSON_A}},
    {"name": "json_schema_no_corrupt", "format": "json", "options": {},
     "schema": "id BIGINT, name STRING, score DOUBLE",
     "files": {"a.json": JSON_A}},
    {"name": "json_types", "format": "json", "options": {},
     "schema": "i INT, l BIGINT, d DOUBLE, b BOOLEAN, s STRING, ts TIMESTAMP, dt DATE, "
               "_corrupt_record STRING",
     "files": {"t.json": JSON_TYPES}},
    {"name": "json_infer_types_only", "format": "json", "options": {},
     "files": {"t.json": JSON_TYPES}},
    {"name": "json_schema_validity", "format": "json", "options": {},
     "schema": "id BIGINT, amount DOUBLE, c STRUCT<k: INT, n: STRING>, "
               "items ARRAY<STRUCT<q: INT>>",
     "files": {"v.json": JSON_VALIDITY}},
    {"name": "json_schema_validity_corrupt", "format": "json", "options": {},
     "schema": "id BIGINT, amount DOUBLE, c STRUCT<k: INT, n: STRING>, "
               "items ARRAY<STRUCT<q: INT>>, _corrupt_record STRING",
     "files": {"v.json": JSON_VALIDITY}},
    {"name": "json_nested_mismatch", "format": "json", "options": {},
     "schema": "id BIGINT, c STRUCT<k: INT, n: STRING>, items ARRAY<STRUCT<q: INT>>",
     "files": {"n.json": JSON_NESTED_MISMATCH}},
    {"name": "json_nested_mismatch_corrupt", "format": "json", "options": {},
     "schema": "id BIGINT, c STRUCT<k: INT, n: STRING>, items ARRAY<STRUCT<q: INT>>, "
               "_corrupt_record STRING",
     "files": {"n.json": JSON_NESTED_MISMATCH}},
    {"name": "json_repeated_keys", "format": "json", "options": {},
     "schema": "id BIGINT, s STRING, t STRING, c STRUCT<k: STRING>",
     "files": {"k.json": JSON_REPEATED_KEYS}},
    {"name": "json_repeated_keys_strings", "format": "json", "options": {},
     "schema": "s STRING, t STRING", "files": {"k.json": JSON_REPEATED_KEYS}},
    {"name": "json_root_arrays", "format": "json", "options": {},
     "schema": "id BIGINT, n STRING", "files": {"r.json": JSON_ROOT_ARRAYS}},
    {"name": "json_root_arrays_inferred", "format": "json", "options": {"primitivesAsString": "true"},
     "files": {"r.json": b'[1, 2]\n[{"a":"x"}, 5]\n{"b":"y"}\n[{"a":"z"},{"c":"w"}]\n'}},
    {"name": "json_root_arrays_corrupt", "format": "json", "options": {},
     "schema": "id BIGINT, n STRING, _corrupt_record STRING",
     "files": {"r.json": JSON_ROOT_ARRAYS}},
    {"name": "json_nested_texts", "format": "json", "options": {},
     "schema": "id STRING, s STRUCT<a: STRING, b: STRING, c: STRING, d: STRING, e: STRING, "
               "f: STRING, g: STRING>, x ARRAY<STRUCT<a: STRING>>, y ARRAY<STRING>, "
               "m MAP<STRING, STRING>, t STRING",
     "files": {"n.json": JSON_NESTED_TEXTS}},
    {"name": "json_nested_texts_inferred", "format": "json",
     "options": {"primitivesAsString": "true"}, "files": {"n.json": JSON_NESTED_TEXTS}},
    {"name": "json_nested_texts_mixed", "format": "json", "options": {},
     "schema": "id BIGINT, s STRUCT<a: DOUBLE, b: STRING, f: INT>, "
               "x ARRAY<STRUCT<a: STRING, n: INT>>, m MAP<STRING, STRUCT<a: STRING, n: BIGINT>>",
     "files": {"n.json": JSON_NESTED_MIXED}},
    *[{"name": name, "format": "json", "options": {},
       "schema": "y ARRAY<STRING>, s STRUCT<b: STRING>", "files": {"n.json": text}}
      for name, text in JSON_NESTED_REFUSED.items()],
    {"name": "json_case_infer", "format": "json", "options": {},
     "files": {"c.json": JSON_CASE}},
    {"name": "json_case_schema", "format": "json", "options": {},
     "schema": "id BIGINT, name STRING", "files": {"c.json": JSON_CASE}},
    {"name": "json_multiline_infer", "format": "json", "options": {"multiLine": "true"},
     "files": {"arr.json": JSON_MULTI_ARRAY, "obj.json": JSON_MULTI_OBJECT}},
    {"name": "json_lines_array", "format": "json", "options": {},
     "schema": "id BIGINT, name STRING",
     "files": {"l.json": b'[{"id":1,"name":"x"},{"id":2}]\n{"id":3}\n'}},
    {"name": "json_bad_utf8", "format": "json", "options": {},
     "schema": "id BIGINT, name STRING, _corrupt_record STRING",
     "files": {"u.json": JSON_BAD_UTF8}},
    {"name": "csv_header_strings", "format": "csv", "options": {"header": "true"},
     "files": {"h.csv": CSV_HEADER}},
    {"name": "csv_header_infer", "format": "csv", "options": {"header": "true", "inferSchema": "true"},
     "files": {"h.csv": CSV_HEADER}},
    {"name": "csv_schema_options", "format": "csv",
     "options": {"header": "true", "nullValue": "NA", "dateFormat": "yyyy-MM-dd"},
     "schema": "id INT, name STRING, amount DOUBLE, day DATE, _corrupt_record STRING",
     "files": {"h.csv": CSV_HEADER}},
    {"name": "csv_no_header", "format": "csv", "options": {},
     "files": {"h.csv": CSV_HEADER}},
    {"name": "csv_multiline", "format": "csv", "options": {"header": "true", "multiLine": "true"},
     "files": {"m.csv": CSV_MULTILINE}},
    {"name": "csv_not_multiline", "format": "csv", "options": {"header": "true"},
     "files": {"m.csv": CSV_MULTILINE}},
    {"name": "csv_header_dupes", "format": "csv", "options": {"header": "true"},
     "files": {"d.csv": CSV_HEADER_DUPES}},
    {"name": "csv_sep", "format": "csv", "options": {"header": "true", "sep": ";"},
     "files": {"s.csv": b'a;b\n1;"x;y"\n'}},
    {"name": "text_lines", "format": "text", "options": {}, "files": {"t.txt": TEXT}},
    {"name": "text_wholetext", "format": "text", "options": {"wholetext": "true"},
     "files": {"t.txt": TEXT}},
    {"name": "partitions_infer", "format": "json", "options": {},
     "files": {"p/year=2024/day=2024-01-02/k=a/x.json": b'{"v":1}\n',
               "p/year=2025/day=2025-02-03/k=__HIVE_DEFAULT_PARTITION__/x.json": b'{"v":2}\n'},
     "load": "p"},
    {"name": "partitions_infer_mixed", "format": "json", "options": {},
     "files": {"q/n=1/x.json": b'{"v":1}\n', "q/n=1.5/x.json": b'{"v":2}\n',
               "q/n=007/x.json": b'{"v":3}\n'},
     "load": "q"},
]


def plain(value):
    """A JSON-able form of a row value."""
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


def write_files(root: Path, files: dict[str, bytes]) -> list[Path]:
    paths = []
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (MTIME_S, MTIME_S))
        paths.append(path)
    return paths


def relative(text, root: Path):
    if isinstance(text, str):
        return text.replace(str(root), "<root>")
    if isinstance(text, dict):
        return {k: relative(v, root) for k, v in text.items()}
    if isinstance(text, list):
        return [relative(v, root) for v in text]
    return text


def run_scenario(spark, root: Path, scenario: dict) -> dict:
    from pyspark.sql import functions as F

    folder = root / scenario["name"]
    paths = write_files(folder, scenario["files"])
    reader = spark.read.format(scenario["format"]).options(**scenario["options"])
    if "schema" in scenario:
        reader = reader.schema(scenario["schema"])
    target = [str(folder / scenario["load"])] if "load" in scenario else [str(p) for p in paths]
    result = {k: (v if k != "files" else {n: d.decode("latin-1") for n, d in v.items()})
              for k, v in scenario.items()}
    try:
        df = reader.load(target)
        result["schema"] = df.schema.simpleString()
        rows = [json.dumps(plain(r), sort_keys=True) for r in df.collect()]
        result["rows"] = [json.loads(r) for r in sorted(rows)]
        meta = df.select("_metadata", F.input_file_name().alias("input_file_name")).distinct()
        result["metadata"] = relative(sorted(
            (plain(r) for r in meta.collect()), key=lambda r: r["input_file_name"]), folder)
    except Exception as e:  # the oracle's refusal is the expected result
        result["error"] = getattr(e, "getCondition", lambda: None)() or type(e).__name__
        result["error_message"] = relative(str(e).splitlines()[0], folder)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    import pyspark
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    root = Path(tempfile.mkdtemp(prefix="golden-formats-"))
    try:
        scenarios = [run_scenario(spark, root, s) for s in SCENARIOS]
    finally:
        spark.stop()
        shutil.rmtree(root, ignore_errors=True)
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    golden = {
        "generated_by": "scripts/golden/file_formats.py",
        "run_with": "/work/spark-venv/bin/python scripts/golden/file_formats.py",
        "spark_version": pyspark.__version__,
        "java": java,
        "spark_conf": SPARK_CONF,
        "file_modification_time_s": MTIME_S,
        "notes": [
            "files are decoded as latin-1 to keep their exact bytes in JSON; write them back with "
            ".encode('latin-1').",
            "rows are sorted by their JSON text (sort_keys); timestamps are UTC, ISO-8601 without zone.",
            "metadata holds the distinct (_metadata, input_file_name()) pairs; <root> is the "
            "scenario's folder.",
        ],
        "scenarios": scenarios,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(golden, indent=1, sort_keys=False) + "\n")
    print(f"wrote {args.out} ({len(scenarios)} scenarios)")


if __name__ == "__main__":
    main()
