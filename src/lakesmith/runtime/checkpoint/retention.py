"""Which versions of a Delta table the project's stream checkpoints still need, so VACUUM keeps
their files whatever the table's retention.

A streaming flow's newest offset record says, per Delta source, the version it has read up to
(`end.version`); its next batch reads the files added after that version, which a compaction may
since have removed from the snapshot. Keeping every version from the oldest such offset to the
newest keeps every file a stream of this project will still read.
"""

from __future__ import annotations

import json
from typing import Any

from lakesmith.files import store_for
from lakesmith.locations import Location


def versions_needed(checkpoints: Location, table_id: str) -> int | None:
    """The oldest version of the table (by its Delta id) a checkpoint under `checkpoints` still
    reads from, or None when no checkpoint reads it."""
    return oldest_versions(checkpoints).get(table_id)


def oldest_versions(checkpoints: Location) -> dict[str, int]:
    """For every Delta table (by id) the checkpoints under `checkpoints` read, the oldest version
    they still read from (one pass over the flows' newest offset records)."""
    store = store_for(checkpoints)
    if not store.exists(checkpoints):
        return {}
    oldest: dict[str, int] = {}
    for table in _folders(store, checkpoints):
        for flow in _folders(store, table):
            record = _newest_offsets(store, flow.join("offsets"))
            for source in (record or {}).get("sources", {}).values():
                table_id, version = source.get("identity"), _version(source)
                if table_id is not None and version is not None:
                    oldest[table_id] = min(version, oldest.get(table_id, version))
    return oldest


def _folders(store: Any, location: Location) -> list[Location]:
    return [location.join(e.name) for e in store.list(location) if e.is_dir]


def _newest_offsets(store: Any, offsets: Location) -> dict[str, Any] | None:
    if not store.exists(offsets):
        return None
    batches = [int(e.name) for e in store.list(offsets) if not e.is_dir and e.name.isdigit()]
    if not batches:
        return None
    data = store.read(offsets.join(str(max(batches))))
    return None if data is None else dict(json.loads(data))


def _version(source: dict[str, Any]) -> int | None:
    end = source.get("end")
    if not isinstance(end, dict):
        return None
    version = end.get("version")
    return int(version) if isinstance(version, int) else None
