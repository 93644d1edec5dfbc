"""Live progress of an update in the terminal: a table of flows that updates in place on a
terminal, one line per change otherwise (CI logs, pipes), then a summary."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from lakesmith.runtime.events import IDLE, FlowMetrics, FlowStatus, UpdateState
from lakesmith.runtime.flow_quality import flow_quality

if TYPE_CHECKING:
    from rich.live import Live

_STYLE = {
    FlowStatus.QUEUED: "dim", FlowStatus.STARTING: "cyan", FlowStatus.RUNNING: "bold cyan",
    FlowStatus.COMPLETED: "green", FlowStatus.FAILED: "bold red", FlowStatus.SKIPPED: "yellow",
    FlowStatus.EXCLUDED: "dim", FlowStatus.STOPPED: "yellow",
}


class _FlowRow:
    def __init__(self, flow: Any) -> None:
        self.flow = flow
        self.status = FlowStatus.QUEUED
        self.metrics: FlowMetrics | None = None
        self.started: float | None = None
        self.error: BaseException | None = None


class ConsoleProgress:
    """An UpdateListener that shows progress on a rich Console."""

    def __init__(self, console: Console, graph: Any, *, continuous: bool = False) -> None:
        self.console = console
        self.graph = graph
        self.rows: dict[str, _FlowRow] = {}
        self.lock = threading.Lock()
        self.live: Live | None = None
        self.interactive = console.is_terminal
        self.continuous = continuous
        self._held: dict[str, list[str]] = {}
        self._idle_since: str | None = None  # a continuous update waiting for new data
        self._cycle = 1

    def __rich__(self) -> Table:
        # Live renders this on every refresh, so running flows' elapsed times keep moving.
        with self.lock:
            return self._table()

    def cycle_finished(self, cycle: int, *, idle: bool) -> None:
        """Idle cycles of a continuous update are one line (or the table's caption), not a
        screenful each: said once when the update starts waiting, again when data arrives."""
        self._cycle = cycle + 1
        if not idle:
            self._idle_since = None
            return
        if self._idle_since is None:
            self._idle_since = datetime.now().strftime("%H:%M:%S")
            if not self.interactive:
                self._line(f"Cycle {cycle}: no new data; waiting for more.")

    def update_progress(self, state: UpdateState, error: BaseException | None = None) -> None:
        if state == UpdateState.RUNNING and self.interactive:
            from rich.live import Live  # (a terminal only: not loaded for a pipe or a log)

            self.live = Live(self, console=self.console, refresh_per_second=8,
                             transient=True)
            self.live.start()
        elif state in (UpdateState.COMPLETED, UpdateState.FAILED, UpdateState.CANCELED):
            if self.live is not None:
                self.live.stop()
                self.live = None
        if state == UpdateState.STOPPING:
            self.console.print("[yellow]Stopping: no new flow or batch starts; running work is "
                               "interrupted. Press Ctrl-C again to abort at once.[/yellow]")
        elif not self.interactive:
            self._line(f"Update is {state.value}.")

    def flow_progress(self, flow: Any, status: FlowStatus, metrics: FlowMetrics | None = None,
                      error: BaseException | None = None) -> None:
        with self.lock:
            row = self.rows.setdefault(flow.name, _FlowRow(flow))
            if status == FlowStatus.STARTING or (status == FlowStatus.RUNNING and row.status
                                                 not in (FlowStatus.STARTING, FlowStatus.RUNNING)):
                row.started = time.perf_counter()  # per batch RUNNING reports keep the start
            row.status = status
            if metrics is not None:
                row.metrics = metrics
            row.error = error
        if self.interactive or status == FlowStatus.QUEUED:
            return
        suffix = ""
        if status == FlowStatus.COMPLETED and metrics is not None:
            suffix = f" ({_describe(metrics)}, {metrics.duration_seconds:.2f}s)"
        elif status == FlowStatus.RUNNING and metrics is not None and metrics.batches:
            suffix = f" ({_describe(metrics)})"
        line = f"Flow '{flow.name}' is {status.value}.{suffix}"
        if self.continuous:
            # A cycle's lines are printed when the flow's cycle ends, and not at all when the
            # flow had nothing to do (a continuous update would otherwise log every second).
            if not status.is_final:
                self._held.setdefault(flow.name, []).append(line)
                return
            held = self._held.pop(flow.name, [])
            if status == FlowStatus.COMPLETED and metrics is not None \
                    and metrics.details.get(IDLE):
                return
            for earlier in held:
                self._line(earlier)
        self._line(line)

    def _line(self, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self.console.print(f"[dim]{stamp}[/dim] {text}", highlight=False)

    def _table(self) -> Table:
        caption = None
        if self.continuous:
            caption = f"cycle {self._cycle}" + (
                f" · no new data since {self._idle_since}" if self._idle_since else "")
        table = Table(show_edge=False, box=None, pad_edge=False, caption=caption,
                      caption_justify="left")
        for column in ("flow", "dataset", "status", "batches", "rows in", "rows", "sources",
                       "time"):
            table.add_column(column, justify="left" if column in (
                "flow", "dataset", "status", "sources") else "right")
        for row in self.rows.values():
            if row.status == FlowStatus.EXCLUDED:
                continue
            elapsed = ""
            if row.metrics is not None and row.status.is_final:
                elapsed = f"{row.metrics.duration_seconds:.2f}s"
            elif row.started is not None:
                elapsed = f"{time.perf_counter() - row.started:.1f}s"
            metrics = row.metrics
            table.add_row(row.flow.name, self.graph.dataset(row.flow.target).name,
                          f"[{_STYLE[row.status]}]{row.status.value}[/]",
                          str(metrics.batches) if metrics and metrics.batches else "",
                          _input_rows(metrics), _rows(metrics), _versions(metrics), elapsed)
        return table


def _rows(metrics: FlowMetrics | None) -> str:
    if metrics is None or metrics.num_output_rows is None:
        return "-"
    return f"{metrics.num_output_rows:,}"


def _input_rows(metrics: FlowMetrics | None) -> str:
    if metrics is None or "num_input_rows" not in metrics.details:
        return ""
    rows = metrics.details["num_input_rows"]
    return "-" if rows is None else f"{rows:,}"


def _versions(metrics: FlowMetrics | None) -> str:
    """Source versions read, e.g. `bronze@3-5`."""
    if metrics is None:
        return ""
    parts = []
    for source, (first, last) in metrics.source_versions.items():
        name = source.rsplit("/", 1)[-1]
        parts.append(f"{name}@{first}" if first == last else f"{name}@{first}-{last}")
    return ", ".join(parts)


def _describe(metrics: FlowMetrics) -> str:
    """What a flow did, in a few words."""
    if metrics.details.get("up_to_date"):
        return "up to date"
    if "num_input_rows" not in metrics.details:
        if metrics.details.get("technique") == "GROUP_AGGREGATE":  # runtime/refresh/
            return f"{_rows(metrics)} rows (incremental: GROUP_AGGREGATE)"
        return f"{_rows(metrics)} rows"
    if not metrics.batches:
        return "no new data"
    if metrics.details["num_input_rows"] is None:  # files: counted as files, not rows
        files = sum(s.get("numFilesRead", 0) for s in metrics.details.get("sources", {}).values())
        read = f"{files:,} file{'s' * (files != 1)} in"
    else:
        read = f"{_input_rows(metrics)} rows in"
    text = (f"{metrics.batches} batch{'es' * (metrics.batches != 1)}, "
            f"{read}, {_rows(metrics)} rows out")
    versions = _versions(metrics)
    return f"{text}, read {versions}" if versions else text


def print_summary(console: Console, result: Any, graph: Any) -> None:
    """After an update: each flow's outcome, rows written, rows its expectations dropped and
    warned about, and time; then the quarantine tables that received rows and the update's state.
    A continuous update's summary covers all its cycles."""
    quality = {id(r): flow_quality(graph, r.planned.flow, r.metrics) for r in result.flows}
    checked = any(q is not None for q in quality.values())
    table = Table(title=None, show_edge=False, box=None, pad_edge=False)
    columns = ["dataset", "kind", "flow", "status", "batches", "rows in", "rows written"]
    columns += ["dropped", "warned"] if checked else []
    for column in [*columns, "time"]:
        table.add_column(column, justify="left" if column in (
            "dataset", "kind", "flow", "status") else "right")
    quarantined = []
    for flow_result in result.flows:
        flow = flow_result.planned.flow
        dataset = graph.dataset(flow.target)
        metrics = flow_result.metrics
        # A stopped flow of a continuous update still shows what its earlier cycles wrote.
        completed = flow_result.status in (FlowStatus.COMPLETED, FlowStatus.STOPPED)
        cells = [
            dataset.name, dataset.kind.label, flow.name,
            f"[{_STYLE[flow_result.status]}]{flow_result.status.value}[/]",
            str(metrics.batches) if completed and metrics and "num_input_rows" in metrics.details
            else "",
            _input_rows(metrics) if completed else "",
            _rows(metrics) if completed else "-",
        ]
        counts = quality[id(flow_result)]
        if checked:
            cells += [f"{counts.dropped:,}", f"{counts.warned:,}"] if counts else ["", ""]
        if counts is not None and counts.quarantine and counts.dropped:
            quarantined.append((flow.name, counts))
        cells.append(f"{metrics.duration_seconds:.2f}s" if metrics is not None else "-")
        table.add_row(*cells)
    console.print(table)
    for flow_name, counts in quarantined:
        console.print(f"Flow '{flow_name}' dropped {counts.dropped:,} row(s) into quarantine "
                      f"table '{counts.quarantine}'.", highlight=False)
    style = {"COMPLETED": "green", "FAILED": "bold red", "CANCELED": "yellow"}[result.state.value]
    cycles = f" ({result.cycles} cycles)" if getattr(result, "cycles", 1) > 1 else ""
    initializing = getattr(result, "initializing_seconds", 0.0)
    phases = f" (initializing {initializing:.2f}s)" if initializing else ""
    console.print(f"Update {result.update_id} [{style}]{result.state.value}[/] in "
                  f"{result.duration_seconds + initializing:.2f}s{phases}{cycles}.",
                  highlight=False)
    for failed in result.failed_flows:
        console.print(f"[red]✗[/red] {failed.error}", highlight=False)
