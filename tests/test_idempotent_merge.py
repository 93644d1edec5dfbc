"""The writer kind AUTO CDC will use: a MERGE cannot carry a commit marker, so recovery applies
it again, and applying it again must change nothing."""

from __future__ import annotations

from pathlib import Path

from conftest import read_rows
from lakesmith.engine.paths import engine_path
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint import (
    BatchPlan,
    Checkpoint,
    IdempotentMerge,
    Marker,
    OffsetRecord,
    open_checkpoint,
    recover,
    run_batch,
    writer_versions,
)
from lakesmith.tables.delta import DeltaLogs


def test_a_merge_batch_rerun_after_a_crash_changes_nothing(tmp_path: Path, spark) -> None:
    target = Location.local(tmp_path / "customers")
    spark.createDataFrame([(1, "Ada", 1), (2, "Bob", 1)], "id BIGINT, name STRING, seq BIGINT") \
        .write.format("delta").save(engine_path(target))
    updates = spark.createDataFrame([(1, "Ada L.", 2), (2, "Bob (old)", 0), (3, "Cy", 1)],
                                    "id BIGINT, name STRING, seq BIGINT")
    updates.createOrReplaceTempView("updates")
    spark.sql(f"CREATE TABLE IF NOT EXISTS customers USING delta LOCATION '{engine_path(target)}'")
    merges: list[int] = []

    def merge(marker: Marker) -> None:
        """Newer events only (by sequence): a second application finds nothing newer."""
        merges.append(marker.batch or 0)
        spark.sql("""
            MERGE INTO customers t USING updates u ON t.id = u.id
            WHEN MATCHED AND u.seq > t.seq THEN UPDATE SET name = u.name, seq = u.seq
            WHEN NOT MATCHED THEN INSERT (id, name, seq) VALUES (u.id, u.name, u.seq)
        """)

    logs = DeltaLogs()
    checkpoint = Checkpoint(Location.local(tmp_path / "checkpoint"), flow="customers",
                            table="spark_catalog.default.customers", display_table="customers")
    open_checkpoint(checkpoint, logs(target))
    writer = IdempotentMerge("output", logs(target), merge)
    record = OffsetRecord(0, {}, writer_versions([writer]))
    # The process dies after the merge landed, before the commit record: offsets/0 only.
    checkpoint.offsets.add(0, record.to_json())
    merge(checkpoint.marker(0, pipeline=None, update_id=None))
    after_first = sorted(read_rows(target.local_path), key=lambda r: r["id"])
    assert after_first == [{"id": 1, "name": "Ada L.", "seq": 2},
                           {"id": 2, "name": "Bob", "seq": 1},
                           {"id": 3, "name": "Cy", "seq": 1}]
    recovery = recover(checkpoint, writer)
    assert recovery.rerun is not None and recovery.rerun.batch == 0
    commit = run_batch(checkpoint, BatchPlan(recovery.rerun, [writer], output=writer,
                                             recovering=True))
    assert merges == [0, 0]  # applied again: nothing says whether a MERGE landed
    assert sorted(read_rows(target.local_path), key=lambda r: r["id"]) == after_first
    assert commit.batch == 0 and commit.output_version is None
    assert recover(checkpoint, writer).rerun is None
