"""Benchmark: what the per-row guard of a regular expression given as a column costs
(`engine/semantics/regex_guard.py`), and the exact translation of a final `$`
(`final_dollar.py`), against the same queries sent to the engine as written.

    python -m benchmarks.regex_column_guard [--rows 1000000]

Each query sums the lengths of its results (nothing is collected but one number); the best of
three runs on a warm embedded engine is shown."""

from __future__ import annotations

import argparse
import time

from lakesmith.engine.semantics.sql_rewrite import rewrite_sql

QUERIES = {
    "column pattern, regexp_replace": "SELECT sum(length(regexp_replace(s, p, ''))) FROM data",
    "column pattern, RLIKE": "SELECT count_if(s RLIKE p) FROM data",
    "column pattern, regexp_count": "SELECT sum(regexp_count(s, p)) FROM data",
    "literal final $, regexp_replace": "SELECT sum(length(regexp_replace(s, 'm$', 'x'))) "
                                       "FROM data",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    from pysail.spark import SparkConnectServer
    from pyspark.sql.connect.session import SparkSession

    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    host, port = server.listening_address
    spark = SparkSession.builder.remote(f"sc://{host}:{port}").getOrCreate()
    spark.sql(f"""SELECT concat('user', id, '@example.com') AS s,
                         CASE id % 2 WHEN 0 THEN '[^a-z]' ELSE '[0-9]+' END AS p
                  FROM range({args.rows})""").write.mode("overwrite").parquet("/tmp/regex-bench")
    spark.read.parquet("/tmp/regex-bench").createOrReplaceTempView("data")
    print(f"{args.rows:,} rows; best of 3, seconds")
    print(f"{'query':36} {'as written':>10} {'lakesmith':>10}")
    for name, query in QUERIES.items():
        times = [_best(spark, text) for text in (query, rewrite_sql(query, None))]
        print(f"{name:36} {times[0]:>10.3f} {times[1]:>10.3f}")
    spark.stop()
    server.stop()


def _best(spark: object, query: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        spark.sql(query).collect()  # type: ignore[attr-defined]
        best = min(best, time.perf_counter() - start)
    return best


if __name__ == "__main__":
    main()
