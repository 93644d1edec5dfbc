"""What each batch of an AUTO CDC flow did (rows upserted and deleted; SCD type 2: versions
opened and closed), recorded in the flow's checkpoint (`state/cdc-counts/N`, put-if-absent)
before the batch's MERGE runs, so that the event log reports every batch once, with what it did.

A rerun after a crash re-applies a batch whose MERGE may already have landed: counting again
would then find nothing left to do (or, for SCD type 1, rows touched a second time). The first
run's counts are the batch's: they were computed before anything of it was written, from the
same batch and state a rerun reads. So a rerun reports the recorded counts, and records its own
only when the first run crashed before recording any (then nothing of the batch had been
written, and its counts are the same).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lakesmith.runtime.checkpoint import Checkpoint
from lakesmith.runtime.checkpoint.log import BatchLog

COUNTS = "cdc-counts"


def counts_log(checkpoint: Checkpoint) -> BatchLog[dict[str, int]]:
    return BatchLog(checkpoint.store, checkpoint.state_location(COUNTS), _parse,
                    what=f"AUTO CDC counts of flow '{checkpoint.flow}'",
                    hint=checkpoint.reset_hint)


def recorded(log: BatchLog[dict[str, int]], batch: int,
             counted: dict[str, int]) -> dict[str, int]:
    """Batch `batch`'s counts as its first run recorded them; `counted` (this run's) is
    recorded and returned when there are none yet."""
    found = log.get(batch)
    if found is not None:
        return found
    log.add(batch, counted)
    return counted


def _parse(record: Mapping[str, Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in record.items()}
