"""A scratch or state table keeps only the files of its newest version after each batch, and the
clean-up adds nothing to its log (a vacuum by delta-rs would commit VACUUM START and END)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lakesmith.cdc.scratch import FULL_SWEEP_EVERY, drop_overwritten_files, drop_replaced_files
from lakesmith.files import finish_discards
from lakesmith.locations import Location


def data_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet")
            if "_delta_log" not in p.parts}


def log_versions(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "_delta_log").glob("*.json"))


@pytest.mark.parametrize("partition_by", [None, ["part"]], ids=["plain", "partitioned"])
def test_only_the_newest_versions_files_stay(tmp_path: Path, partition_by: list[str] | None
                                             ) -> None:
    folder = tmp_path / "scratch"
    for batch in range(3):
        rows = pa.table({"id": [batch * 10 + i for i in range(4)], "part": [0, 1, 0, 1]})
        write_deltalake(str(folder), rows, mode="overwrite", partition_by=partition_by)
    (folder / "part-00000-left-by-a-failed-write.snappy.parquet").write_bytes(b"PAR1")
    versions = log_versions(folder)
    table = DeltaTable(str(folder))
    assert len(data_files(folder)) > len(table.file_uris())

    drop_replaced_files(Location.local(folder), table)
    finish_discards()  # deleted off the batch's path; an update waits for them when it ends

    newest = DeltaTable(str(folder))
    assert data_files(folder) == set(pa.table(newest.get_add_actions(flatten=True))
                                     .column("path").to_pylist())
    assert sorted(newest.to_pyarrow_table().column("id").to_pylist()) == [20, 21, 22, 23]
    assert log_versions(folder) == versions  # no VACUUM START / END commits


@pytest.mark.parametrize("partition_by", [None, ["part"]], ids=["plain", "partitioned"])
def test_each_overwrite_drops_the_files_it_replaced_and_every_tenth_sweeps(
        tmp_path: Path, partition_by: list[str] | None) -> None:
    """Between sweeps only the commit's removed files go (no listing of the folder): a file no
    commit names stays until the next full sweep, at a version divisible by FULL_SWEEP_EVERY."""
    folder = tmp_path / "scratch"
    location = Location.local(folder)
    stray = folder / "part-00000-left-by-a-failed-write.snappy.parquet"
    for version in range(FULL_SWEEP_EVERY + 1):
        rows = pa.table({"id": [version * 10 + i for i in range(4)], "part": [0, 1, 0, 1]})
        write_deltalake(str(folder), rows, mode="overwrite", partition_by=partition_by)
        if version == 1:
            stray.write_bytes(b"PAR1")
        table = DeltaTable(str(folder))
        assert table.version() == version
        drop_overwritten_files(location, table)
        finish_discards()
        used = set(pa.table(table.get_add_actions(flatten=True)).column("path").to_pylist())
        left = data_files(folder)
        if 1 <= version < FULL_SWEEP_EVERY:
            assert left == used | {stray.name}
        else:
            assert left == used
    assert sorted(DeltaTable(str(folder)).to_pyarrow_table().column("id").to_pylist()) == \
        [100, 101, 102, 103]
    assert len(log_versions(folder)) == FULL_SWEEP_EVERY + 1  # nothing committed by the clean-up
