"""Shared helpers for lakesmith's benchmarks: timing commands in fresh processes and printing a
table of results with ratios against a baseline."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def compile_lakesmith() -> None:
    """lakesmith's modules compiled to bytecode before cold processes are timed, as an installed
    package has them (pip compiles at install; a checkout writes them on its first run). Where
    PYTHONDONTWRITEBYTECODE is set (this machine sets it), every cold process would otherwise
    compile the ~250 modules it imports: about 0.3 s of each run, not lakesmith's cost."""
    import compileall

    compileall.compile_dir(str(REPO / "src" / "lakesmith"), quiet=1)


@contextmanager
def embedded_spark() -> Iterator[tuple[str, Any]]:
    """An embedded Sail server and a session on it: (its sc:// url, the session)."""
    os.environ.setdefault("RUST_LOG", "error")
    from pysail.spark import SparkConnectServer
    from pyspark.sql.connect.session import SparkSession

    from lakesmith.engine.runtime_workers import give_engine_spare_workers

    give_engine_spare_workers()  # the engine as lakesmith sizes it
    server = SparkConnectServer()
    server.start(background=True)
    host, port = server.listening_address
    url = f"sc://{host}:{port}"
    spark = SparkSession.builder.remote(url).create()
    try:
        yield url, spark
    finally:
        spark.stop()
        server.stop()


@dataclass
class Measurement:
    name: str
    seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def time_command(argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None,
                 setup: object = None) -> float:
    """Wall time of one run of `argv` in a fresh process; raises if it fails."""
    start = time.perf_counter()
    result = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n"
                           f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return elapsed


@dataclass
class Run:
    """One finished command: wall seconds, the peak RSS of its process tree, its output."""

    seconds: float
    peak_mb: float
    stdout: str
    cpu_s: float = 0.0  # user + system CPU seconds of the process and the children it waited for


def run_command(argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `argv` in a fresh process; raises if it fails. The peak memory is the RSS high-water
    mark of the process and the descendants it waited for (`wait4`'s rusage: Linux reports the
    larger of the child's own and its children's maxrss)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(argv), cwd=cwd, stdout=out, stderr=err, text=True,
                                   env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}):\n"
                           f"{stdout[-2000:]}\n{stderr[-4000:]}")
    peak_kb = usage.ru_maxrss  # kilobytes on Linux
    return Run(elapsed, peak_kb / 1024, stdout, usage.ru_utime + usage.ru_stime)


def print_table(title: str, rows: list[Measurement], baseline: str) -> None:
    base = next(m for m in rows if m.name == baseline).median
    print(f"\n{title}")
    print(f"{'':<34}{'median s':>10}{'min s':>9}{'max s':>9}{'runs':>6}  {'vs ' + baseline}")
    for m in rows:
        ratio = m.median / base if base else float("nan")
        print(f"{m.name:<34}{m.median:>10.2f}{min(m.seconds):>9.2f}{max(m.seconds):>9.2f}"
              f"{len(m.seconds):>6}  {ratio:.2f}x")
