"""Benchmark: the cost of a streaming update grows with the new data, not with the table.

A landing Delta table of orders feeds a bronze streaming table; a silver streaming table filters
and enriches bronze. Measured as cold `lakesmith run` processes (wall time), and as the update's own
duration (inside the process), for:

  full       every row (a --full-refresh-all over the whole landing table)
  100k new   one new commit of 100k rows appended to landing
  nothing    no new data

The engine floor is the same work written by hand on the same engine (embedded Sail): read the
rows, filter, write both tables, in one process.

    python benchmarks/streaming_incremental.py [--rows 2000000] [--new 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from common import PYTHON, Measurement, embedded_spark, time_command

os.environ.setdefault("RUST_LOG", "error")

PIPELINE = """
from pyspark import pipelines as dp

@dp.table
def bronze_orders():
    return spark.readStream.format("delta").load(spark.conf.get("landing"))

@dp.table
def silver_orders():
    return (spark.readStream.table("bronze_orders")
            .where("status = 'PAID' AND amount > 0")
            .selectExpr("order_id", "customer_id", "amount", "country", "ts",
                        "amount * 1.2 AS amount_with_tax", "date(ts) AS order_date"))
"""

FLOOR = """
import os, sys, time
os.environ.setdefault("RUST_LOG", "error")
from pysail.spark import SparkConnectServer
from pyspark.sql.connect.session import SparkSession
landing, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
server = SparkConnectServer(); server.start(background=True)
host, port = server.listening_address
spark = SparkSession.builder.remote(f"sc://{host}:{port}").create()
source = spark.read.format("delta").load(landing)
if mode == "new":  # only the last commit's rows, as a hand-written incremental job would pick
    from deltalake import DeltaTable
    import json
    version = DeltaTable(landing).version()
    files = [json.loads(l)["add"]["path"] for l in open(f"{landing}/_delta_log/{version:020d}.json")
             if '"add"' in l]
    source = spark.read.parquet(*[f"{landing}/{f}" for f in files])
write_mode = "overwrite" if mode == "full" else "append"
source.write.format("delta").mode(write_mode).save(f"{out}/bronze")
(source.where("status = 'PAID' AND amount > 0")
 .selectExpr("order_id", "customer_id", "amount", "country", "ts",
             "amount * 1.2 AS amount_with_tax", "date(ts) AS order_date")
 .write.format("delta").mode(write_mode).save(f"{out}/silver"))
spark.stop(); server.stop()
"""


def update_seconds(output: str) -> float:
    match = re.search(r"Update \S+ COMPLETED in ([\d.]+)s", output)
    if not match:
        raise RuntimeError(f"no update summary in output:\n{output[-2000:]}")
    return float(match.group(1))


def lakesmith_run(project: Path, *args: str) -> tuple[float, float]:
    start = time.perf_counter()
    result = subprocess.run([PYTHON, "-m", "lakesmith", "run", *args], cwd=project,
                            capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(result.stdout[-3000:] + result.stderr[-3000:])
    return wall, update_seconds(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--new", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from datagen import write_orders

    work = Path(tempfile.mkdtemp(prefix="lakesmith-bench-stream-"))
    landing = work / "landing"
    with embedded_spark() as (_, spark):
        print(f"generating {args.rows:,} orders (seed {args.seed}) in {landing} ...")
        write_orders(spark, str(landing), 0, args.rows, seed=args.seed)
        project = work / "project"
        (project / "transformations").mkdir(parents=True)
        (project / "spark-pipeline.yml").write_text(
            f"name: bench\nstorage: storage\nconfiguration:\n  landing: {landing}\n"
            "libraries:\n  - glob:\n      include: transformations/**\n")
        (project / "transformations" / "orders.py").write_text(PIPELINE)
        floor_script = work / "floor.py"
        floor_script.write_text(FLOOR)

        full_wall, full_update = Measurement("full: lakesmith run (wall)"), Measurement(
            "full: update only")
        new_wall, new_update = Measurement("100k new: lakesmith run (wall)"), Measurement(
            "100k new: update only")
        none_wall, none_update = Measurement("nothing new: lakesmith run (wall)"), Measurement(
            "nothing new: update only")
        floor_full, floor_new = Measurement("full: engine floor (wall)"), Measurement(
            "100k new: engine floor (wall)")
        next_id = args.rows
        lakesmith_run(project)  # first run: creates the tables and checkpoints
        for _ in range(args.runs):
            wall, update = lakesmith_run(project, "--full-refresh-all")
            full_wall.seconds.append(wall)
            full_update.seconds.append(update)
            floor_full.seconds.append(time_command(
                [PYTHON, str(floor_script), str(landing), str(work / "floor"), "full"], cwd=work))
            write_orders(spark, str(landing), next_id, args.new, chunk=args.new, seed=args.seed)
            next_id += args.new
            wall, update = lakesmith_run(project)
            new_wall.seconds.append(wall)
            new_update.seconds.append(update)
            floor_new.seconds.append(time_command(
                [PYTHON, str(floor_script), str(landing), str(work / "floor"), "new"], cwd=work))
            wall, update = lakesmith_run(project)
            none_wall.seconds.append(wall)
            none_update.seconds.append(update)

        rows = [full_wall, full_update, floor_full, new_wall, new_update, floor_new, none_wall,
                none_update]
        print(f"\nStreaming bronze -> silver over {args.rows:,} rows; medians of {args.runs} runs")
        print(f"{'':<36}{'median s':>10}{'min s':>9}{'max s':>9}")
        for m in rows:
            print(f"{m.name:<36}{m.median:>10.2f}{min(m.seconds):>9.2f}{max(m.seconds):>9.2f}")
        print()
        print(f"100k new / full, wall:          {new_wall.median / full_wall.median:6.1%}  (target <= 15%)")
        print(f"100k new / full, update only:   {new_update.median / full_update.median:6.1%}")
        print(f"nothing new, wall:              {none_wall.median:6.2f}s (target <= 1.5s)")
        print(f"full vs engine floor:           {full_wall.median / floor_full.median:6.2f}x")
        print(f"100k new vs engine floor:       {new_wall.median / floor_new.median:6.2f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
