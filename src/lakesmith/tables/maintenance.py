"""Keeping tables lakesmith writes over and over from growing without bound: a materialized view
replaces its files at each refresh, the event log gets a few small commits per update. Every so
many versions, the small files are compacted, the log is checkpointed and cleaned, and replaced
files are vacuumed under the table's own retention (`delta.deletedFileRetentionDuration`, 7 days
by default; `delta.logRetentionDuration`, 30 days): never sooner than Delta allows readers.
"""

from __future__ import annotations

import logging

from lakesmith.locations import Location
from lakesmith.tables.delta import open_table

logger = logging.getLogger("lakesmith")

EVERY_VERSIONS = 100


def maintain_if_due(location: Location, version: int, *, compact: bool,
                    every: int = EVERY_VERSIONS) -> bool:
    """Run the maintenance when `version` is a multiple of `every`; True when it ran. A failure
    only warns: maintenance never fails the work that triggered it."""
    if version == 0 or version % every:
        return False
    try:
        table = open_table(location)
        if table is None:
            return False
        if compact:
            table.optimize.compact()
        # A full vacuum lists the folder: files replaced before the last checkpoint but still
        # inside the retention then are found at a later round too.
        table.vacuum(dry_run=False, full=True)
        table.create_checkpoint()
        table.cleanup_metadata()
    except Exception as e:  # reported, then the pipeline carries on
        logger.warning("Maintenance of the Delta table at %s failed: %s", location, e)
        return False
    return True
