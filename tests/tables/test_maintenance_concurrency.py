"""OPTIMIZE racing another writer: a concurrent append is kept (delta-rs re-checks and commits
after it), a concurrent delete of rows OPTIMIZE read is refused with a clear error and nothing
of OPTIMIZE lands."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lakesmith.locations import Location
from lakesmith.tables import operations


def small_table(path: Path) -> None:
    for i in range(3):
        write_deltalake(str(path), pa.table({"id": [i]}), mode="append")


def ids(path: Path) -> list[int]:
    return sorted(DeltaTable(str(path)).to_pyarrow_table().column("id").to_pylist())


def stale_open(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """OPTIMIZE reads the table as it is now; the commit below lands before OPTIMIZE's."""
    stale = DeltaTable(str(path))
    monkeypatch.setattr(operations, "open_table", lambda location, version=None: stale)


def test_concurrent_append_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t"
    small_table(path)
    stale_open(monkeypatch, path)
    write_deltalake(str(path), pa.table({"id": [9]}), mode="append")
    result = operations.optimize(Location.local(path), "t")
    assert result.row["metrics"]["numFilesRemoved"] == 3
    assert ids(path) == [0, 1, 2, 9]
    assert [h["operation"] for h in DeltaTable(str(path)).history(2)] == ["OPTIMIZE", "WRITE"]


def test_concurrent_delete_is_refused_clearly(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t"
    small_table(path)
    stale_open(monkeypatch, path)
    DeltaTable(str(path)).delete("id = 1")
    with pytest.raises(operations.DeltaOperationError,
                       match=r"DELTA_CONCURRENT_MODIFICATION\] OPTIMIZE of t conflicted") as e:
        operations.optimize(Location.local(path), "t")
    assert e.value.hint is not None and "run OPTIMIZE again" in e.value.hint
    assert ids(path) == [0, 2]
    assert DeltaTable(str(path)).history(1)[0]["operation"] == "DELETE"
