"""The Delta logs of a streaming flow's state tables loaded while the update plans and its
upstream flows run, on a thread of their own: otherwise the flow's first batch in a process opens
each on its path (a deduplication's keys, its scratch tables: 5-12 ms apiece). The logs land in
the update's `DeltaLogs`, which the batch then only advances."""

from __future__ import annotations

import logging
import threading

from lakesmith.cdc.scratch import FILES_PREFIX
from lakesmith.files import store_for
from lakesmith.runtime.checkpoint import Checkpoint
from lakesmith.tables.delta import DeltaLogs

logger = logging.getLogger("lakesmith")


def warm_state_logs(logs: DeltaLogs, checkpoint: Checkpoint) -> threading.Thread:
    """Start loading the logs of the tables under the checkpoint's `state/` folder (on the
    thread returned)."""
    folder = checkpoint.location.join("state")

    def load() -> None:
        try:
            for entry in store_for(folder).list(folder):
                if entry.is_dir and not entry.name.startswith(FILES_PREFIX):
                    logs(folder.join(entry.name)).table()
        except Exception as e:  # the batch opens them itself, and reports what fails then
            logger.debug("Loading the state logs of %s ahead failed: %s", checkpoint.flow, e)

    thread = threading.Thread(target=load, name=f"warm-{checkpoint.flow}", daemon=True)
    thread.start()
    return thread
