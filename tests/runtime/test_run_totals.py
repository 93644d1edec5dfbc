"""A continuous update's per-flow totals: a cycle the stop interrupted (or that failed) holds only
its time, and must not wipe the counts of the cycles before it."""

from __future__ import annotations

from lakesmith.runtime.events import FlowMetrics
from lakesmith.runtime.run_totals import add_metrics


def streaming(batches: int, rows: int, seconds: float) -> FlowMetrics:
    return FlowMetrics(num_output_rows=rows, batches=batches, duration_seconds=seconds,
                       details={"num_input_rows": rows})


def test_a_stopped_cycle_adds_its_time_and_keeps_the_counts() -> None:
    total = add_metrics(None, streaming(2, 10, 1.0))
    total = add_metrics(total, streaming(1, 5, 0.5))
    stopped = add_metrics(total, FlowMetrics(duration_seconds=0.25), completed=False)
    assert stopped is not None
    assert (stopped.batches, stopped.num_output_rows, stopped.details["num_input_rows"]) == \
        (3, 15, 15)
    assert stopped.duration_seconds == 1.75


def test_a_completed_cycle_without_counts_is_a_refresh_that_replaces_them() -> None:
    total = add_metrics(None, FlowMetrics(num_output_rows=4, duration_seconds=1.0))
    total = add_metrics(total, FlowMetrics(num_output_rows=6, duration_seconds=0.5))
    assert total is not None
    assert (total.num_output_rows, total.duration_seconds) == (6, 1.5)
