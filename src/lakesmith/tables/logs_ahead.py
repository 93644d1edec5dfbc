"""Delta logs loaded ahead of their first read, on threads, while the command still imports the
engine's client and loads the pipeline's code: about half a second in which Python's lock is
busy with imports, and in which delta-rs, which loads a log without that lock, has the other core
to itself. An update with nothing new then finds every log it reads already loaded.

Which logs to load is the caller's guess (`runtime/storage.py`: those the pipeline's last update
read). A wrong guess costs a load nobody takes; a log loaded ahead is taken by the first
`DeltaLog` of its location, once, which checks it as it checks any log it holds before the next
read (`tables/delta.py`): locally, that no commit file after the loaded version exists and that
the loaded one is the same file; so a commit made between the load and the update's lock is read.
Only local tables are loaded ahead: on an object store each location carries its own
credentials, known once the pipeline is loaded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lakesmith.locations import Location

if TYPE_CHECKING:
    from deltalake import DeltaTable

logger = logging.getLogger(__name__)

# One thread: the imports leave it about ten times the time the loads take, and each load
# takes Python's lock from the importing thread a few times (more threads, more often).
LOADERS = 1


@dataclass(frozen=True)
class LoadedLog:
    """A log as loaded ahead: the table (None: none there then) and its newest commit file as
    found on disk (`tables.delta.commit_file`)."""

    table: DeltaTable | None
    commit: tuple[int, int, int, int] | None


_loading: dict[Location, Future[LoadedLog]] = {}
_guard = threading.Lock()


def load_ahead(locations: Iterable[Location]) -> None:
    """Start loading the logs of `locations` (local ones) on threads; returns at once."""
    local = [location for location in locations if location.is_local]
    if not local:
        return
    # delta-rs is imported here, before the threads start: two threads importing the same
    # packages (pyarrow) at once can wait on each other's import locks.
    from lakesmith.tables.delta import open_table  # noqa: F401

    loaders = ThreadPoolExecutor(max_workers=LOADERS, thread_name_prefix="delta-log-ahead")
    with _guard:
        for location in local:
            if location not in _loading:
                _loading[location] = loaders.submit(_load, location)
    loaders.shutdown(wait=False)


def _load(location: Location) -> LoadedLog:
    from lakesmith.tables.delta import commit_file, open_table

    table = open_table(location)
    return LoadedLog(table, commit_file(location, table))


def take(location: Location) -> LoadedLog | None:
    """The log loaded ahead at `location` (its load awaited if under way), once; None when it
    was not loaded ahead or its load failed (the caller's own load then reports why)."""
    with _guard:
        future = _loading.pop(location, None)
    if future is None:
        return None
    try:
        return future.result()
    except Exception as e:  # delta-rs: a damaged log; read again by the caller, which raises
        logger.debug("the Delta log at %s was not loaded ahead: %s", location, e)
        return None


def forget() -> None:
    """Drop the logs loaded ahead that nobody took (the update that could have has ended): a
    process that runs several commands (tests, a notebook) does not keep them."""
    with _guard:
        futures = list(_loading.values())
        _loading.clear()
    for future in futures:
        future.cancel()
