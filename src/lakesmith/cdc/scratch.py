"""A batch's intermediate result computed once: written to a scratch Delta table in the flow's
checkpoint, then read back by every step that needs it (the count of what a MERGE will do, the
MERGE itself, which reads its source more than once, and a state write).

A scratch is no protocol write: nothing decides from it whether a batch landed, and every run of
a batch (the first, or a rerun after a crash at any point) writes it again from what that run
computes, before anything reads it. So the steps of one run see the same rows, and a scratch left
by a crashed run is never read. Only its newest version is ever read, so the files earlier
versions wrote are deleted at once (otherwise every batch's result would stay on disk).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from lakesmith.engine.paths import engine_path
from lakesmith.locations import Location
from lakesmith.tables.delta import open_table

logger = logging.getLogger("lakesmith")


def materialize(plan: Any, scratch: Location, *, partition_by: Sequence[str] = ()) -> Any:
    """Run `plan` once into the scratch table at `scratch` and return a read of it."""
    path = engine_path(scratch)
    writer = plan.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)
    drop_replaced_files(scratch)
    return plan.sparkSession.read.format("delta").load(path)


def drop_replaced_files(location: Location) -> None:
    """Delete the files of the table at `location` that its current version no longer uses,
    without waiting for the retention: for tables only lakesmith reads, and only at their newest
    version (a scratch, a flow's state). A failure only warns: nothing depends on it."""
    try:
        table = open_table(location)
        if table is not None:
            table.vacuum(retention_hours=0, dry_run=False, enforce_retention_duration=False,
                         full=True)
    except Exception as e:  # reported; the files are removed by a later vacuum
        logger.warning("Removing replaced files of the table at %s failed: %s", location, e)
