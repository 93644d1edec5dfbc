"""Where one update's time goes, flow by flow: run `lakesmith run` in-process once and print, per
flow, its wall time, its engine round trips (analysis and execution) with the seconds spent in
them, and the CPU seconds of its own Python thread; then the update's timeline with every round
trip (`--timeline`). Prints JSON on its last line.

    python benchmarks/profile_flows.py PROJECT_DIR [--timeline]

Round trips are counted on the thread that runs the flow (and, for expectation counts, on the
thread that evaluates them while the flow writes). To profile an update with 5 % new data, copy a
project after its full update, land one more file, and run this in the copy.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("RUST_LOG", "error")


@dataclass
class Call:
    kind: str  # "analyze" or "execute"
    thread: str
    start: float
    seconds: float
    where: str


@dataclass
class FlowSpan:
    thread: str
    start: float
    end: float | None = None
    cpu: float = 0.0
    calls: list[Call] = field(default_factory=list)


def _where() -> str:
    frames = [f for f in traceback.extract_stack()[:-2] if "/lakesmith/" in f.filename]
    return " < ".join(f"{os.path.basename(f.filename)}:{f.lineno}:{f.name}"
                      for f in reversed(frames[-3:]))


def record_calls(origin: float) -> list[Call]:
    """Wrap the Spark Connect client's analysis and execution requests to record each."""
    from pyspark.sql.connect.client.core import SparkConnectClient

    calls: list[Call] = []
    analyze = SparkConnectClient._analyze
    execute = SparkConnectClient._execute_and_fetch_as_iterator

    def timed_analyze(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return analyze(self, *args, **kwargs)
        finally:
            calls.append(Call("analyze", threading.current_thread().name, start - origin,
                              time.perf_counter() - start, _where()))

    def timed_execute(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        start = time.perf_counter()
        where = _where()
        try:
            yield from execute(self, *args, **kwargs)
        finally:
            calls.append(Call("execute", threading.current_thread().name, start - origin,
                              time.perf_counter() - start, where))

    SparkConnectClient._analyze = timed_analyze  # type: ignore[method-assign]
    SparkConnectClient._execute_and_fetch_as_iterator = timed_execute  # type: ignore[method-assign]
    return calls


class FlowTimes:
    """An update listener: when each flow starts and ends, and its thread's CPU time."""

    def __init__(self, origin: float) -> None:
        self.origin = origin
        self.flows: dict[str, FlowSpan] = {}
        self.marks: list[tuple[float, str]] = []
        self._cpu: dict[str, float] = {}

    def update_progress(self, state: Any, error: BaseException | None = None) -> None:
        self.marks.append((time.perf_counter() - self.origin, f"update {state.value}"))

    def flow_progress(self, flow: Any, status: Any, metrics: Any = None,
                      error: BaseException | None = None) -> None:
        now = time.perf_counter() - self.origin
        if status.value == "STARTING":
            self.flows[flow.name] = FlowSpan(threading.current_thread().name, now)
            self._cpu[flow.name] = time.thread_time()
        elif status.is_final and flow.name in self.flows:
            span = self.flows[flow.name]
            span.end = now
            span.cpu = time.thread_time() - self._cpu[flow.name]
        if status.value in ("STARTING", "COMPLETED", "FAILED"):
            self.marks.append((now, f"{flow.name} {status.value}"))


def main(project: Path, timeline: bool) -> None:
    origin = time.perf_counter()
    import pyspark.sql.connect.session  # noqa: F401

    calls = record_calls(origin)
    from lakesmith.pipeline import open_pipeline
    from lakesmith.project import find_spec

    times = FlowTimes(origin)
    with open_pipeline(find_spec(project)) as pipeline:
        before = len(calls)
        result = pipeline.run(pipeline.plan(), times)
    update_calls = calls[before:]
    for call in update_calls:
        for span in times.flows.values():
            mine = call.thread == span.thread or call.thread.startswith("expectations") \
                or call.thread.startswith(f"{span.thread}-")  # a writer alongside the output
            if mine and span.end is not None and span.start <= call.start <= span.end:
                span.calls.append(call)
    print(f"update {result.state.value} in {result.duration_seconds:.3f}s; "
          f"{len(update_calls)} engine round trips")
    print(f"{'flow':<26}{'wall s':>8}{'analysis':>10}{'execution':>11}{'engine s':>10}"
          f"{'python cpu s':>14}")
    summary: dict[str, Any] = {}
    for name, span in sorted(times.flows.items(), key=lambda item: item[1].start):
        if span.end is None:
            continue
        analyses = sum(1 for c in span.calls if c.kind == "analyze")
        executions = sum(1 for c in span.calls if c.kind == "execute")
        engine = sum(c.seconds for c in span.calls)
        print(f"{name:<26}{span.end - span.start:>8.3f}{analyses:>10}{executions:>11}"
              f"{engine:>10.3f}{span.cpu:>14.3f}")
        summary[name] = {"wall_s": round(span.end - span.start, 4), "analyze": analyses,
                         "execute": executions, "engine_s": round(engine, 4),
                         "python_cpu_s": round(span.cpu, 4)}
    if timeline:
        events = [(t, "", what) for t, what in times.marks] + [
            (c.start, c.thread, f"{c.kind:<8}{c.seconds:7.3f}s  {c.where}") for c in update_calls]
        for at, thread, what in sorted(events):
            print(f"{at:8.3f} {thread:<14} {what}")
    print(json.dumps({"state": result.state.value, "update_s": result.duration_seconds,
                      "round_trips": len(update_calls), "flows": summary}))


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), "--timeline" in sys.argv[2:])
