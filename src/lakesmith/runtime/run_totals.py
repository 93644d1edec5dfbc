"""What each flow did over a whole continuous update: its cycles' metrics added together, so the
summary printed when the update ends covers the run, not only its last (often idle) cycle."""

from __future__ import annotations

import copy
from typing import Any

from lakesmith.runtime.events import IDLE, FlowMetrics

_SUMMED_DETAILS = ("num_input_rows", "num_upserted_rows", "num_deleted_rows")


def add_metrics(total: FlowMetrics | None, cycle: FlowMetrics | None, *,
                completed: bool = True) -> FlowMetrics | None:
    """`total` with one more cycle's metrics added (neither is changed): a streaming flow's
    batches, rows and quality counts are summed; a materialized view shows its latest refresh.
    An idle cycle, and one that did not complete (stopped or failed: its metrics hold only its
    time), add their time only, so the earlier cycles' counts stay."""
    if cycle is None:
        return total
    if total is None:
        return copy.deepcopy(cycle)
    result = copy.deepcopy(total)
    result.duration_seconds += cycle.duration_seconds
    if cycle.details.get(IDLE) or not completed:
        return result
    # A materialized view's refresh replaces its table: its latest refresh is what it holds.
    refreshed = "num_input_rows" not in cycle.details
    if refreshed or total.details.get(IDLE) or total.details.get("up_to_date"):
        merged = copy.deepcopy(cycle)
        merged.duration_seconds = result.duration_seconds
        return merged
    result.batches += cycle.batches
    if cycle.num_output_rows is not None:
        result.num_output_rows = (result.num_output_rows or 0) + cycle.num_output_rows
    for source, (first, last) in cycle.source_versions.items():
        earlier = result.source_versions.get(source)
        result.source_versions[source] = [first, last] if earlier is None else [
            min(earlier[0], first), max(earlier[1], last)]
    for key in _SUMMED_DETAILS:
        if key in cycle.details:
            result.details[key] = _sum(result.details.get(key), cycle.details[key])
    quality = cycle.details.get("data_quality")
    if quality is not None:
        if "data_quality" in result.details:
            result.details["data_quality"].add(quality)
        else:
            result.details["data_quality"] = copy.deepcopy(quality)
    return result


def _sum(a: Any, b: Any) -> Any:
    """Counts added; None (not counted, e.g. rows of files) stays None."""
    if a is None or b is None:
        return None
    return a + b
