"""Corrupt inputs and metadata get clear errors that name the file, and commit nothing; a corrupt
event log never blocks the pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import read_events, updates
from lakesmith.runtime.events import UpdateState

PIPELINE = """
from pyspark import pipelines as dp

@dp.table
def bronze():
    return spark.readStream.format("delta").load(spark.conf.get("source"))
"""


def append(spark, path: Path, ids: list[int]) -> None:
    spark.createDataFrame([(i,) for i in ids], "id BIGINT").write.format("delta") \
        .mode("append").save(str(path))


def added_file(source: Path, version: int) -> Path:
    commit = (source / "_delta_log" / f"{version:020d}.json").read_text().splitlines()
    return source / next(json.loads(line)["add"]["path"] for line in commit if '"add"' in line)


@pytest.fixture
def streaming(project, tmp_path, spark):
    source = tmp_path / "source"
    append(spark, source, [1, 2])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE)
    assert project.run().state == UpdateState.COMPLETED
    return project, source


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_source_file_is_named_and_nothing_is_committed(streaming, spark, tmp_path,
                                                                 damage: str) -> None:
    project, source = streaming
    append(spark, source, [3, 4])
    data_file = added_file(source, 1)
    original = data_file.read_bytes()
    data_file.write_bytes(b"\x13\x37" * 500 if damage == "garbage"
                          else original[:len(original) // 2])
    result = project.run()
    assert result.state == UpdateState.FAILED
    message = str(result.failed_flows[0].error)
    assert str(data_file) in message and "Nothing of the batch was committed" in message
    assert "truncated or garbage" in message or "corrupt footer" in message
    assert sorted(r["id"] for r in project.rows("bronze")) == [1, 2]
    data_file.write_bytes(original)
    assert project.run().state == UpdateState.COMPLETED
    assert sorted(r["id"] for r in project.rows("bronze")) == [1, 2, 3, 4]


def test_a_corrupt_event_log_never_blocks_the_pipeline(streaming, spark, caplog) -> None:
    project, source = streaming
    log = project.root / "storage/system/events/_delta_log"
    newest = max(log.glob("*.json"))
    newest.write_text(newest.read_text()[:40])  # a torn last commit
    for crc in log.glob("*.crc"):
        crc.unlink()
    append(spark, source, [5])
    with caplog.at_level("WARNING", logger="lakesmith"):
        result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert "cannot be written" in caplog.text and "events-unwritten" in caplog.text
    assert sorted(r["id"] for r in project.rows("bronze")) == [1, 2, 5]
    with caplog.at_level("WARNING", logger="lakesmith"):
        summaries = updates(read_events(Location.local(project.root / "storage")))
    assert summaries[-1].update_id == result.update_id
    assert summaries[-1].state == "COMPLETED"


def test_storage_that_is_a_file_and_bad_schema_names(project) -> None:
    project.write("transformations/p.py", "from pyspark import pipelines as dp\n\n"
                  "@dp.materialized_view\ndef t():\n    return spark.range(1)\n")
    (project.root / "storage").write_text("not a folder")
    project.write_spec()
    with pytest.raises(LakesmithError, match="is a file; storage must be a folder"):
        project.run()
    (project.root / "storage").unlink()
    project.write_spec(schema="my-schema")
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert [r["id"] for r in project.rows("t", schema="my-schema")] == [0]
