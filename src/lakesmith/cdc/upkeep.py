"""Keeping an AUTO CDC flow's state tables (in its checkpoint) bounded: the SCD type 1 per-key
state is overwritten by every batch, so without this each batch's copy stayed on disk (about
16 MB per batch at 2M keys); the SCD type 2 event state gets one small append per batch, so its
files multiply.

Only lakesmith reads these tables, and only at their newest version: a batch (or its rerun after
a crash) reads the state as it finds it, and recovery asks the log, never old data files, whether
a write landed. So once a batch is committed, files its state no longer uses can go at once,
without Delta's retention for other readers. Every `EVERY_BATCHES` batches the event state is
also compacted, and each state's log checkpointed (and its expired log entries cleaned), so
opening it stays fast.
"""

from __future__ import annotations

import logging

from lakesmith.cdc.scratch import drop_replaced_files
from lakesmith.locations import Location
from lakesmith.tables.delta import open_table

logger = logging.getLogger("lakesmith")

EVERY_BATCHES = 10


def tidy_state(location: Location, batch: int, *, appended: bool) -> None:
    """After batch `batch` committed: drop the files the state at `location` no longer uses
    (every batch for a replaced state; an `appended` state only when due, after compacting it).
    A failure only warns: no batch depends on it, and a later one tries again."""
    due = batch > 0 and batch % EVERY_BATCHES == 0
    if appended and not due:
        return
    try:
        table = open_table(location)
        if table is None:
            return
        if appended:
            table.optimize.compact()
        drop_replaced_files(location)
        if due:
            table = open_table(location)
            if table is not None:
                table.create_checkpoint()
                table.cleanup_metadata()
    except Exception as e:  # reported, then the pipeline carries on
        logger.warning("Tidying the state at %s failed: %s", location, e)
