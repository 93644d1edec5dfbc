"""Record Apache Spark 4.3's answers for the column-pattern sample (`tests/engine/
regex_column_sample.py`) as `tests/golden/regex_columns.json`: per row (in id order, one a
line), the value of each call.

    /work/spark-ref/venv/bin/python scripts/golden/regex_columns.py [--remote sc://host:port]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "engine"))

from regex_column_sample import CALLS, rows  # noqa: E402

OUT = REPO / "tests" / "golden" / "regex_columns.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--remote", default="local[1]")
    args = parser.parse_args()
    import pyspark
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(args.remote).getOrCreate()
    spark.createDataFrame(rows(), "id INT, s STRING, p STRING").createOrReplaceTempView("sample")
    columns = ", ".join(f"{call} AS {name}" for name, call in CALLS)
    found = spark.sql(f"SELECT {columns} FROM sample ORDER BY id").collect()
    rows_text = ",\n".join(json.dumps([_plain(v) for v in r], ensure_ascii=False) for r in found)
    OUT.write_text(f'{{"spark": "{pyspark.__version__}", '
                   f'"calls": {json.dumps([name for name, _ in CALLS])},\n'
                   f'"rows": [\n{rows_text}\n]}}\n')
    print(f"{len(rows())} rows x {len(CALLS)} calls written to {OUT}")


def _plain(value: object) -> object:
    return list(value) if isinstance(value, (list, tuple)) else value


if __name__ == "__main__":
    main()
