"""A scratch or state table keeps only the files of its newest version after each batch, and the
clean-up adds nothing to its log (a vacuum by delta-rs would commit VACUUM START and END)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lakesmith.cdc.scratch import drop_replaced_files
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
