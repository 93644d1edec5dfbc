"""Benchmark: a windowed streaming aggregation, lakesmith vs Apache Spark 4.3 Structured Streaming.

Input: --events events in --files Parquet files (`k STRING, ts TIMESTAMP, v INT`, 100 keys; file i
holds the events of hour i of event time, a few per cent up to 3 minutes out of order), delivered
one file per micro-batch (`maxFilesPerTrigger` 1). The query, the same on both:

    events.withWatermark("ts", "10 minutes")
          .groupBy(window("ts", "5 minutes"), "k")
          .agg(count("*"), sum("v"), max("v"))

appended to a table: lakesmith runs it as a streaming table (Auto Loader over the folder, a Delta
target); Spark as a query with an `availableNow` trigger and a Parquet sink. Each is one cold
process (engine start included), run --runs times; the outputs are compared row for row.

Per-batch cost: lakesmith's from its checkpoint (commit record N's time less N-1's), Spark's
from its progress (`durationMs.triggerExecution`); target: batch 20 within 1.5x of batch 2 (state
work follows live state, not history).

    python benchmarks/stateful.py [--events 2000000] [--files 20] [--runs 1]
        [--spark-python /work/spark-venv/bin/python] [--no-spark]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from common import PYTHON
from deltalake import DeltaTable

os.environ.setdefault("RUST_LOG", "error")

PIPELINE = '''
from pyspark import pipelines as dp
from pyspark.sql import functions as F

@dp.table
def windows():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "parquet")
            .option("cloudFiles.maxFilesPerTrigger", "1").schema("k STRING, ts TIMESTAMP, v INT")
            .load(spark.conf.get("landing"))
            .withWatermark("ts", "10 minutes")
            .groupBy(F.window("ts", "5 minutes"), "k")
            .agg(F.count("*").alias("n"), F.sum("v").alias("total"), F.max("v").alias("hi"))
            .select(F.col("window.start").alias("start"), F.col("window.end").alias("end"),
                    "k", "n", "total", "hi"))
'''

SPARK_SCRIPT = '''
import json, sys, time
from pyspark.sql import SparkSession, functions as F
landing, out, checkpoint = sys.argv[1:4]
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
q = (spark.readStream.schema("k STRING, ts TIMESTAMP, v INT").option("maxFilesPerTrigger", 1)
     .parquet(landing)
     .withWatermark("ts", "10 minutes")
     .groupBy(F.window("ts", "5 minutes"), "k")
     .agg(F.count("*").alias("n"), F.sum("v").alias("total"), F.max("v").alias("hi"))
     .select(F.col("window.start").alias("start"), F.col("window.end").alias("end"),
             "k", "n", "total", "hi")
     .writeStream.format("parquet").outputMode("append").option("path", out)
     .option("checkpointLocation", checkpoint).trigger(availableNow=True).start())
q.awaitTermination()
print(json.dumps([p["durationMs"].get("triggerExecution") for p in q.recentProgress]))
spark.stop()
'''


def write_input(folder: Path, events: int, files: int, seed: int = 7) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    per_file = events // files
    hour_us = 3_600_000_000
    for i in range(files):
        offsets = np.sort(rng.integers(0, hour_us, per_file))
        late = rng.random(per_file) < 0.03
        offsets = offsets - late * rng.integers(0, 180_000_000, per_file)
        ts = pa.array(1_700_000_000_000_000 + i * hour_us + offsets, pa.timestamp("us", "UTC"))
        keys = pa.array([f"k{j}" for j in rng.integers(0, 100, per_file)])
        values = pa.array(rng.integers(0, 1000, per_file).astype("int32"))
        table = pa.table({"k": keys, "ts": ts, "v": values})
        pq.write_table(table, folder / f"part-{i:04d}.parquet")
        os.utime(folder / f"part-{i:04d}.parquet", (1_700_000_000 + i, 1_700_000_000 + i))


def run_lakesmith(root: Path, landing: Path) -> tuple[float, list[float], list[tuple]]:
    project = root / "lakesmith"
    (project / "transformations").mkdir(parents=True)
    (project / "transformations" / "windows.py").write_text(PIPELINE)
    (project / "spark-pipeline.yml").write_text(textwrap.dedent(f"""\
        name: windows
        storage: storage
        configuration:
          landing: {landing}
          spark.sql.warehouse.dir: warehouse
        libraries:
          - glob:
              include: transformations/**
        """))
    start = time.perf_counter()
    start_epoch = time.time()
    result = subprocess.run([PYTHON, "-m", "lakesmith", "run", "--spec",
                             str(project / "spark-pipeline.yml")], cwd=project,
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-2000:] + result.stderr[-4000:])
    (commits,) = project.glob("storage/checkpoints/*windows*/windows/commits")
    times = [(commits / str(b)).stat().st_mtime
             for b in sorted(int(p.name) for p in commits.iterdir())]
    # A batch's cost: from the previous batch's commit record to its own (planning included);
    # batch 0's from the start of the process.
    costs = [times[0] - start_epoch] + [b - a for a, b in zip(times, times[1:], strict=False)]
    table = DeltaTable(str(project / "warehouse/spark_catalog/default/windows")).to_pyarrow_table()
    return wall, costs, _rows(table)


def run_spark(root: Path, landing: Path, spark_python: str) -> tuple[float, list[float], list[tuple]]:
    script = root / "spark_query.py"
    script.write_text(SPARK_SCRIPT)
    out, checkpoint = root / "spark_out", root / "spark_checkpoint"
    start = time.perf_counter()
    result = subprocess.run([spark_python, str(script), str(landing), str(out), str(checkpoint)],
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-2000:] + result.stderr[-4000:])
    costs = [ms / 1000 for ms in json.loads(result.stdout.strip().splitlines()[-1])]
    table = pq.read_table(out, schema=pa.schema([
        ("start", pa.timestamp("us", "UTC")), ("end", pa.timestamp("us", "UTC")),
        ("k", pa.string()), ("n", pa.int64()), ("total", pa.int64()), ("hi", pa.int32())]))
    return wall, costs, _rows(table)


def _rows(table: pa.Table) -> list[tuple]:
    return sorted((r["start"].isoformat(), r["end"].isoformat(), r["k"], r["n"], r["total"],
                   r["hi"]) for r in table.to_pylist())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--spark-python", default="/work/spark-venv/bin/python")
    parser.add_argument("--no-spark", action="store_true", help="lakesmith only")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="lakesmith-bench-stateful-"))
    try:
        landing = root / "landing"
        write_input(landing, args.events, args.files)
        results: dict[str, list[tuple[float, list[float]]]] = {"lakesmith": [], "spark": []}
        for run in range(args.runs):
            work = root / f"run{run}"
            work.mkdir()
            wall, costs, ours = run_lakesmith(work, landing)
            results["lakesmith"].append((wall, costs))
            if not args.no_spark and Path(args.spark_python).exists():
                wall, costs, theirs = run_spark(work, landing, args.spark_python)
                results["spark"].append((wall, costs))
                if ours != theirs:
                    raise SystemExit(f"outputs differ: lakesmith {len(ours)} rows, Spark "
                                     f"{len(theirs)} rows")
        print(f"\n{args.events:,} events in {args.files} files, 5-minute windows, 10-minute "
              f"watermark, one file per batch; load average {os.getloadavg()}")
        print(f"{'':<12}{'wall s':>9}{'batches':>9}{'batch 2 s':>11}{'batch 20 s':>12}"
              f"{'20 / 2':>8}")
        walls = {}
        for name, runs in results.items():
            if not runs:
                continue
            wall = statistics.median(r[0] for r in runs)
            walls[name] = wall
            costs = runs[len(runs) // 2][1]
            last = min(len(costs) - 1, 19)
            second = costs[1] if len(costs) > 1 else float("nan")
            print(f"{name:<12}{wall:>9.2f}{len(costs):>9}{second:>11.2f}{costs[last]:>12.2f}"
                  f"{costs[last] / second:>8.2f}")
        if len(walls) == 2:
            print(f"Spark / lakesmith wall time: {walls['spark'] / walls['lakesmith']:.2f}x "
                  f"(same output: {len(ours):,} rows)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
