"""How many threads the embedded engine's runtime gets.

Sail answers Spark Connect requests and computes queries on one tokio runtime, whose worker
threads default to the number of cores, and a query keeps every core's worker busy while it
computes. On a laptop with flows running side by side, every other request then waits for the
running query to end: a 2 ms schema request waited 0.07-0.23 s behind a 0.15-0.3 s write
(`docs/engine-gaps.md`). The queries still split their work into one partition per core; two more
workers than cores only leave a thread free to answer the requests of the other flows at once.
Tokio reads `TOKIO_WORKER_THREADS` when the engine builds its runtime, so it is set before the
embedded server starts; a value the user set is kept.
"""

from __future__ import annotations

import os

TOKIO_WORKER_THREADS = "TOKIO_WORKER_THREADS"
SPARE_WORKERS = 2


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, as the engine counts them)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def give_engine_spare_workers() -> None:
    """Size the embedded engine's runtime before it starts: the usable cores plus two."""
    os.environ.setdefault(TOKIO_WORKER_THREADS, str(usable_cores() + SPARE_WORKERS))
