"""The engine floor of each Auto Loader bronze flow of the medallion example, per batch: the
newest landing file read and appended to a copy of the flow's table, by lakesmith's read and by
hand on the same embedded engine, and where lakesmith's extra time goes (its read with one piece
left out at a time). Prints a table per flow and JSON on its last line.

    python benchmarks/bronze_floor.py PROJECT [--rounds 5]

PROJECT is the medallion benchmark's base after a full update and one more landing file (what
`/work/prompts/tools/plus5.sh` leaves in `/tmp/p5-NAME/base`): `landing/{orders,customers}`,
`lakesmith/` with the flows' checkpoints (the stored schemas) and tables (their Delta logs).

Each variant's write is an append of the batch's rows (the flow's `select("*",
_metadata.file_path, current_timestamp())`) to a fresh copy of the table's log; the variants run
in turn, round after round, in one process (the first round is a warm-up). Measured: wall and
CPU seconds of the process (the engine's threads included) per write, medians, and the time the
engine takes to plan the query (`explain`: its analysis, optimization and physical plan).

- `lakesmith`: the batch's read as the flow makes it: plain records (`formats/plain_json.py`:
  each column's text as written, one test per record that it is plain), `_metadata`;
- `full read`: the read with Spark's full semantics, which a batch holding a record that is not
  plain gets (PERMISSIVE records, `_rescued_data`, the new-field guard of `addNewColumns`);
- `no guard` / `no rescued` / `no _metadata`: the full read without that piece;
- `floor`: the file as text, `get_json_object` of each stored column (the text as written),
  `_source_file` as a literal, `current_timestamp()` (what a hand-written job would write,
  without rescued data, corrupt records or schema evolution);
- `floor from_json`: the text parsed by `from_json` with the stored schema (Spark's answer
  differs: numbers re-serialized, `127.50` is `127.5`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("RUST_LOG", "error")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.medallion_floor import start  # noqa: E402

FLOWS = {"bronze_orders": "orders", "bronze_customers": "customers"}


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def stored_schema(project: Path, flow: str) -> Any:
    """The newest schema the flow's Auto Loader source stored in its checkpoint."""
    from lakesmith.locations import Location
    from lakesmith.sources.files.schema_location import SchemaLocation

    for folder in (project / "lakesmith" / "pipeline-storage" / "checkpoints").glob(
            f"*.{flow}/{flow}/sources/*/schema"):
        latest = SchemaLocation(Location.local(folder)).latest()
        if latest is not None:
            return latest[1].data
    raise SystemExit(f"{project}: no stored schema for {flow}; run a full update first.")


def variants(spark: Any, path: Path, schema: Any, flow: str) -> dict[str, Callable[[], Any]]:
    from pyspark.sql import functions as F

    from lakesmith.locations import Location
    from lakesmith.sources.files.formats.read import read_files
    from lakesmith.sources.files.formats.spec import NewFieldGuard, PlainRecords, ReadSpec
    from lakesmith.sources.files.inputs import InputFile

    stat = path.stat()
    files = [InputFile(Location.local(path), stat.st_size, int(stat.st_mtime * 1000))]
    spec = ReadSpec(format="json", options={}, schema=schema, rescued_data_column="_rescued_data",
                    with_metadata=True, where=flow, unchecked_utf8=True,
                    new_field_guard=NewFieldGuard.for_source(flow))
    names = [f.name for f in schema.fields]

    def bronze(read: ReadSpec) -> Callable[[], Any]:
        def make() -> Any:
            df = read_files(spark, files, read)
            source = F.col("_metadata.file_path") if read.with_metadata else F.lit(str(path))
            return df.select(*[c for c in df.columns if c != "_metadata"],
                             source.alias("_source_file"),
                             F.current_timestamp().alias("_ingested_at"))
        return make

    def floor() -> Any:
        return spark.read.text(str(path)).select(
            *[F.get_json_object("value", f"$['{n}']").alias(n) for n in names],
            F.lit(f"file:{path}").alias("_source_file"),
            F.current_timestamp().alias("_ingested_at"))

    def floor_from_json() -> Any:
        ddl = ", ".join(f"`{n}` string" for n in names)
        return spark.read.text(str(path)).select(F.from_json("value", ddl).alias("j")).select(
            "j.*", F.lit(f"file:{path}").alias("_source_file"),
            F.current_timestamp().alias("_ingested_at"))

    return {"lakesmith": bronze(replace(spec, plain_records=PlainRecords.for_source(flow))),
            "full read": bronze(spec),
            "no guard": bronze(replace(spec, new_field_guard=None)),
            "no rescued": bronze(replace(spec, rescued_data_column=None)),
            "no _metadata": bronze(replace(spec, with_metadata=False)),
            "floor": floor,
            "floor from_json": floor_from_json}


def planning_seconds(make: Callable[[], Any]) -> float:
    df = make()
    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        df.explain()
    return time.perf_counter() - began


def measure(spark: Any, project: Path, flow: str, rounds: int) -> dict[str, Any]:
    folder = project / "landing" / FLOWS[flow]
    path = max(folder.glob("*.json"), key=lambda p: p.name)
    (log,) = (project / "lakesmith" / "warehouse").glob(f"**/{flow}/_delta_log")
    cases = variants(spark, path, stored_schema(project, flow), flow)
    runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in cases}
    scratch = Path(tempfile.mkdtemp(prefix="bronze-floor-"))
    try:
        for round_number in range(rounds + 1):
            for name, make in cases.items():
                table = scratch / f"{len(os.listdir(scratch))}"
                shutil.copytree(log, table / "_delta_log")
                plan = planning_seconds(make)
                began, cpu = time.perf_counter(), process_cpu()
                make().write.format("delta").mode("append").option("mergeSchema", "true") \
                    .save(str(table))
                if round_number:  # the first round warms the process up
                    runs[name].append((time.perf_counter() - began, process_cpu() - cpu, plan))
                shutil.rmtree(table)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines = sum(1 for _ in path.open("rb"))
    print(f"\n{flow}: {path.name} ({path.stat().st_size / 1e6:.1f} MB, {lines} lines), "
          f"{rounds} rounds, load {os.getloadavg()[0]:.1f}")
    print(f"{'variant':<18}{'wall s':>9}{'cpu s':>9}{'plan s':>9}")
    result = {}
    for name, values in runs.items():
        wall, cpu, plan = (statistics.median(v[i] for v in values) for i in range(3))
        print(f"{name:<18}{wall:>9.3f}{cpu:>9.3f}{plan:>9.3f}")
        result[name] = {"wall_s": round(wall, 4), "cpu_s": round(cpu, 4), "plan_s": round(plan, 4)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    spark, server = start("sail")
    try:
        results = {flow: measure(spark, args.project, flow, args.rounds) for flow in FLOWS}
    finally:
        spark.stop()  # type: ignore[attr-defined]
        server.stop()  # type: ignore[attr-defined]
    print(json.dumps({"load": round(os.getloadavg()[0], 2), "flows": results}))


if __name__ == "__main__":
    main()
