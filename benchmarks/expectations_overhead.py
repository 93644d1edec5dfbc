"""Benchmark: the cost of expectations. A silver streaming table over a bronze table, once with
three expectations (one warn, two drop) and once without, each recomputed from scratch over the
whole bronze table (--full-refresh) in the same update, one flow at a time.

    python benchmarks/expectations_overhead.py [--rows 2000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from common import embedded_spark

PIPELINE = """
from pyspark import pipelines as dp
from lakesmith import expect, expect_or_drop

@dp.table
def bronze_orders():
    return spark.readStream.format("delta").load(spark.conf.get("landing"))

def silver(df):
    return df.selectExpr("order_id", "customer_id", "amount", "status", "country", "ts",
                         "amount * 1.2 AS amount_with_tax")

@dp.table
def silver_plain():
    return silver(spark.readStream.table("bronze_orders"))

@dp.table
@expect("has_status", "status IS NOT NULL")
@expect_or_drop("positive_amount", "amount > 0")
@expect_or_drop("known_country", "country IN ('UK', 'US', 'NL', 'DE', 'FR')")
def silver_checked():
    return silver(spark.readStream.table("bronze_orders"))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from datagen import write_orders

    from lakesmith.pipeline import open_pipeline

    work = Path(tempfile.mkdtemp(prefix="lakesmith-bench-expect-"))
    try:
        with embedded_spark() as (url, spark):
            landing = work / "landing"
            write_orders(spark, str(landing), 0, args.rows, seed=args.seed)
            project = work / "project"
            (project / "transformations").mkdir(parents=True)
            (project / "spark-pipeline.yml").write_text(
                f"name: bench\nstorage: storage\nconfiguration:\n  landing: {landing}\n"
                "  lakesmith.maxConcurrentFlows: '1'\n"
                "libraries:\n  - glob:\n      include: transformations/**\n")
            (project / "transformations" / "orders.py").write_text(PIPELINE)
            plain: list[float] = []
            checked: list[float] = []
            with open_pipeline(project / "spark-pipeline.yml", remote=url) as pipeline:
                pipeline.run(pipeline.plan())  # bronze
                for _ in range(args.runs):
                    result = pipeline.run(pipeline.plan(
                        full_refresh=["silver_plain", "silver_checked"]))
                    durations = {r.planned.name: r.metrics.duration_seconds for r in result.flows}
                    plain.append(durations["silver_plain"])
                    checked.append(durations["silver_checked"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    p, c = statistics.median(plain), statistics.median(checked)
    print(f"\nsilver over {args.rows:,} bronze rows, median of {args.runs} full recomputes")
    print(f"{'without expectations':<32}{p:>8.2f}s   runs: {', '.join(f'{x:.2f}' for x in plain)}")
    print(f"{'with 3 expectations':<32}{c:>8.2f}s   runs: {', '.join(f'{x:.2f}' for x in checked)}")
    print(f"overhead: {c / p - 1:+.1%}  (target <= +15%)")


if __name__ == "__main__":
    main()
