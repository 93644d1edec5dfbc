"""Benchmark: what Spark's answers cost per query in `lakesmith.session()`.

Every plan the session sends is rewritten in the client (`engine/semantics/session_plans.py`):
a walk of the plan, and for the calls whose rewrite depends on a type (round, avg, arithmetic)
one analysis round trip per argument. This runs typical interactive queries on a Delta table of
--rows rows with the rewrite on and off (`spark.semantics.enabled`), alternating, and prints the
median wall time of each and the difference (the overhead per query).

    python benchmarks/session_semantics.py [--rows 100000] [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

QUERIES: dict[str, Callable[[Any], Any]] = {
    "filter + count (no rule)": lambda spark: spark.table("sales")
    .where("qty > 5").count(),
    "df.columns (analysis only)": lambda spark: spark.table("sales")
    .select("id", "amount").columns,
    "select round(double) (typed rule)": lambda spark: spark.table("sales")
    .selectExpr("id", "round(price, 2) AS p").limit(10).collect(),
    "groupBy avg(decimal) (typed rule)": lambda spark: spark.table("sales")
    .groupBy("region").agg({"amount": "avg"}).collect(),
    "spark.sql with round + avg": lambda spark: spark.sql(
        "SELECT region, round(avg(price), 2) AS p, avg(amount) AS a FROM sales "
        "GROUP BY region").collect(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("RUST_LOG", "error")
    import lakesmith

    with tempfile.TemporaryDirectory(prefix="session-semantics-") as folder:
        root = Path(folder)
        (root / "spark-pipeline.yml").write_text("name: bench\nstorage: storage\n")
        spark = lakesmith.session(root)
        try:
            spark.range(args.rows).selectExpr(
                "id", "CAST(id % 17 AS INT) AS qty", "id * 1.005D AS price",
                "CAST(id % 1000 / 100 AS DECIMAL(12,2)) AS amount",
                "CASE id % 3 WHEN 0 THEN 'east' WHEN 1 THEN 'west' ELSE 'north' END AS region",
            ).write.format("delta").save(str(root / "sales"))
            spark.read.format("delta").load(str(root / "sales")).createOrReplaceTempView("sales")
            results = {name: _measure(spark, query, args.runs) for name, query in QUERIES.items()}
        finally:
            spark.stop()
    print(json.dumps({"rows": args.rows, "runs": args.runs, "load": os.getloadavg()[0],
                      "queries": results}, indent=1))


def _measure(spark: Any, query: Callable[[Any], Any], runs: int) -> dict[str, float]:
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(runs):
        for enabled in (True, False):
            spark.semantics.enabled = enabled
            start = time.perf_counter()
            query(spark)
            times[enabled].append(time.perf_counter() - start)
    spark.semantics.enabled = True
    on, off = (statistics.median(times[e]) * 1000 for e in (True, False))
    return {"spark_answers_ms": round(on, 2), "engine_as_is_ms": round(off, 2),
            "overhead_ms": round(on - off, 2)}


if __name__ == "__main__":
    main()
