"""A streaming flow's state logs are loaded ahead, on a thread: its first batch then only
advances them (no table opened on its path)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from lakesmith.locations import Location
from lakesmith.runtime.checkpoint.checkpoint import Checkpoint
from lakesmith.runtime.flows.warm_state import warm_state_logs
from lakesmith.tables import delta
from lakesmith.tables.delta import DeltaLogs


def test_state_logs_are_loaded_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoint = Checkpoint(Location.local(tmp_path / "cp"), flow="f", table="t",
                            display_table="t")
    keys = checkpoint.state_location("dedup-x")
    write_deltalake(str(keys.local_path), pa.table({"k": [1, 2]}))
    (checkpoint.location.local_path / "state" / "not-a-table").mkdir()
    opened: list[Location] = []
    original = delta.open_table

    def counted(location: Location, version: int | None = None) -> object:
        opened.append(location)
        return original(location, version)

    monkeypatch.setattr(delta, "open_table", counted)
    logs = DeltaLogs()
    warm_state_logs(logs, checkpoint).join(10)
    assert sorted(location.name for location in opened) == ["dedup-x", "not-a-table"]
    opened.clear()
    assert logs(keys).version() == 0  # advanced, not opened again
    assert opened == []

