"""Benchmark: Auto Loader (`cloudFiles`) ingest of a landing folder of JSON-lines events.

The landing folder holds --files files of --events events each (`datagen.write_events`: nested
customer struct, an items array, ~2 % repeated ids, some null ids and negative amounts). Each
case is a fresh process; medians of --runs:

  inferred      a bronze streaming table reads the folder with the schema inferred (the
                Databricks default: columns are strings, `_rescued_data` added), first run of a
                fresh project, every file: wall time of `lakesmith run` and the update's own
                duration
  given schema  the same with `.schema(EVENTS_DDL)` (no rescued data column by default)
  engine floor  the same read and write by hand on embedded Sail, in one process:
                `spark.read.schema(ddl).json(files)` and `spark.read.json(files)` (Sail's own
                inference, which types the columns) written to a Delta table; "update s" is the
                read and write alone, without starting the process and the engine. Sail infers
                from the first 1000 records of the whole read by default (Spark and Auto Loader
                read every record of the sample), so the floor of the inferred case is also
                given with `schemaInferMaxRecords` set past the record count (all records)
  listing       --small-files small files, already ingested: a run that finds nothing new vs
                a run that finds 1 new file (target: 1 new file costs <= 1.5 s more)

Peak MB is the RSS high-water mark of the process (Sail runs inside it). With --breakdown (on
by default) one more process times the engine queries an inferred-schema batch issues, one by
one, through lakesmith's own functions: where the gap to the floor comes from.

    python benchmarks/auto_loader.py [--files 20] [--events 100000] [--runs 3]
                                     [--small-files 10000] [--no-breakdown]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import PYTHON, Run, run_command
from datagen import EVENTS_DDL, write_events

os.environ.setdefault("RUST_LOG", "error")

PIPELINE = '''
from pyspark import pipelines as dp

@dp.table
def bronze_events():
    return (spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", "json"){schema}
            .load(spark.conf.get("landing")))
'''

FLOOR = """
import os, sys, time
os.environ.setdefault("RUST_LOG", "error")
from pysail.spark import SparkConnectServer
from pyspark.sql.connect.session import SparkSession
landing, out, ddl = sys.argv[1], sys.argv[2], sys.argv[3]
server = SparkConnectServer(ip="127.0.0.1", port=0); server.start(background=True)
host, port = server.listening_address
spark = SparkSession.builder.remote(f"sc://{host}:{port}").create()
start = time.perf_counter()
paths = sorted(os.path.join(landing, f) for f in os.listdir(landing))
if ddl == "ALL":  # Sail's inference over every record (by default it reads the first 1000)
    reader = spark.read.option("schemaInferMaxRecords", 2**62)
else:
    reader = spark.read.schema(ddl) if ddl else spark.read
reader.json(paths).write.format("delta").mode("overwrite").save(out)
print(f"seconds={time.perf_counter() - start:.3f}")
spark.stop(); server.stop()
"""

BREAKDOWN = """
import os, sys, time
os.environ.setdefault("RUST_LOG", "error")
from pysail.spark import SparkConnectServer
from pyspark.sql.connect.session import SparkSession
from pyspark.sql.types import StructType
from lakesmith.locations import Location
from lakesmith.sources.files import formats
from lakesmith.sources.files.formats.file_table import file_contents
from lakesmith.sources.files.formats.json_format import json_records
from lakesmith.sources.files.formats.lines import records_of
from lakesmith.sources.files.formats.records import RECORD
from lakesmith.sources.files.inputs import InputFile
landing, out, ddl = sys.argv[1], sys.argv[2], sys.argv[3]
server = SparkConnectServer(ip="127.0.0.1", port=0); server.start(background=True)
host, port = server.listening_address
spark = SparkSession.builder.remote(f"sc://{host}:{port}").create()
paths = sorted(os.path.join(landing, f) for f in os.listdir(landing))
files = []
for p in paths:
    st = os.stat(p)
    files.append(InputFile(Location.local(p), st.st_size, st.st_mtime_ns // 1_000_000))
def timed(name, action):
    start = time.perf_counter()
    result = action()
    print(f"step {name}={time.perf_counter() - start:.3f}", flush=True)
    return result
W = "bench"
timed("engine: binaryFile scan of the files", lambda: spark.read.format("binaryFile").load(paths)
      .selectExpr("sum(length(content)) AS n").collect())
timed("engine: binaryFile scan, duplicates dropped by path", lambda: spark.read
      .format("binaryFile").load(paths).dropDuplicates(["path"])
      .selectExpr("sum(length(content)) AS n", "count(*) AS files").collect())
timed("lakesmith: file_contents (scan + join to the file table)",
      lambda: file_contents(spark, files, [], where=W).selectExpr("sum(length(__ls_content))")
      .collect())
def records():
    return json_records(records_of(spark, files, [], whole=False, line_sep=None, where=W),
                        formats.ReadSpec("json", {}, StructType(), where=W))
timed("lakesmith: records (lines of large files by the text reader)",
      lambda: records().selectExpr(f"count({RECORD})").collect())
timed("engine: spark.read.json schema from every record", lambda: spark.read
      .option("schemaInferMaxRecords", 2**62).json(paths).schema)
inferred = timed("lakesmith: infer_schema (json, strings)", lambda: formats.infer_schema(
    spark, files, "json", {}, infer_column_types=False, where=W))
spec = formats.ReadSpec("json", {}, inferred, StructType(), "_rescued_data", False, W)
timed("lakesmith: new_columns (addNewColumns check)",
      lambda: formats.new_columns(spark, files, spec))
timed("lakesmith: read_files inferred -> Delta", lambda: formats.read_files(spark, files, spec)
      .write.format("delta").mode("overwrite").save(out + "/inferred"))
plain = formats.ReadSpec("json", {}, inferred, StructType(), None, False, W)
timed("lakesmith: read_files inferred, no rescued column -> Delta", lambda: formats.read_files(
    spark, files, plain).write.format("delta").mode("overwrite").save(out + "/plain"))
timed("engine: top-level keys of every record -> Delta", lambda: records()
    .selectExpr(f"json_object_keys({RECORD}) AS k").write.format("delta").mode("overwrite")
    .save(out + "/keys"))
given = formats.ReadSpec("json", {}, spark._parse_ddl(ddl), StructType(), None, False, W)
timed("lakesmith: read_files schema -> Delta", lambda: formats.read_files(spark, files, given)
      .write.format("delta").mode("overwrite").save(out + "/schema"))
timed("engine: read.schema(ddl).json -> Delta", lambda: spark.read.schema(ddl).json(paths)
      .write.format("delta").mode("overwrite").save(out + "/floor"))
spark.stop(); server.stop()
"""


@dataclass
class Case:
    name: str
    wall: list[float] = field(default_factory=list)
    update: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, run: Run, update: float) -> None:
        self.wall.append(run.seconds)
        self.update.append(update)
        self.peak_mb.append(run.peak_mb)
        self.cpu.append(run.cpu_s)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def update_seconds(output: str) -> float:
    match = re.search(r"Update \S+ COMPLETED in ([\d.]+)s", output)
    if not match:
        raise RuntimeError(f"no update summary in output:\n{output[-2000:]}")
    return float(match.group(1))


def make_project(parent: Path, landing: Path, schema: str | None) -> Path:
    project = parent
    (project / "transformations").mkdir(parents=True, exist_ok=True)
    (project / "spark-pipeline.yml").write_text(
        f"name: bench\nstorage: storage\nconfiguration:\n  landing: {landing}\n"
        "libraries:\n  - glob:\n      include: transformations/**\n")
    reader = f'\n            .schema("{schema}")' if schema else ""
    (project / "transformations" / "bronze.py").write_text(PIPELINE.format(schema=reader))
    return project


def lakesmith_run(project: Path, *, fresh: bool) -> tuple[Run, float]:
    if fresh:  # the first run of the project: no tables, no checkpoint, no stored schema
        shutil.rmtree(project / "storage", ignore_errors=True)
        shutil.rmtree(project / "warehouse", ignore_errors=True)
    run = run_command([PYTHON, "-m", "lakesmith", "run"], cwd=project)
    return run, update_seconds(run.stdout)


def floor_run(script: Path, landing: Path, out: Path, ddl: str) -> tuple[Run, float]:
    shutil.rmtree(out, ignore_errors=True)
    run = run_command([PYTHON, str(script), str(landing), str(out), ddl], cwd=script.parent)
    match = re.search(r"seconds=([\d.]+)", run.stdout)
    assert match, run.stdout
    return run, float(match.group(1))


def bronze_table(project: Path) -> Path:
    return project / "warehouse" / "spark_catalog" / "default" / "bronze_events"


def delta_rows(path: Path) -> int:
    from deltalake import DeltaTable

    return int(DeltaTable(str(path)).to_pyarrow_dataset().count_rows())


def check_rows(tables: dict[str, Path], expected: int) -> list[str]:
    """What each table holds against what it should: the lines to report, if any differ."""
    wrong = []
    for name, path in tables.items():
        rows = delta_rows(path)
        if rows != expected:
            wrong.append(f"{name}: {rows:,} rows, expected {expected:,} "
                         f"({rows - expected:+,})")
    return wrong


def print_results(title: str, cases: list[Case], floors: dict[str, Case]) -> None:
    print(f"\n{title}")
    print(f"{'case':<44}{'wall s':>8}{'(min-max)':>14}{'update s':>10}{'cpu s':>8}{'peak MB':>9}"
          f"{'wall/floor':>12}{'update/floor':>14}{'cpu/floor':>11}")
    for case in cases:
        floor = floors.get(case.name)
        wall, update, cpu = median(case.wall), median(case.update), median(case.cpu)
        span = f"{min(case.wall):.2f}-{max(case.wall):.2f}"
        ratios = ""
        if floor is not None and floor is not case:
            ratios = (f"{wall / median(floor.wall):>11.2f}x"
                      f"{update / median(floor.update):>13.2f}x"
                      f"{cpu / median(floor.cpu):>10.2f}x")
        peak = f"{median(case.peak_mb):>9.0f}" if case.peak_mb else f"{'':>9}"
        print(f"{case.name:<44}{wall:>8.2f}{span:>14}{update:>10.2f}{cpu:>8.2f}{peak}{ratios}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small-files", type=int, default=10_000,
                        help="files of the listing case (0: skip it)")
    parser.add_argument("--small-events", type=int, default=10,
                        help="events per file of the listing case")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-breakdown", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lakesmith-bench-autoloader-"))
    try:
        landing = work / "landing"
        start = time.perf_counter()
        write_events(landing, 0, args.files, args.events, seed=args.seed)
        size = sum(p.stat().st_size for p in landing.iterdir())
        total = args.files * args.events
        print(f"generated {args.files} files x {args.events:,} events = {total:,} events, "
              f"{size / 1e6:,.0f} MB (seed {args.seed}) in {time.perf_counter() - start:.1f}s; "
              f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
        inferred_project = make_project(work / "inferred", landing, None)
        schema_project = make_project(work / "schema", landing, EVENTS_DDL)
        floor_script = work / "floor.py"
        floor_script.write_text(FLOOR)

        inferred = Case("lakesmith, schema inferred (strings, rescue)")
        given = Case("lakesmith, .schema(ddl)")
        floor_infer = Case("engine floor, spark.read.json (Sail infers)")
        floor_all = Case("engine floor, spark.read.json, all records")
        floor_schema = Case("engine floor, spark.read.schema(ddl).json")
        for i in range(args.runs):
            inferred.add(*lakesmith_run(inferred_project, fresh=True))
            given.add(*lakesmith_run(schema_project, fresh=True))
            floor_infer.add(*floor_run(floor_script, landing, work / "floor-infer", ""))
            floor_all.add(*floor_run(floor_script, landing, work / "floor-all", "ALL"))
            floor_schema.add(*floor_run(floor_script, landing, work / "floor-schema", EVENTS_DDL))
            print(f"run {i + 1}: inferred {inferred.wall[-1]:.2f}s, schema {given.wall[-1]:.2f}s, "
                  f"floor (infer) {floor_infer.wall[-1]:.2f}s, "
                  f"floor (infer, all records) {floor_all.wall[-1]:.2f}s, "
                  f"floor (schema) {floor_schema.wall[-1]:.2f}s", flush=True)
        wrong = check_rows({inferred.name: bronze_table(inferred_project),
                            given.name: bronze_table(schema_project),
                            floor_infer.name: work / "floor-infer",
                            floor_all.name: work / "floor-all",
                            floor_schema.name: work / "floor-schema"}, total)

        cases = [inferred, given, floor_infer, floor_all, floor_schema]
        floors = {inferred.name: floor_infer, given.name: floor_schema}
        fair = Case(inferred.name + " vs all records", inferred.wall, inferred.update,
                    inferred.peak_mb, inferred.cpu)

        listing: list[Case] = []
        if args.small_files:
            small = work / "small-landing"
            write_events(small, 0, args.small_files, args.small_events, seed=args.seed)
            small_project = make_project(work / "small", small, None)
            first = Case(f"{args.small_files:,} small files: first ingest")
            first.add(*lakesmith_run(small_project, fresh=True))
            nothing = Case(f"{args.small_files:,} ingested: nothing new")
            one = Case(f"{args.small_files:,} ingested: 1 new file")
            for i in range(args.runs):
                nothing.add(*lakesmith_run(small_project, fresh=False))
                write_events(small, args.small_files + i, 1, args.small_events, seed=args.seed)
                one.add(*lakesmith_run(small_project, fresh=False))
            wrong += check_rows({one.name: bronze_table(small_project)},
                                (args.small_files + args.runs) * args.small_events)
            listing = [first, nothing, one]

        print_results(f"Auto Loader JSON ingest of {total:,} events in {args.files} files "
                      f"({size / 1e6:,.0f} MB); medians of {args.runs} runs, fresh processes",
                      cases, floors)
        print_results("The inferred case against the floor that infers from every record",
                      [fair, floor_all], {fair.name: floor_all})
        if listing:
            print_results(f"Incremental listing: {args.small_files:,} files of "
                          f"{args.small_events} events already ingested", listing, {})
            extra_wall = median(one.wall) - median(nothing.wall)
            extra_update = median(one.update) - median(nothing.update)
            print(f"1 new file - nothing new: wall {extra_wall:+.2f}s, update {extra_update:+.2f}s"
                  "  (target <= +1.5s)")

        print(f"load average at the end {os.getloadavg()[0]:.2f}")
        for line in wrong:
            print(f"WRONG ROW COUNT: {line}")
        if not args.no_breakdown:
            script = work / "breakdown.py"
            script.write_text(BREAKDOWN)
            run = run_command([PYTHON, str(script), str(landing), str(work / "breakdown"),
                               EVENTS_DDL], cwd=work)
            print(f"\nWhere an inferred-schema batch spends its time (one process, "
                  f"{args.files} files, engine queries one by one)")
            for name, seconds in re.findall(r"step (.+)=([\d.]+)", run.stdout):
                print(f"  {name:<62}{float(seconds):>8.2f}s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
