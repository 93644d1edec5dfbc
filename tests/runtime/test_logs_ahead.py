"""Delta logs loaded ahead while a command starts (`tables/logs_ahead.py`): the logs the last
update read are recorded in the pipeline's storage, the next update takes every one of them from
the loads made ahead, and a commit or a re-made table between the load and the read is still
read (a log loaded ahead is checked like any other before it is used)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lakesmith.locations import Location
from lakesmith.runtime.events import UpdateState
from lakesmith.runtime.storage import PipelineStorage
from lakesmith.tables import logs_ahead
from lakesmith.tables.delta import DeltaLogs
from lakesmith.tables.logs_ahead import load_ahead

PIPELINE = """
from pyspark import pipelines as dp

@dp.table
def bronze():
    return spark.readStream.format("delta").load(spark.conf.get("source"))

@dp.materialized_view
def gold():
    return spark.read.table("bronze").groupBy().count()
"""


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folder of each Delta log load (`DeltaTable.__init__`), on any thread."""
    seen: list[str] = []
    init = DeltaTable.__init__

    def counted(self: DeltaTable, table_uri: Any, *args: Any, **kwargs: Any) -> None:
        seen.append(str(table_uri).rstrip("/").rsplit("/", 1)[-1])
        init(self, table_uri, *args, **kwargs)

    monkeypatch.setattr(DeltaTable, "__init__", counted)
    return seen


def _append(path: Path, ids: list[int]) -> None:
    write_deltalake(str(path), pa.table({"id": pa.array(ids, pa.int64())}), mode="append")


def test_a_log_loaded_ahead_is_taken_once_and_still_sees_later_commits(
        tmp_path: Path, loads: list[str]) -> None:
    table = tmp_path / "t"
    _append(table, [1])
    location = Location.local(table)
    load_ahead([location])
    logs_ahead._loading[location].result()
    _append(table, [2])  # a commit after the load, before the read
    loads.clear()

    log = DeltaLogs()(location)
    assert log.version() == 1
    assert sorted(log.table().to_pyarrow_table().column("id").to_pylist()) == [1, 2]
    assert loads == []  # loaded ahead, then advanced: not loaded again
    assert DeltaLogs()(location).version() == 1  # taken once: a later update loads its own
    assert loads == ["t"]


def test_a_table_made_again_after_its_log_was_loaded_ahead_is_read_afresh(
        tmp_path: Path) -> None:
    table = tmp_path / "t"
    _append(table, [1])
    _append(table, [2])
    location = Location.local(table)
    load_ahead([location])
    assert logs_ahead.take(location) is not None  # the load is done
    load_ahead([location])
    logs_ahead._loading[location].result()
    for child in sorted(table.rglob("*"), reverse=True):
        child.unlink() if child.is_file() else child.rmdir()
    _append(table, [7])  # version 0 of a new table

    log = DeltaLogs()(location)
    assert log.version() == 0
    assert DeltaTable(str(table)).to_pyarrow_table().column("id").to_pylist() == [7]
    assert log.table().to_pyarrow_table().column("id").to_pylist() == [7]


def test_an_update_takes_every_log_the_last_one_read(project: Any, tmp_path: Path, spark: Any,
                                                      loads: list[str]) -> None:
    source = tmp_path / "source"
    spark.createDataFrame([(1,), (2,)], "id BIGINT").write.format("delta").save(str(source))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE)
    assert project.run().state == UpdateState.COMPLETED
    storage = PipelineStorage(Location.local(project.root / "storage"), "test")
    recorded = {location.name for location in storage.delta_logs()}
    assert {"source", "bronze", "gold", "events"} <= recorded
    spark.createDataFrame([(3,)], "id BIGINT").write.format("delta").mode("append") \
        .save(str(source))  # one more row: the update after the logs were loaded ahead reads it

    load_ahead(storage.delta_logs())
    for future in list(logs_ahead._loading.values()):
        future.result()
    loads.clear()
    result = project.run()

    assert result.state == UpdateState.COMPLETED
    assert not logs_ahead._loading  # every log loaded ahead was taken, or dropped at the end
    assert not {"source", "bronze", "gold", "events"} & set(loads)  # none loaded again
    assert project.rows("bronze", order_by="id") == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert project.rows("gold") == [{"count": 3}]
    # unchanged list: not written again
    assert json.loads(storage.delta_logs_file.local_path.read_text()) == sorted(
        location.uri for location in storage.delta_logs())


def test_logs_nobody_took_are_dropped_when_the_update_ends(project, tmp_path, spark) -> None:
    """A log loaded ahead that the update did not read is not kept by the process."""
    other = tmp_path / "not_read"
    _append(other, [1])
    source = tmp_path / "source"
    spark.createDataFrame([(1,)], "id BIGINT").write.format("delta").save(str(source))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE)
    load_ahead([Location.local(other)])

    assert project.run().state == UpdateState.COMPLETED
    assert Location.local(other) not in logs_ahead._loading


def test_a_damaged_list_loads_nothing_ahead_and_is_written_again(project, tmp_path,
                                                                  spark) -> None:
    from lakesmith import cli

    source = tmp_path / "source"
    spark.createDataFrame([(1,)], "id BIGINT").write.format("delta").save(str(source))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE)
    assert project.run().state == UpdateState.COMPLETED
    listed = project.root / "storage" / "delta_logs.json"
    listed.write_text("[not json")

    cli._load_logs_ahead(project.spec_path)  # as `lakesmith run` starts: quietly nothing

    assert not logs_ahead._loading
    assert project.run().state == UpdateState.COMPLETED
    assert {uri.rsplit("/", 1)[-1] for uri in json.loads(listed.read_text())} >= {
        "source", "bronze", "gold", "events"}
