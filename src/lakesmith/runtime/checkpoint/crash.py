"""Named crash points of the exactly-once protocol, for fault-injection tests.

Set LAKESMITH_CRASH_AT=point[:flow[:batch]] and the process exits with status 137 (as if killed)
when it reaches that point; recovery is then tested by running the pipeline again.
"""

from __future__ import annotations

import os
import sys

CRASH_ENV = "LAKESMITH_CRASH_AT"

# In protocol order for one batch, then the points of a full refresh.
BEFORE_OFFSETS = "before_offsets"
AFTER_OFFSETS = "after_offsets"
AFTER_OUTPUT = "after_output"
AFTER_QUARANTINE = "after_quarantine"
AFTER_STATE = "after_state"
AFTER_COMMIT = "after_commit"
AFTER_RESET_MARKER = "after_reset_marker"
AFTER_TRUNCATE = "after_truncate"
# A materialized view's refresh committed, not yet recorded (runtime/flows/materialized_view.py).
AFTER_REFRESH_COMMIT = "after_refresh_commit"

BATCH_POINTS = (BEFORE_OFFSETS, AFTER_OFFSETS, AFTER_OUTPUT, AFTER_QUARANTINE, AFTER_STATE,
                AFTER_COMMIT)
RESET_POINTS = (AFTER_RESET_MARKER, AFTER_TRUNCATE)
CRASH_POINTS = BATCH_POINTS + RESET_POINTS


def crash_point(point: str, flow: str = "", batch: int | None = None) -> None:
    """Exit here when LAKESMITH_CRASH_AT names this point (and flow and batch, when given)."""
    wanted = os.environ.get(CRASH_ENV)
    if not wanted:
        return
    parts = wanted.split(":")
    if parts[0] != point:
        return
    if len(parts) > 1 and parts[1] and parts[1].lower() != flow.lower():
        return
    if len(parts) > 2 and parts[2] and batch is not None and int(parts[2]) != batch:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(137)
