"""The progress display: a running flow's elapsed time moves on every frame (it was frozen at
0.0s), and a continuous update's idle cycles are one line, not a screenful each."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

import lakesmith.runtime.progress as progress
from lakesmith.runtime.events import FlowMetrics, FlowStatus


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def graph():
    return SimpleNamespace(dataset=lambda target: SimpleNamespace(name=str(target)))


def render(display: progress.ConsoleProgress) -> str:
    out = io.StringIO()
    Console(file=out, width=200).print(display.__rich__())
    return out.getvalue()


def test_a_running_flows_elapsed_time_counts_from_its_start(monkeypatch) -> None:
    clock = Clock()
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    display = progress.ConsoleProgress(Console(file=io.StringIO()), graph())
    flow = SimpleNamespace(name="silver", target="silver")
    display.flow_progress(flow, FlowStatus.STARTING)
    clock.now = 101.0
    display.flow_progress(flow, FlowStatus.RUNNING)
    clock.now = 110.0  # a batch committed: RUNNING again, with metrics
    display.flow_progress(flow, FlowStatus.RUNNING, FlowMetrics(num_output_rows=5, batches=1))
    clock.now = 137.0
    assert "37.0s" in render(display)  # each frame computes the time again
    clock.now = 140.5
    assert "40.5s" in render(display)


def test_idle_cycles_of_a_continuous_update_are_one_line() -> None:
    out = io.StringIO()
    display = progress.ConsoleProgress(Console(file=out, width=200), graph(), continuous=True)
    for cycle in (2, 3, 4):
        display.cycle_finished(cycle, idle=True)
    display.cycle_finished(5, idle=False)
    display.cycle_finished(6, idle=True)
    display.cycle_finished(7, idle=True)
    lines = [line.split(" ", 1)[1] for line in out.getvalue().splitlines()]
    assert lines == ["Cycle 2: no new data; waiting for more.",
                     "Cycle 6: no new data; waiting for more."]
    assert "cycle 8 · no new data since" in render(display)
