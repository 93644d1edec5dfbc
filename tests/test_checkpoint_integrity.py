"""A checkpoint and its table must agree, or the run stops with an error that says what is
inconsistent and that a full refresh resets it; names are identities whatever their case; a
commit record never outlives the commit it names; corrupt records are named, not tracebacks."""

from __future__ import annotations

import json
import shutil

import pytest

from lakesmith.runtime.events import UpdateState

PIPELINE = """
from pyspark import pipelines as dp

@dp.table
def {bronze}():
    return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
            .load(spark.conf.get("source")))

@dp.table
def silver():
    return spark.readStream.table("{read}").dropDuplicates(["id"])
"""


def append(spark, path, ids: list[int]) -> None:
    spark.createDataFrame([(i,) for i in ids], "id BIGINT").write.format("delta") \
        .mode("append").save(str(path))


@pytest.fixture
def streaming(project, tmp_path, spark):
    source = tmp_path / "source"
    append(spark, source, [1, 2])
    append(spark, source, [2, 3])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE.format(bronze="bronze", read="bronze"))
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]
    return project, source


def ids(project, table: str) -> list[int]:
    return sorted(r["id"] for r in project.rows(table))


def checkpoint_dir(project, table: str, flow: str | None = None):
    return project.root / f"storage/checkpoints/spark_catalog.default.{table}/{flow or table}"


def failure(result) -> str:
    assert result.state == UpdateState.FAILED
    return "\n".join(str(r.error) for r in result.failed_flows) or str(result)


def test_names_are_identities_whatever_their_case(streaming, spark) -> None:
    project, source = streaming
    project.write("transformations/p.py", PIPELINE.format(bronze="Bronze", read="BRONZE"))
    append(spark, source, [4])
    assert project.run().state == UpdateState.COMPLETED
    assert ids(project, "bronze") == [1, 2, 2, 3, 4]  # nothing re-appended
    assert ids(project, "silver") == [1, 2, 3, 4]
    folders = sorted(p.name for p in (project.root / "storage/checkpoints").iterdir())
    assert folders == ["spark_catalog.default.bronze", "spark_catalog.default.silver"]
    project.write_spec(schema="DEFAULT", configuration={"source": str(source)})
    assert project.run().state == UpdateState.COMPLETED
    assert ids(project, "bronze") == [1, 2, 2, 3, 4]


def test_a_deleted_checkpoint_is_refused_not_replayed(streaming) -> None:
    project, _ = streaming
    shutil.rmtree(project.root / "storage/checkpoints")
    message = failure(project.run())
    assert "holds batch 1 written by flow 'bronze'" in message
    assert "duplicate" in message and "--full-refresh bronze" in message
    assert ids(project, "bronze") == [1, 2, 2, 3]
    assert project.run(full_refresh=["bronze", "silver"]).state == UpdateState.COMPLETED
    assert ids(project, "bronze") == [1, 2, 2, 3] and ids(project, "silver") == [1, 2, 3]


def test_deleted_offsets_are_refused(streaming) -> None:
    project, _ = streaming
    shutil.rmtree(checkpoint_dir(project, "bronze") / "offsets")
    message = failure(project.run())
    assert "inconsistent" in message and "offsets/ was deleted" in message
    assert ids(project, "bronze") == [1, 2, 2, 3]


def test_lost_checkpoint_metadata_is_refused(streaming) -> None:
    project, _ = streaming
    (checkpoint_dir(project, "bronze") / "metadata.json").unlink()
    message = failure(project.run())
    assert "metadata" in message and "is missing" in message
    assert ids(project, "bronze") == [1, 2, 2, 3]


def test_a_deleted_table_is_refused_not_recreated_empty(streaming) -> None:
    project, _ = streaming
    shutil.rmtree(project.table_path("bronze"))
    with pytest.raises(Exception, match="was deleted or moved, and its rows would be lost"):
        project.run()
    assert not project.table_path("bronze").exists()


def test_a_table_replaced_by_another_is_refused(streaming, spark) -> None:
    project, _ = streaming
    shutil.rmtree(project.table_path("silver"))
    append(spark, project.table_path("silver"), [9])
    message = failure(project.run())
    assert "is another Delta table" in message
    assert ids(project, "silver") == [9]


def test_storage_belongs_to_one_pipeline(streaming, tmp_path) -> None:
    project, source = streaming
    project.write_spec(name="another_pipeline", configuration={"source": str(source)})
    with pytest.raises(Exception, match="belongs to pipeline 'test_pipeline'"):
        project.run()


def test_a_commit_record_whose_output_was_lost_reruns_the_batch(streaming, spark) -> None:
    """After an OS crash, commits/N may survive while the Delta commit it names did not."""
    project, source = streaming
    append(spark, source, [5])
    assert project.run().state == UpdateState.COMPLETED
    assert ids(project, "bronze") == [1, 2, 2, 3, 5]
    log = project.table_path("bronze") / "_delta_log"
    newest = max(log.glob("*.json"))
    commit = json.loads((checkpoint_dir(project, "bronze") / "commits/2").read_text())
    assert int(newest.name[:20]) == commit["output_version"]
    # The engine's commit is lost (with its checksum file); the checkpoint says batch 2 is done.
    newest.unlink()
    newest.with_suffix(".crc").unlink(missing_ok=True)
    assert ids(project, "bronze") == [1, 2, 2, 3]
    assert project.run().state == UpdateState.COMPLETED
    assert ids(project, "bronze") == [1, 2, 2, 3, 5]
    assert ids(project, "silver") == [1, 2, 3, 5]


def test_records_lost_while_their_batch_landed_are_refused_not_replayed(streaming, spark) -> None:
    """Local records are not fsynced (as Spark's): an OS crash can lose a batch's offsets and
    commit records while the engine's commit of that batch survived. Planning the batch again
    would append its rows twice; the run refuses instead, and a full refresh rebuilds."""
    project, source = streaming
    bronze = checkpoint_dir(project, "bronze")
    (bronze / "offsets/1").unlink()
    (bronze / "commits/1").unlink()
    append(spark, source, [4])
    message = failure(project.run())
    assert "holds batch 1 of this checkpoint, but its offsets log ends at batch 0" in message
    assert "duplicate" in message and "--full-refresh bronze" in message
    assert ids(project, "bronze") == [1, 2, 2, 3]
    assert project.run(full_refresh=["bronze", "silver"]).state == UpdateState.COMPLETED
    assert ids(project, "bronze") == [1, 2, 2, 3, 4] and ids(project, "silver") == [1, 2, 3, 4]


def test_a_run_does_not_fsync_local_records(streaming, spark, monkeypatch) -> None:
    """Durable as Spark's checkpoint on a local disk: across a crash of the process, not of the
    operating system (docs/architecture.md, "Durability of checkpoints")."""
    import os

    def no_fsync(fd: int) -> None:
        raise AssertionError("fsync called")

    project, source = streaming
    monkeypatch.setattr(os, "fsync", no_fsync)
    append(spark, source, [4])
    result = project.run()
    assert result.state == UpdateState.COMPLETED, failure(result)
    assert ids(project, "bronze") == [1, 2, 2, 3, 4] and ids(project, "silver") == [1, 2, 3, 4]
    assert (checkpoint_dir(project, "bronze") / "commits/2").exists()


@pytest.mark.parametrize("log_name, content", [
    ("offsets", b'{"format": 1, "batch": 1, "sour'), ("commits", b"\x00garbage"),
    ("offsets", b'{"batch": 1, "sources": {}}'),
    ("commits", b"")])  # an OS crash can keep a record's name without its bytes (no fsync)
def test_corrupt_records_are_named(streaming, log_name: str, content: bytes) -> None:
    project, _ = streaming
    path = checkpoint_dir(project, "bronze") / log_name / "1"
    path.write_bytes(content)
    message = failure(project.run())
    assert str(path) in message and "unreadable" in message
    assert "--full-refresh bronze" in message


def test_a_checkpoint_of_lakesmith_0_1_is_refused_by_name(streaming) -> None:
    """Format-0 checkpoints (lakesmith 0.1) are refused, not misread; a full refresh rebuilds."""
    project, _ = streaming
    metadata = checkpoint_dir(project, "bronze") / "metadata.json"
    metadata.write_text(json.dumps({"id": "0b6f", "flow": "bronze", "created": 0}))
    message = failure(project.run())
    assert "checkpoint format 0 (lakesmith 0.1)" in message and "--full-refresh bronze" in message
    assert project.run(full_refresh=["bronze", "silver"]).state == UpdateState.COMPLETED
    assert ids(project, "silver") == [1, 2, 3]
