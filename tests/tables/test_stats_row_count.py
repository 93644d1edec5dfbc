"""Row counts from a Delta table's statistics: exact where the add actions can tell, None (count
with the engine) where they cannot."""

from __future__ import annotations

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from lakesmith.tables.delta import stats_row_count


def _append(path: str, batches: list[int | None]) -> None:
    write_deltalake(path, pa.table({"k": pa.array(range(len(batches)), pa.int64()),
                                    "b": pa.array(batches, pa.int64())}), mode="append")


def test_rows_below_a_batch_are_counted_from_file_statistics(tmp_path) -> None:
    path = str(tmp_path / "state")
    _append(path, [0, 0, 0])
    _append(path, [1, 1])
    _append(path, [2])
    table = DeltaTable(path)
    assert stats_row_count(table) == 6
    assert stats_row_count(table, below=("b", 0)) == 0
    assert stats_row_count(table, below=("b", 2)) == 5  # the rerun's own rows are left out
    assert stats_row_count(table, below=("b", 3)) == 6


def test_files_the_statistics_cannot_split_give_no_count(tmp_path) -> None:
    path = str(tmp_path / "state")
    _append(path, [0, 1])  # one file with rows on both sides of batch 1
    assert stats_row_count(DeltaTable(path), below=("b", 1)) is None
    assert stats_row_count(DeltaTable(path), below=("b", 2)) == 2
    nulls = str(tmp_path / "nulls")
    _append(nulls, [None, 0])
    assert stats_row_count(DeltaTable(nulls), below=("b", 5)) is None
    assert stats_row_count(DeltaTable(nulls)) == 2
    assert stats_row_count(DeltaTable(nulls), below=("missing", 5)) is None


def test_an_empty_version_has_no_rows(tmp_path) -> None:
    path = str(tmp_path / "empty")
    write_deltalake(path, pa.table({"b": pa.array([], pa.int64())}))
    assert stats_row_count(DeltaTable(path), below=("b", 1)) == 0
