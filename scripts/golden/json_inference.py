"""Record Apache Spark 4.3's JSON schema inference on record shapes where the engine's own
inference could differ from Spark's (conflicts, empty structs and names, repeated keys, case,
line separators and whitespace, malformed records), as a golden file for lakesmith's two
inference routes (`sources/files/formats/native_json_shape.py` and the exact one).

Run with the *oracle* environment (classic PySpark 4.3.0 on a local JVM), from the repository root:

    /work/spark-venv/bin/python scripts/golden/json_inference.py [--out tests/golden/json_inference.json]

Each case is one or more JSON-lines files (bytes fixed here), read with `spark.read.json` with
`primitivesAsString` true (Auto Loader's default: every primitive a STRING) and false (typed,
`cloudFiles.inferColumnTypes`); the schema (`simpleString`) or Spark's error class is recorded.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "golden" / "json_inference.json"

EVENT = (b'{"id":1,"ts":"2024-01-01T00:00:00.000Z","amount":9.5,"customer":{"id":4,'
         b'"country":"IT"},"channel":"app","items":[{"sku":"S-1","qty":5,"price":7.5}],'
         b'"tags":["a","b"]}\n')

CASES: dict[str, dict[str, bytes]] = {
    "events": {"e.json": EVENT * 3 + b'{"id":null,"items":[],"tags":null,"extra":{}}\n'},
    "field_order": {"f.json": b'{"z":1,"b":{"y":1,"x":2},"a":[{"q":1,"p":2}]}\n'},
    "repeated_key_top": {"d.json": b'{"a":1,"a":{"b":2}}\n{"c":1}\n'},
    "repeated_key_struct": {"d.json": b'{"s":{"a":1,"a":[1]}}\n'},
    "repeated_key_same": {"d.json": b'{"a":1,"a":2}\n'},
    "empty_struct": {"e.json": b'{"a":{},"b":1}\n'},
    "empty_struct_in_array": {"e.json": b'{"a":[{}],"b":1}\n'},
    "empty_name": {"e.json": b'{"":1,"b":1}\n'},
    "array_then_scalar": {"a.json": b'{"a":[1,2]}\n{"a":"x"}\n'},
    "scalar_then_array": {"a.json": b'{"a":"x"}\n{"a":[1,2]}\n'},
    "empty_array_then_scalar": {"a.json": b'{"a":[]}\n{"a":3}\n'},
    "array_of_arrays_vs_array": {"a.json": b'{"a":[[1]]}\n{"a":[2]}\n'},
    "array_in_array_vs_scalar": {"a.json": b'{"a":[{"t":[1]}]}\n{"a":[{"t":"x"}]}\n'},
    "nested_array_vs_scalar": {"a.json": b'{"s":{"t":[1]}}\n{"s":{"t":2}}\n'},
    "struct_vs_scalar": {"a.json": b'{"a":{"x":1}}\n{"a":5}\n'},
    "array_of_structs_vs_scalar": {"a.json": b'{"a":[{"x":1}]}\n{"a":5}\n'},
    "mixed_elements": {"a.json": b'{"a":[1,{"x":1}]}\n'},
    "only_empty_arrays": {"a.json": b'{"a":[]}\n{"a":[null]}\n'},
    "empty_string_and_array": {"a.json": b'{"a":""}\n{"a":[1]}\n'},
    "string_starting_with_bracket": {"a.json": b'{"a":[1]}\n{"a":"[x"}\n'},
    "bracket_string_elsewhere": {"a.json": b'{"a":[1],"b":"[x"}\n'},
    "whitespace_lines": {"w.json": b'{"a":1}\n  \n\t\n{"b":2}\r\n\r\n'},
    "vertical_tab_line": {"w.json": b'{"a":1}\n\x0b\n'},
    "nbsp_before_record": {"w.json": b'\xc2\xa0{"a":1}\n'},
    "lone_cr_inside_record": {"w.json": b'{"a":\r1}\n'},
    "cr_separated": {"w.json": b'{"a":1}\r{"b":2}\r'},
    "null_record": {"r.json": b'null\n{"a":1}\n'},
    "scalar_record": {"r.json": b'5\n{"a":1}\n'},
    "array_record": {"r.json": b'[{"a":1},{"b":2}]\n'},
    "malformed_record": {"r.json": b'{"a":1}\n{"b":\n'},
    "two_values_on_a_line": {"r.json": b'{"a":1} {"b":2}\n'},
    "text_after_value": {"r.json": b'{"a":1} x\n'},
    "case_top": {"c.json": b'{"a":1}\n{"A":2}\n'},
    "case_nested": {"c.json": b'{"s":{"a":1}}\n{"s":{"A":2}}\n'},
    "unicode_escape_key": {"k.json": b'{"\\u0061":1,"b":2}\n'},
    "big_integer": {"n.json": b'{"a":12345678901234567890}\n'},
    "int_and_double_across_files": {"a.json": b'{"a":1,"s":{"x":1}}\n',
                                    "b.json": b'{"a":1.5,"s":{"y":2}}\n'},
    "array_and_scalar_across_files": {"a.json": b'{"a":[1]}\n', "b.json": b'{"a":2}\n'},
    "deep_nesting": {"d.json": b'{"a":' * 200 + b'1' + b'}' * 200 + b'\n'},
}


def infer(spark, folder: Path, primitives_as_string: bool) -> str:
    paths = sorted(str(p) for p in folder.iterdir())
    try:
        reader = spark.read.option("primitivesAsString", str(primitives_as_string).lower())
        return reader.json(paths).schema.simpleString()
    except Exception as e:  # the oracle's refusal is the expected result
        return "ERROR " + (getattr(e, "getCondition", lambda: None)() or type(e).__name__)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    import pyspark
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false") \
        .config("spark.sql.session.timeZone", "UTC").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    root = Path(tempfile.mkdtemp(prefix="golden-json-inference-"))
    results = []
    try:
        for name, files in CASES.items():
            folder = root / name
            folder.mkdir()
            for file_name, data in files.items():
                (folder / file_name).write_bytes(data)
            results.append({"name": name,
                            "files": {n: d.decode("latin-1") for n, d in files.items()},
                            "strings": infer(spark, folder, True),
                            "typed": infer(spark, folder, False)})
    finally:
        spark.stop()
        shutil.rmtree(root, ignore_errors=True)
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    golden = {
        "generated_by": "scripts/golden/json_inference.py",
        "run_with": "/work/spark-venv/bin/python scripts/golden/json_inference.py",
        "spark_version": pyspark.__version__,
        "java": java,
        "notes": ["files are decoded as latin-1 to keep their exact bytes; write them back with "
                  ".encode('latin-1').",
                  "strings: primitivesAsString=true; typed: primitivesAsString=false; "
                  "'ERROR <class>' when Spark refuses."],
        "cases": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(golden, indent=1) + "\n")
    print(f"wrote {args.out} ({len(results)} cases)")


if __name__ == "__main__":
    main()
