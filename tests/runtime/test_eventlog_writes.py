"""The event log's writes during an update run on its writer thread: a flow (and the flows waiting
for it) never waits for a commit of the log, and every event still lands, in order."""

from __future__ import annotations

import threading
import time

from lakesmith.locations import Location
from lakesmith.runtime import eventlog
from lakesmith.runtime.eventlog import EventLog
from lakesmith.runtime.eventlog_queries import read_events
from lakesmith.runtime.events import FlowMetrics, FlowStatus, UpdateState

PIPELINE = """
from pyspark import pipelines as dp

@dp.table
def bronze():
    return spark.readStream.format("delta").load(spark.conf.get("source"))

@dp.table
def silver():
    return spark.readStream.table("bronze").where("id > 1")

@dp.materialized_view
def gold():
    return spark.read.table("silver").groupBy().count()
"""


def test_flows_never_wait_for_the_event_log(project, tmp_path, spark, monkeypatch) -> None:
    source = tmp_path / "source"
    spark.createDataFrame([(1,), (2,), (3,)], "id BIGINT").write.format("delta").save(str(source))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE)
    writes: list[tuple[str, float]] = []
    original = EventLog._write_buffered

    def slow_write(self: EventLog) -> None:
        writes.append((threading.current_thread().name, time.perf_counter()))
        time.sleep(0.3)  # a slow store: flows must not wait for it
        original(self)

    monkeypatch.setattr(EventLog, "_write_buffered", slow_write)
    monkeypatch.setattr(eventlog, "FLUSH_INTERVAL_SECONDS", 0.0)  # a write after every flow

    result = project.run()

    assert result.state == UpdateState.COMPLETED
    threads = [name for name, _ in writes]
    assert not [name for name in threads if name.startswith("flow")], threads
    assert any(name.startswith("event-log") for name in threads)
    events = [e for e in read_events(Location.local(project.root / "storage"))
              if e["origin"]["update_id"] == result.update_id]
    completed = [e["origin"]["flow_name"] for e in events if e["event_type"] == "flow_progress"
                 and e["details_json"]["flow_progress"]["status"] == "COMPLETED"]
    assert sorted(completed) == ["bronze", "gold", "silver"]
    states = [e["details_json"]["update_progress"]["state"] for e in events
              if e["event_type"] == "update_progress"]
    assert states == ["INITIALIZING", "SETTING_UP_TABLES", "RUNNING", "COMPLETED"]
    sequence = [e["sequence"]["control_plane_seq_no"] for e in events]
    assert sequence == sorted(sequence)
    assert project.rows("silver", order_by="id") == [{"id": 2}, {"id": 3}]


def _log_commits(project) -> int:
    return len(list((project.root / "storage" / "system" / "events" / "_delta_log").glob("*.json")))


def _pipeline_with_a_log(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    spark.createDataFrame([(1,), (2,), (3,)], "id BIGINT").write.format("delta").save(str(source))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE)
    assert project.run().state == UpdateState.COMPLETED


def test_an_update_that_writes_no_data_commits_the_log_once(project, tmp_path, spark) -> None:
    """The first write waits a second after RUNNING unless the update writes data: an update
    that ends before (one with nothing new) writes all its events in one commit, in order."""
    _pipeline_with_a_log(project, tmp_path, spark)
    before = _log_commits(project)
    with project.open() as pipeline:
        plan = pipeline.plan()
        log = EventLog(pipeline.storage, "u-1", pipeline.graph, plan)
        for state in (UpdateState.INITIALIZING, UpdateState.RUNNING):
            log.update_progress(state)
        for planned in plan.flows:
            log.flow_progress(planned.flow, FlowStatus.COMPLETED, FlowMetrics(num_output_rows=0))
        assert _log_commits(project) == before  # nothing written while it runs
        log.update_progress(UpdateState.COMPLETED)

    assert _log_commits(project) == before + 1
    events = [e for e in read_events(Location.local(project.root / "storage"))
              if e["origin"]["update_id"] == "u-1"]
    assert [e["event_type"] for e in events] == [
        "create_update", "update_progress", "update_progress", "flow_progress", "flow_progress",
        "flow_progress", "update_progress"]
    sequence = [e["sequence"]["control_plane_seq_no"] for e in events]
    assert sequence == sorted(sequence)


def test_an_update_that_writes_data_is_in_the_log_before_it_ends(project, tmp_path,
                                                                  spark) -> None:
    """Once the update writes data (`work_begins`: its engine starts) the events so far are
    written at once: a crash from then on still leaves the update in the log."""
    _pipeline_with_a_log(project, tmp_path, spark)
    before = _log_commits(project)
    with project.open() as pipeline:
        log = EventLog(pipeline.storage, "u-2", pipeline.graph, pipeline.plan())
        for state in (UpdateState.INITIALIZING, UpdateState.RUNNING):
            log.update_progress(state)
        log.work_begins()
        deadline = time.monotonic() + 0.8  # well before the second the write would wait
        while _log_commits(project) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        written = [e["details_json"]["update_progress"]["state"]
                   for e in read_events(Location.local(project.root / "storage"))
                   if e["origin"]["update_id"] == "u-2" and e["event_type"] == "update_progress"]
        assert written == ["INITIALIZING", "RUNNING"]
        log.update_progress(UpdateState.COMPLETED)
    assert _log_commits(project) == before + 2
