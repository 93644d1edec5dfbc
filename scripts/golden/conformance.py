"""Record Apache Spark 4.3's answers to the conformance cases (`tests/conformance/`) as
`tests/golden/conformance.json`: per case its columns (name, type, nullable) and rows, or the error
condition Spark raised.

Run with an environment that has `pyspark[connect]==4.3.*` and Java 17, from the repository root
(it starts a local Spark Connect server, so cases go through Spark Connect as lakesmith's do):

    /work/spark-ref/venv/bin/python scripts/golden/conformance.py [--out tests/golden/conformance.json]
        [--only CATEGORY ...]  # record these categories' cases only, keeping the others'
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "conformance"))

from conformance_cases import CASES, SESSION_CONF  # noqa: E402
from conformance_runner import run_cases  # noqa: E402

DEFAULT_OUT = REPO / "tests" / "golden" / "conformance.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", nargs="+", metavar="CATEGORY",
                        help="record only these categories' cases into the existing file")
    args = parser.parse_args()
    cases = CASES if not args.only else [c for c in CASES if c.category in args.only]

    import pyspark
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.remote("local[1]")
    for key, value in {**SESSION_CONF, "spark.ui.enabled": "false",
                       "spark.sql.shuffle.partitions": "1",
                       "spark.sql.catalogImplementation": "in-memory",
                       "spark.sql.warehouse.dir": tempfile.mkdtemp(prefix="golden-")}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        outcomes = run_cases(spark, cases)
    finally:
        spark.stop()
    if args.only:  # the other cases' answers as recorded before, those of removed cases dropped
        recorded = json.loads(args.out.read_text())["cases"]
        known = {c.id for c in CASES}
        outcomes = {**{k: v for k, v in recorded.items() if k in known}, **outcomes}
    golden = {"spark": pyspark.__version__, "conf": SESSION_CONF, "cases": outcomes}
    args.out.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
    errors = sum("error" in o for o in outcomes.values())
    print(f"{len(outcomes)} cases ({errors} refused by Spark) written to {args.out}")


if __name__ == "__main__":
    main()
