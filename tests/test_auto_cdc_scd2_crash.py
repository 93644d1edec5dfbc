"""A crash at each point of an SCD type 2 AUTO CDC batch (before its offsets, after them, after the
write of its changes, after the event state's append, after its commit record), then a run to the
end: the target and the flow's state are exactly what a run without the crash leaves, and the next
batch applies exactly once. Each way a batch's changes land is crashed: the initial load's append,
a small target's rewrite (batch 1 of BATCHES), the MERGE a larger target takes (forced), and the
append of a batch of new keys (`cdc/scd2_apply.py`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable

from test_auto_cdc import append
from test_auto_cdc_crash import POINTS, Pipeline, ok, reported_once

CODE = """
import dlt
from pyspark.sql.functions import expr

@dlt.table
def users():
    return spark.readStream.format("delta").load(spark.conf.get("changes.path"))

dlt.create_streaming_table("target")
dlt.apply_changes(target="target", source="users", keys=["userId"], sequence_by="sequenceNum",
                  apply_as_deletes=expr("operation = 'DELETE'"),
                  except_column_list=["operation"], ignore_null_updates=True,
                  stored_as_scd_type=2, track_history_except_column_list=["sequenceNum"])
"""

# Late events and deletes in the second and third batches split and close earlier versions.
BATCHES = [
    [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1), (3, "c", "z", "INSERT", 2)],
    [(1, None, "x2", "UPDATE", 3), (2, None, None, "DELETE", 4), (3, "old", "old", "UPDATE", 1),
     (4, "d", None, "INSERT", 1), (4, None, "w", "UPDATE", 2), (1, "a", "x", "UPDATE", 5)],
    [(2, "late", "late", "UPDATE", 3), (4, "d2", None, "UPDATE", 5), (5, "e", "v", "INSERT", 1),
     (1, None, None, "DELETE", 4)],
]
DEFAULT = {("after_output", 1), ("after_state", 1)}


def _sorted(rows: list[dict[str, Any]]) -> list[tuple]:
    return sorted((tuple(r.values()) for r in rows),
                  key=lambda r: tuple((v is None, str(v)) for v in r))


# A batch of new keys only (after BATCHES[0]): its versions are appended.
NEW_KEYS = [(6, "f", "u", "INSERT", 3), (7, "g", None, "INSERT", 1), (7, "g", "t", "UPDATE", 2)]
# lakesmith in a fresh process, MERGEing every batch as into a target too large to rewrite (a
# script, not `python -c`: pyspark takes a main module without a file for doctests and exits).
MERGING = """
import lakesmith.cdc.scd2_apply
from lakesmith.entry import main

lakesmith.cdc.scd2_apply.REWRITE_BYTES = 0
main()
"""


class Scd2Pipeline(Pipeline):
    def __init__(self, root: Path, *, merging: bool = False) -> None:
        super().__init__(root)
        (root / "transformations" / "cdc.py").write_text(CODE)
        if merging:
            script = root / "merging.py"
            script.write_text(MERGING)
            self.command = (sys.executable, str(script))

    def tables(self) -> tuple[list, list]:
        """The target's rows and the event state's rows, sorted."""
        target = self.root / "warehouse" / "spark_catalog" / "default" / "target"
        states = list((self.root / "storage").glob(
            "checkpoints/*target*/target/state/cdc-events"))
        state = DeltaTable(str(states[0])).to_pyarrow_table().to_pylist() if states else []
        return (_sorted(DeltaTable(str(target)).to_pyarrow_table().to_pylist()), _sorted(state))


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The tables after each batch, from runs without crashes, then the counts reported."""
    pipeline = Scd2Pipeline(tmp_path_factory.mktemp("reference") / "p")
    found: list[Any] = []
    for rows in BATCHES:
        append(pipeline.changes, rows)
        ok(pipeline.run())
        found.append(pipeline.tables())
    return [*found, pipeline.reported()]


def test_the_reference_counts(expected) -> None:
    # Batch 0 opens keys 1-3. Batch 1 upserts 7 rows: key 1's first version closed at 3 and two
    # opened (3, 5), key 2's closed (delete), key 3's late version (1-2) opened closed, key 4's
    # two (1-2 closed, 2-). Batch 2 upserts 6: key 2's version shortened to 3 and (3-4) opened
    # closed, key 4's closed at 5 and (5-) opened, key 5 opened, key 1's (3-5) shortened to 4.
    assert expected[3] == {"num_upserted_rows": 3 + 7 + 6, "num_deleted_rows": 0,
                           "num_versions_opened": 3 + 5 + 3, "num_versions_closed": 5 + 2}


def test_the_reference_history(expected) -> None:
    target, _state = expected[2]
    assert sorted(((r[0], r[1], r[2], r[4], r[5]) for r in target),
                  key=lambda r: (r[0], r[3])) == [
        (1, "a", "x", 1, 3), (1, "a", "x2", 3, 4), (1, "a", "x", 5, None),
        (2, "b", "y", 1, 3), (2, "late", "late", 3, 4),
        (3, "old", "old", 1, 2), (3, "c", "z", 2, None),
        (4, "d", None, 1, 2), (4, "d", "w", 2, 5), (4, "d2", "w", 5, None),
        (5, "e", "v", 1, None)]


@pytest.mark.parametrize(("point", "batch"), [
    pytest.param(point, batch, id=f"{point}-{batch}",
                 marks=() if (point, batch) in DEFAULT else (pytest.mark.slow,))
    for point in POINTS for batch in (0, 1)])
def test_crash_then_rerun_leaves_the_tables_as_one_run(tmp_path, expected, point, batch) -> None:
    pipeline = Scd2Pipeline(tmp_path / "p")
    for number, rows in enumerate(BATCHES[:2]):
        append(pipeline.changes, rows)
        if number == batch:
            crashed = pipeline.run(f"{point}:target:{batch}")
            assert crashed.returncode == 137, crashed.stdout + crashed.stderr
        ok(pipeline.run())
        assert pipeline.tables() == expected[number]
    ok(pipeline.run())  # nothing new
    assert pipeline.tables() == expected[1]
    append(pipeline.changes, BATCHES[2])
    ok(pipeline.run())
    assert pipeline.tables() == expected[2]
    assert pipeline.reported() == reported_once(pipeline, expected[3], point, batch)


@pytest.mark.parametrize("point", [
    pytest.param(point, marks=() if point == "after_output" else (pytest.mark.slow,))
    for point in POINTS])
def test_crash_in_a_merged_batch(tmp_path, expected, point) -> None:
    """Batch 1 MERGEd into the target (as a target too large to rewrite is): the same tables."""
    pipeline = Scd2Pipeline(tmp_path / "p", merging=True)
    append(pipeline.changes, BATCHES[0])
    ok(pipeline.run())
    append(pipeline.changes, BATCHES[1])
    crashed = pipeline.run(f"{point}:target:1")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    ok(pipeline.run())
    assert pipeline.tables() == expected[1]
    target = DeltaTable(str(pipeline.root / "warehouse" / "spark_catalog" / "default" / "target"))
    assert "MERGE" in [c["operation"] for c in target.history()]
    append(pipeline.changes, BATCHES[2])
    ok(pipeline.run())
    assert pipeline.tables() == expected[2]
    assert pipeline.reported() == reported_once(pipeline, expected[3], point, 1)


@pytest.fixture(scope="module")
def expected_new_keys(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The tables after BATCHES[0] and NEW_KEYS without crashes, then the counts reported."""
    pipeline = Scd2Pipeline(tmp_path_factory.mktemp("new-keys") / "p")
    found: list[Any] = []
    for rows in (BATCHES[0], NEW_KEYS):
        append(pipeline.changes, rows)
        ok(pipeline.run())
        found.append(pipeline.tables())
    return [*found, pipeline.reported()]


def test_the_new_keys_reference(expected_new_keys) -> None:
    target, _state = expected_new_keys[1]
    assert sorted(((r[0], r[1], r[2], r[4], r[5]) for r in target),
                  key=lambda r: (r[0], r[3])) == [
        (1, "a", "x", 1, None), (2, "b", "y", 1, None), (3, "c", "z", 2, None),
        (6, "f", "u", 3, None), (7, "g", None, 1, 2), (7, "g", "t", 2, None)]
    assert expected_new_keys[2] == {"num_upserted_rows": 3 + 3, "num_deleted_rows": 0,
                                    "num_versions_opened": 3 + 3, "num_versions_closed": 1}


@pytest.mark.parametrize("point", [
    pytest.param(point, marks=() if point == "after_output" else (pytest.mark.slow,))
    for point in POINTS])
def test_crash_in_a_batch_of_new_keys(tmp_path, expected_new_keys, point) -> None:
    """The append of a batch of new keys lands once: its rerun finds nothing left to write."""
    pipeline = Scd2Pipeline(tmp_path / "p")
    append(pipeline.changes, BATCHES[0])
    ok(pipeline.run())
    append(pipeline.changes, NEW_KEYS)
    crashed = pipeline.run(f"{point}:target:1")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    ok(pipeline.run())
    assert pipeline.tables() == expected_new_keys[1]
    target = DeltaTable(str(pipeline.root / "warehouse" / "spark_catalog" / "default" / "target"))
    appends = [c for c in target.history() if c["operation"] == "WRITE"
               and c["operationParameters"].get("mode") == "Append"]
    assert len(appends) == 2  # the initial load and batch 1, once each
    assert pipeline.reported() == reported_once(pipeline, expected_new_keys[2], point, 1)
