"""Benchmark: the medallion example (`examples/medallion`) with lakesmith, against the engine
floor and against Apache Spark 4.3.

    python -m benchmarks.medallion --events 1000000 [--files 20] [--work DIR] [--no-spark]

Each case is one cold process (wall time, and the peak RSS summed over its process tree, the
engine included):
- lakesmith: the full update, then after one more landing file (5 % new events), then with
  nothing new; the update's own time and each flow's time from the event log;
- the engine floor: the same transformations hand-written as plain PySpark on embedded Sail
  (`benchmarks/medallion_floor.py`);
- Apache Spark 4.3's `spark-pipelines` on the pipeline written with `pyspark.pipelines`
  (`benchmarks/medallion_spark/`: Parquet tables, no expectations, SCD type 2 as a materialized
  view; see that file), full / 5 % / nothing new; and classic Spark local mode running the floor.
  Skipped when the reference install (`benchmarks/setup_spark_reference.sh`) or Java is missing.
Each system's cases run back to back, each on its own landing folder (the same files), lakesmith's
first; before each case the system's code and project are read into the page cache (`warm`) and
the machine is left to settle (`settle`). The landing data is generated once per size under the
work folder and reused. Results are printed
as a table and written as JSON (`--json`, default `<work>/medallion-<events>.json`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import compile_lakesmith

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = REPO / "src" / "lakesmith" / "templates" / "medallion"
SPARK_PROJECT = Path(__file__).resolve().parent / "medallion_spark"
FLOOR = Path(__file__).resolve().parent / "medallion_floor.py"
COLD_START = Path(__file__).resolve().parent / "medallion_cold_start.py"
SPARK_REF_VENV = Path(os.environ.get("SPARK_REF_VENV", "/work/spark-ref/venv"))


@dataclass
class Case:
    """One measured process."""

    name: str
    wall_s: float
    peak_rss_mb: float
    update_s: float | None = None  # lakesmith: INITIALIZING to the end, as Databricks counts
    initializing_s: float | None = None  # lakesmith: the update's INITIALIZING part
    flows_s: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    # CPU seconds (user + system) of the process and the children it waited for: on a loaded
    # machine wall time measures the load as much as the work; this does not.
    cpu_s: float | None = None


def _tree_rss_kb(root: int) -> int:
    """RSS of a process and all its descendants, from /proc (kB)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as statm:
                pages = int(statm.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


class CaseFailed(RuntimeError):
    """A measured process that did not complete: killed (by the memory cap or the system's
    out-of-memory killer) or failed; what it reached before is kept for the report."""

    def __init__(self, message: str, *, wall_s: float, peak_rss_mb: float) -> None:
        super().__init__(message)
        self.wall_s = wall_s
        self.peak_rss_mb = peak_rss_mb


def measure(argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 7200, rss_cap_mb: float | None = None,
            code: list[Path] | None = None) -> tuple[float, float, str, float]:
    """Run argv in a fresh process, once the machine is idle (`settle`): (wall seconds, peak
    tree RSS in MB, stdout, CPU seconds). With `rss_cap_mb`, the process tree is killed once its
    RSS passes the cap, before it can exhaust the machine's memory. Raises CaseFailed with the
    output's tail if it fails. `code`: the system's code, read into the page cache first
    (`warm`)."""
    if code:
        warm(code)
    settle()
    peak = [0]
    capped = threading.Event()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (cwd / ".bench-stdout").open("w+") as out, (cwd / ".bench-stderr").open("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err, text=True,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.1):
                peak[0] = max(peak[0], _tree_rss_kb(process.pid))
                if rss_cap_mb is not None and peak[0] / 1024 > rss_cap_mb and not capped.is_set():
                    capped.set()
                    os.killpg(process.pid, signal.SIGKILL)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            code = process.wait(timeout)
        finally:
            done.set()
            sampler.join()
        wall = time.perf_counter() - start
        _end_process_group(process.pid)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code != 0:
        if capped.is_set():
            why = f"killed at the benchmark's memory cap of {rss_cap_mb:,.0f} MB"
        elif code == -signal.SIGKILL:
            why = "killed by the system (out of memory)"
        else:
            why = f"failed ({code})"
        raise CaseFailed(f"{' '.join(argv)} {why} after {wall:.0f} s in {cwd}:\n"
                         f"{stdout[-3000:]}\n{stderr[-3000:]}", wall_s=wall,
                         peak_rss_mb=peak[0] / 1024)
    return wall, peak[0] / 1024, stdout, cpu


def _end_process_group(pgid: int, grace_s: float = 10.0) -> None:
    """Wait for what the measured process left running in its group (a Spark Connect server's
    JVM, a py4j gateway still shutting down) to end, killing it after `grace_s`: the next case
    is measured on a machine nothing of this one still uses."""
    deadline = time.monotonic() + grace_s
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return  # the group is empty
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            return
        time.sleep(0.05)


def _cpu_times() -> tuple[float, float]:
    """(idle, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [float(v) for v in stat.readline().split()[1:]]
    return fields[3] + fields[4], sum(fields)


def settle(limit_s: float = 10.0, window_s: float = 0.5, idle_share: float = 0.85) -> float:
    """Wait until the machine's CPUs are idle (`idle_share` of them over `window_s`), at most
    `limit_s`: what a case leaves behind in the kernel (reclaiming a JVM's gigabytes) is not
    charged to the next. The seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        idle0, total0 = _cpu_times()
        time.sleep(window_s)
        idle1, total1 = _cpu_times()
        if total1 > total0 and (idle1 - idle0) / (total1 - total0) >= idle_share:
            break
    return time.monotonic() - start


# The code each system loads, read into the page cache before its cases (`warm`).
LAKESMITH_PACKAGES = ("pysail", "pyspark", "pandas", "numpy", "pyarrow", "deltalake", "grpc",
                      "google", "lakesmith")


def lakesmith_code() -> list[Path]:
    import importlib.util

    found = []
    for name in LAKESMITH_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found.extend(Path(p) for p in spec.submodule_search_locations)
    return found


def spark_code() -> list[Path]:
    java = shutil.which("java")
    return [*(SPARK_REF_VENV / "lib").glob("python3*/site-packages/pyspark"),
            *([Path(java).resolve().parents[1]] if java else [])]


def warm(roots: list[Path]) -> None:
    """Read every file under `roots` once, so a case starts with its system's code and its own
    project (tables, checkpoints) in the page cache, as on a machine that keeps what it wrote a
    minute ago. This machine pages out memory it has not touched for a while (DAMON's `pageout`
    scheme, /sys/kernel/mm/damon): after two minutes of Spark cases, lakesmith's +5 % update
    read its libraries and tables back from disk (0.56-0.66 s → 0.80-0.97 s, 1.7 → 2.1 CPU s).
    Spark's cases get the same."""
    for root in roots:
        for path in root.rglob("*") if root.is_dir() else [root]:
            if path.is_file() and not path.is_symlink():
                with contextlib.suppress(OSError), path.open("rb") as f:
                    while f.read(1 << 20):
                        pass


def generator() -> Any:
    sys.path.insert(0, str(REPO / "src"))
    from lakesmith.templates import load_generator

    return load_generator(TEMPLATE / "generate.py")


def landing_data(work: Path, events: int, files: int) -> Path:
    """The initial landing files for this size, generated once and reused."""
    data = work / f"data-{events}-{files}" / "landing"
    if not (data.parent / "complete").exists():
        shutil.rmtree(data.parent, ignore_errors=True)
        start = time.perf_counter()
        generator().generate(data, events=events, files=files)
        (data.parent / "complete").write_text(f"{time.perf_counter() - start:.1f}s\n")
    return data


def fresh_landing(source: Path, target: Path, *, only_new: bool = False) -> Path:
    """A landing folder of hard links to the initial files, so one more file can land in it;
    `only_new`: link the files of `source` that `target` lacks (the same +5 % file)."""
    for path in source.rglob("*.json"):
        link = target / path.relative_to(source)
        if only_new and link.exists():
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        os.link(path, link)
    return target


def lakesmith_project(root: Path, landing: Path) -> Path:
    """The example's Python pipeline, reading `landing`."""
    shutil.copytree(TEMPLATE / "transformations", root / "transformations",
                    ignore=shutil.ignore_patterns("__pycache__"))
    spec = (TEMPLATE / "spark-pipeline.yml").read_text()
    (root / "spark-pipeline.yml").write_text(
        spec.replace("medallion.landing: data/landing", f"medallion.landing: {landing}"))
    return root


def lakesmith_case(name: str, root: Path, rss_cap_mb: float | None = None) -> Case:
    wall, peak, stdout, cpu = measure([sys.executable, "-m", "lakesmith", "run"], cwd=root,
                                      env={"PYTHONPATH": str(REPO / "src")},
                                      rss_cap_mb=rss_cap_mb, code=[*lakesmith_code(), root])
    match = re.search(r"Update \S+ COMPLETED in ([\d.]+)s(?: \(initializing ([\d.]+)s\))?",
                      stdout)
    if not match:
        raise RuntimeError(f"no update summary in lakesmith's output:\n{stdout[-2000:]}")
    return Case(name, wall, peak, update_s=float(match.group(1)), flows_s=flow_times(root),
                cpu_s=cpu, initializing_s=float(match.group(2) or 0))


def flow_times(root: Path) -> dict[str, float]:
    """Each flow's duration in the newest update, from the event log's flow_progress events."""
    from lakesmith.locations import Location
    from lakesmith.runtime.eventlog_queries import read_events, updates

    events = read_events(Location.local(root / "pipeline-storage"))
    update_id = updates(events)[-1].update_id
    times: dict[str, float] = {}
    for event in events:
        if event["event_type"] != "flow_progress" or event["origin"]["update_id"] != update_id:
            continue
        metrics = event["details_json"]["flow_progress"].get("metrics") or {}
        if "duration_ms" in metrics:
            times[event["origin"]["flow_name"]] = metrics["duration_ms"] / 1000
    return times


def floor_case(name: str, landing: Path, out: Path, argv_prefix: list[str],
               env: dict[str, str] | None = None, engine: str = "sail",
               rss_cap_mb: float | None = None) -> Case:
    wall, peak, stdout, cpu = measure([*argv_prefix, str(FLOOR), str(landing), str(out),
                                       "--engine", engine], cwd=out.parent, env=env,
                                      rss_cap_mb=rss_cap_mb,
                                      code=[*(lakesmith_code() if engine == "sail" else
                                              spark_code()), out.parent])
    phases = json.loads(stdout.strip().splitlines()[-1])
    return Case(name, wall, peak, update_s=phases["work_s"], details=phases, cpu_s=cpu)


def spark_reference() -> dict[str, str] | None:
    """The environment that runs the Spark 4.3 reference, or None if it is not installed."""
    cli = SPARK_REF_VENV / "bin" / "spark-pipelines"
    site = next((SPARK_REF_VENV / "lib").glob("python3*/site-packages/pyspark"), None)
    if not cli.exists() or site is None or shutil.which("java") is None:
        return None
    return {"SPARK_HOME": str(site), "SPARK_LOCAL_IP": "127.0.0.1",
            "PATH": f"{SPARK_REF_VENV / 'bin'}:{os.environ['PATH']}"}


def isolated(argv: list[str]) -> list[str]:
    """Spark's local Connect server listens on the fixed port 15002 and its client connects there:
    in its own network namespace (when we may make one) runs never meet another user's server."""
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        return argv
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *argv]


def spark_project(root: Path, landing: Path) -> Path:
    shutil.copytree(SPARK_PROJECT / "transformations", root / "transformations",
                    ignore=shutil.ignore_patterns("__pycache__"))
    spec = (SPARK_PROJECT / "spark-pipeline.yml").read_text()
    (root / "spark-pipeline.yml").write_text(
        spec.replace("{storage}", (root / "storage").as_uri()).replace(
            "{landing}", landing.as_uri()))
    return root


def spark_pipelines_case(name: str, root: Path, env: dict[str, str],
                         rss_cap_mb: float | None = None) -> Case:
    wall, peak, stdout, cpu = measure(isolated([str(SPARK_REF_VENV / "bin" / "spark-pipelines"),
                                                "run"]), cwd=root, env=env,
                                      rss_cap_mb=rss_cap_mb, code=[*spark_code(), root])
    if "Run is COMPLETED" not in stdout:
        raise RuntimeError(f"spark-pipelines did not complete:\n{stdout[-3000:]}")
    return Case(name, wall, peak, cpu_s=cpu)


def add_peer(cases: list[Case], notes: list[str], name: str,
             measured: Callable[[str], Case]) -> bool:
    """Measure a comparison case (the floor, Spark) into `cases`. One that cannot complete at
    this size, such as the floor's `dropDuplicates` holding whole rows in memory at 20M events,
    is reported in the notes instead and the benchmark goes on (lakesmith's own cases must
    complete). Whether it completed."""
    try:
        cases.append(measured(name))
        return True
    except CaseFailed as failure:
        notes.append(f"{name} did not complete: {str(failure).splitlines()[0]} "
                     f"(peak RSS {failure.peak_rss_mb:,.0f} MB)")
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--work", type=Path, default=Path("/tmp/lakesmith-bench-medallion"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-spark", action="store_true", help="skip the Spark 4.3 cases")
    parser.add_argument("--memory-cap-mb", type=float, default=16384,
                        help="kill a case whose processes' RSS passes this (default 16 GiB), "
                             "before it exhausts the machine's memory")
    args = parser.parse_args()
    cap = args.memory_cap_mb
    os.environ.setdefault("RUST_LOG", "error")
    compile_lakesmith()
    args.work.mkdir(parents=True, exist_ok=True)
    initial = landing_data(args.work, args.events, args.files)
    run = args.work / f"run-{os.getpid()}"
    shutil.rmtree(run, ignore_errors=True)
    cases: list[Case] = []
    notes: list[str] = []
    cold_start: dict[str, Any] = {}
    try:
        # Each system's cases run back to back (its full update, +5 %, nothing new), on its own
        # landing folder (hard links to the same files): lakesmith's +5 % ÷ full compares two
        # updates run a few seconds apart, as Spark's do, not one run before and one after two
        # minutes of JVMs (which left the machine slower: every flow +40-60 %, more CPU).
        landing = fresh_landing(initial, run / "landing")
        lakesmith = lakesmith_project(run / "lakesmith", landing)
        (run / "floor").mkdir()
        add_peer(cases, notes, "engine floor (PySpark on Sail)", lambda name: floor_case(
            name, landing, run / "floor" / "out", [sys.executable], rss_cap_mb=cap))
        cases.append(lakesmith_case("lakesmith full", lakesmith, cap))
        generator().generate(landing, events=args.events, files=args.files, more=True)
        cases.append(lakesmith_case("lakesmith +5 % new data", lakesmith, cap))
        cases.append(lakesmith_case("lakesmith nothing new", lakesmith, cap))
        cold_start = json.loads(measure([sys.executable, str(COLD_START), str(lakesmith)],
                                        cwd=lakesmith, env={"PYTHONPATH": str(REPO / "src")},
                                        code=[*lakesmith_code(), lakesmith]
                                        )[2].strip().splitlines()[-1])
        reference = None if args.no_spark else spark_reference()
        if reference is not None:
            spark_landing = fresh_landing(initial, run / "spark-landing")
            spark = spark_project(run / "spark", spark_landing)
            # (its later updates only mean something after a full one)
            spark_ran = add_peer(cases, notes, "spark-pipelines 4.3 full",
                                 lambda name: spark_pipelines_case(name, spark, reference, cap))
            (run / "classic").mkdir()
            add_peer(cases, notes, "classic Spark 4.3 local, floor", lambda name: floor_case(
                name, spark_landing, run / "classic" / "out",
                isolated([str(SPARK_REF_VENV / "bin" / "python")]), reference, engine="classic",
                rss_cap_mb=cap))
            fresh_landing(landing, spark_landing, only_new=True)  # the same +5 % file
            if spark_ran:
                spark_ran = add_peer(cases, notes, "spark-pipelines 4.3 +5 % new data",
                                     lambda name: spark_pipelines_case(name, spark, reference,
                                                                       cap))
            if spark_ran:
                add_peer(cases, notes, "spark-pipelines 4.3 nothing new",
                         lambda name: spark_pipelines_case(name, spark, reference, cap))
            notes.append("Spark 4.3 cases write Parquet tables (Delta jars cannot be installed "
                         "here); spark-pipelines runs the pyspark.pipelines version "
                         "(benchmarks/medallion_spark/): no expectations (a filter), SCD type 2 "
                         "as a materialized view.")
        else:
            notes.append("Spark 4.3 cases skipped: " + ("--no-spark" if args.no_spark else
                         f"no reference install in {SPARK_REF_VENV} or no java"))
    finally:
        shutil.rmtree(run, ignore_errors=True)
    report(args, cases, notes, cold_start)


def _running(case: Case) -> float:
    """An update's time after INITIALIZING (setting up tables and running the flows)."""
    return (case.update_s or 0) - (case.initializing_s or 0)


def report(args: argparse.Namespace, cases: list[Case], notes: list[str],
           cold_start: dict[str, Any]) -> None:
    by_name = {case.name: case for case in cases}
    floor = by_name.get("engine floor (PySpark on Sail)")
    full = by_name["lakesmith full"]
    ratios: dict[str, float] = {}
    if floor is not None:
        ratios.update({"lakesmith_full_vs_floor_wall": full.wall_s / floor.wall_s,
                       "lakesmith_full_vs_floor_update": (full.update_s or 0)
                       / (floor.update_s or 1),
                       "lakesmith_full_vs_floor_cpu": (full.cpu_s or 0) / (floor.cpu_s or 1)})
    ratios.update({"plus5_vs_full_update": (by_name["lakesmith +5 % new data"].update_s or 0)
              / (full.update_s or 1),
              "plus5_vs_full_running": _running(by_name["lakesmith +5 % new data"])
              / (_running(full) or 1),
              "plus5_vs_full_wall": by_name["lakesmith +5 % new data"].wall_s / full.wall_s})
    for suffix in ("full", "+5 % new data", "nothing new"):
        spark = by_name.get(f"spark-pipelines 4.3 {suffix}")
        if spark is not None:
            ratios[f"spark_pipelines_vs_lakesmith_{suffix.replace(' ', '_')}_wall"] = (
                spark.wall_s / by_name[f"lakesmith {suffix}"].wall_s)
    classic = by_name.get("classic Spark 4.3 local, floor")
    if classic is not None and floor is not None:
        ratios["classic_floor_vs_sail_floor_wall"] = classic.wall_s / floor.wall_s
    load = os.getloadavg()
    print(f"\nmedallion example, {args.events:,} events in {args.files} files "
          f"(+5 %: one more file); load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on "
          f"{os.cpu_count()} cores")
    print(f"{'case':<40}{'wall s':>9}{'update s':>10}{'init s':>8}{'cpu s':>8}{'peak MB':>9}"
          "  vs floor (wall)")
    for case in cases:
        update = f"{case.update_s:.2f}" if case.update_s is not None else "-"
        init = f"{case.initializing_s:.2f}" if case.initializing_s is not None else "-"
        cpu = f"{case.cpu_s:.1f}" if case.cpu_s is not None else "-"
        versus = f"{case.wall_s / floor.wall_s:.2f}x" if floor is not None else "-"
        print(f"{case.name:<40}{case.wall_s:>9.2f}{update:>10}{init:>8}{cpu:>8}"
              f"{case.peak_rss_mb:>9.0f}  {versus}")
    print("(lakesmith's update s runs from INITIALIZING to the end, as Databricks counts an "
          "update; init s is its INITIALIZING part: loading the code, analysis, schema "
          "inference, planning)")
    print("\nper flow, seconds (event log)")
    flows = [c for c in cases if c.flows_s]
    names = sorted({name for c in flows for name in c.flows_s})
    print(f"{'flow':<26}" + "".join(f"{c.name.removeprefix('lakesmith '):>22}" for c in flows))
    for name in names:
        print(f"{name:<26}" + "".join(f"{c.flows_s.get(name, 0):>22.2f}" for c in flows))
    if cold_start:
        print("\na cold run with nothing new, piece by piece (medallion_cold_start.py)")
        for name, piece in cold_start["pieces"].items():
            print(f"  {name:<26}{piece['wall_s']:>8.2f} s wall{piece['cpu_s']:>8.2f} s cpu")
        requests = cold_start["engine_requests"]
        print(f"  engine round trips: {requests['analyze']['count']} analysis "
              f"({requests['analyze']['wall_s']:.2f} s), {requests['execute']['count']} execution "
              f"({requests['execute']['wall_s']:.2f} s); event log commits: "
              f"{cold_start['event_log_commits']}; engine started: "
              f"{'yes' if cold_start.get('engine_started') else 'no'}; full garbage "
              f"collections: {cold_start.get('gc_collections', ['-'] * 3)[2]}")
    print("\nratios")
    for key, value in ratios.items():
        print(f"  {key:<52}{value:.2f}")
    for note in notes:
        print(f"note: {note}")
    target = args.json or args.work / f"medallion-{args.events}.json"
    target.write_text(json.dumps({"events": args.events, "files": args.files,
                                  "load_average": load, "cores": os.cpu_count(),
                                  "cases": [asdict(c) for c in cases], "ratios": ratios,
                                  "cold_start": cold_start,
                                  "notes": notes}, indent=2))
    print(f"\nwritten: {target}")


if __name__ == "__main__":
    main()
