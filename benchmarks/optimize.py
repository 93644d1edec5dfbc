"""OPTIMIZE and liquid clustering on a table written in many small appends.

A table of --rows rows (id, customer_id random in 0..9999, amount, note) written in --appends
appends, copied three times. Measured:
- files before / after OPTIMIZE (lakesmith SQL, compaction), and its time vs the same compaction
  hand-written with delta-rs (`DeltaTable.optimize.compact()`);
- a query filtering on one customer_id value, before and after `ALTER TABLE ... CLUSTER BY
  (customer_id)` + OPTIMIZE: files read (EXPLAIN ANALYZE's `files_opened`: the files the scan
  opened after skipping by the Delta statistics) and time (median of --runs).

Run: .venv/bin/python benchmarks/optimize.py [--rows 20000000] [--appends 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

# Sums in cents: exact, so the tables' answers compare equal whatever order rows are added in.
QUERY = ("SELECT count(*), sum(CAST(amount * 100 AS BIGINT)) FROM {table} "
         "WHERE customer_id = 4242")
_SCALE = {"": 1, "K": 1_000, "M": 1_000_000}


def write_table(spark: Any, path: Path, rows: int, appends: int) -> None:
    per = rows // appends
    for i in range(appends):
        spark.range(i * per, (i + 1) * per).selectExpr(
            "id", f"CAST(rand({i}) * 10000 AS INT) AS customer_id",
            f"round(rand({i + 7}) * 100, 2) AS amount", "concat('note-', id % 97) AS note",
        ).write.format("delta").mode("append").save(str(path))


def files_read(spark: Any, table: str) -> int:
    """Files the scan opened (EXPLAIN ANALYZE's `files_opened`), after the engine skipped files
    by the Delta log's statistics."""
    plan = "\n".join(r[0] for r in spark.sql(
        "EXPLAIN ANALYZE " + QUERY.format(table=table)).collect())
    # The engine prints counts humanized: files_opened=1.00 K
    return sum(round(float(n) * _SCALE[unit])
               for n, unit in re.findall(r"files_opened=([\d.]+)(?: ([KM]))?", plan))


def time_query(spark: Any, table: str, runs: int) -> float:
    spark.sql(QUERY.format(table=table)).collect()  # warm the log and the file footers
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        spark.sql(QUERY.format(table=table)).collect()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def timed(action: Any) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target-file-size", type=int, default=None,
                        help="delta.targetFileSize of the tables (default: delta-rs' 100 MB); "
                        "a smaller one keeps several files at a reduced --rows")
    args = parser.parse_args()
    os.environ.setdefault("RUST_LOG", "error")
    from deltalake import DeltaTable

    import lakesmith

    root = Path(tempfile.mkdtemp(prefix="lakesmith-optimize-"))
    os.chdir(root)  # no project: tables go to ./spark-warehouse
    spark = lakesmith.session()
    try:
        base = root / "base"
        print(f"writing {args.rows:,} rows in {args.appends} appends ...", flush=True)
        write_seconds = timed(lambda: write_table(spark, base, args.rows, args.appends))
        if args.target_file_size:
            DeltaTable(str(base)).alter.set_table_properties(
                {"delta.targetFileSize": str(args.target_file_size)})
        for name in ("compact_sql", "compact_rs", "clustered"):
            shutil.copytree(base, root / name)
            spark.sql(f"CREATE TABLE {name} USING delta LOCATION '{root / name}'")
        files_before = len(DeltaTable(str(root / "compact_sql")).file_uris())
        sql_seconds = timed(lambda: spark.sql("OPTIMIZE compact_sql").collect())
        files_after = len(DeltaTable(str(root / "compact_sql")).file_uris())
        rs_seconds = timed(lambda: DeltaTable(str(root / "compact_rs")).optimize.compact())
        files_rs = len(DeltaTable(str(root / "compact_rs")).file_uris())

        read_before = files_read(spark, "clustered")
        query_before = time_query(spark, "clustered", args.runs)
        query_compacted = time_query(spark, "compact_sql", args.runs)
        read_compacted = files_read(spark, "compact_sql")
        spark.sql("ALTER TABLE clustered CLUSTER BY (customer_id)")
        cluster_seconds = timed(lambda: spark.sql("OPTIMIZE clustered").collect())
        files_clustered = len(DeltaTable(str(root / "clustered")).file_uris())
        size = sum(DeltaTable(str(root / "clustered")).get_add_actions(flatten=True)
                   .column("size_bytes").to_pylist())
        read_after = files_read(spark, "clustered")
        query_after = time_query(spark, "clustered", args.runs)
        # New small appends to the clustered table: OPTIMIZE clusters only them.
        new_appends = max(1, args.appends // 25)
        write_table(spark, root / "clustered", args.rows // 25, new_appends)
        write_table(spark, root / "compact_sql", args.rows // 25, new_appends)
        pending = len(DeltaTable(str(root / "clustered")).file_uris()) - files_clustered
        incremental_seconds = timed(lambda: spark.sql("OPTIMIZE clustered").collect())
        files_incremental = len(DeltaTable(str(root / "clustered")).file_uris())
        read_incremental = files_read(spark, "clustered")
        same = spark.sql(QUERY.format(table="clustered")).collect() == \
            spark.sql(QUERY.format(table="compact_sql")).collect()
    finally:
        spark.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"\nload average before/after: {os.getloadavg()}")
    print(f"rows {args.rows:,} in {args.appends} appends (written in {write_seconds:.1f} s), "
          f"{size / 1e6:.0f} MB; target file size "
          f"{args.target_file_size or 'default (100 MB)'}")
    print(f"{'':44}{'files':>8}{'seconds':>10}")
    print(f"{'before OPTIMIZE':44}{files_before:>8}")
    print(f"{'OPTIMIZE (lakesmith SQL)':44}{files_after:>8}{sql_seconds:>10.2f}")
    print(f"{'compaction hand-written with delta-rs':44}{files_rs:>8}{rs_seconds:>10.2f}")
    print(f"{'CLUSTER BY (customer_id) + OPTIMIZE':44}{files_clustered:>8}{cluster_seconds:>10.2f}")
    print(f"{f'+{new_appends} appends ({pending} files), OPTIMIZE (incremental)':44}"
          f"{files_incremental:>8}{incremental_seconds:>10.2f}")
    print(f"\nquery: {QUERY.format(table='t')}  (results equal: {same})")
    print(f"{'':44}{'files read':>11}{'median s':>10}")
    print(f"{f'{args.appends} small appends':44}{read_before:>11}{query_before:>10.3f}")
    print(f"{'compacted (not clustered)':44}{read_compacted:>11}{query_compacted:>10.3f}")
    print(f"{'clustered by customer_id':44}{read_after:>11}{query_after:>10.3f}")
    print(f"{'  + new appends clustered incrementally':44}{read_incremental:>11}")
    print(f"\nclustered vs small appends: {read_before / max(read_after, 1):.1f}x fewer files, "
          f"{query_before / query_after:.1f}x faster; OPTIMIZE / delta-rs by hand: "
          f"{sql_seconds / rs_seconds:.2f}")


if __name__ == "__main__":
    main()
