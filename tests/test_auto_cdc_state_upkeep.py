"""An AUTO CDC flow's state tables stay bounded: the SCD type 1 state keeps only the files of its
newest version (each batch overwrites it), the SCD type 2 event state is compacted every
`EVERY_BATCHES` batches; the tables' rows are unchanged by it, and later batches still apply
exactly once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from lakesmith.cdc.upkeep import EVERY_BATCHES
from test_auto_cdc import append, cdc, run_ok, setup, target
from test_auto_cdc_scd2 import history, style


def state_folder(project: Any, name: str) -> Path:
    (found,) = (project.root / "storage" / "checkpoints").glob(f"*target*/target/state/{name}")
    return found


def data_files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*.parquet")
            if "_delta_log" not in p.parts}


def table_files(table: DeltaTable) -> set[str]:
    import pyarrow as pa

    return set(pa.table(table.get_add_actions(flatten=True)).column("path").to_pylist())


def test_scd1_state_keeps_only_its_newest_files(project, tmp_path) -> None:
    changes = setup(project, tmp_path, cdc())
    for batch in range(4):  # one run, one batch each
        append(changes, [(1, f"a{batch}", "x", "UPDATE", batch + 1),
                         (2 + batch, "b", "y", "INSERT", 1)])
        run_ok(project)
    folder = state_folder(project, "cdc-state")
    table = DeltaTable(str(folder))
    assert data_files(folder) == table_files(table)
    assert table.to_pyarrow_table().num_rows == 5  # keys 1..5
    append(changes, [(1, "late", "late", "UPDATE", 2)])  # older than the state: ignored
    run_ok(project)
    assert [(r["userId"], r["name"]) for r in target(project)] == [
        (1, "a3"), (2, "b"), (3, "b"), (4, "b"), (5, "b")]
    assert data_files(folder) == table_files(DeltaTable(str(folder)))


@pytest.mark.slow  # eleven runs
def test_scd2_event_state_is_compacted(project, tmp_path) -> None:
    changes = setup(project, tmp_path, style("dlt"))
    batches = EVERY_BATCHES + 1
    for batch in range(batches):  # one run, one batch each
        append(changes, [(1, "Isabel", f"city{batch}", "UPDATE", batch + 1)])
        run_ok(project)
    folder = state_folder(project, "cdc-events")
    table = DeltaTable(str(folder))
    assert table.to_pyarrow_table().num_rows == batches  # every event, once
    assert len(table_files(table)) < batches  # compacted after batch EVERY_BATCHES
    assert data_files(folder) == table_files(table)
    assert history(project) == [
        (1, "Isabel", f"city{b}", b + 1, b + 2 if b < batches - 1 else None)
        for b in range(batches)]
