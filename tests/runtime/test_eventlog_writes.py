"""The event log's writes during an update run on its writer thread: a flow (and the flows waiting
for it) never waits for a commit of the log, and every event still lands, in order."""

from __future__ import annotations

import threading
import time

from lakesmith.locations import Location
from lakesmith.runtime import eventlog
from lakesmith.runtime.eventlog import EventLog
from lakesmith.runtime.eventlog_queries import read_events
from lakesmith.runtime.events import UpdateState

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


def test_an_update_shorter_than_a_second_commits_the_log_once(project, tmp_path, spark) -> None:
    """The first write waits a second after RUNNING: an update that ends before (one with
    nothing new) writes all its events in one commit, in order, none lost."""
    source = tmp_path / "source"
    spark.createDataFrame([(1,), (2,), (3,)], "id BIGINT").write.format("delta").save(str(source))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE)
    assert project.run().state == UpdateState.COMPLETED
    log = project.root / "storage" / "system" / "events" / "_delta_log"
    before = sorted(log.glob("*.json"))

    result = project.run()  # nothing new

    assert result.state == UpdateState.COMPLETED
    assert len(sorted(log.glob("*.json"))) == len(before) + 1
    events = [e for e in read_events(Location.local(project.root / "storage"))
              if e["origin"]["update_id"] == result.update_id]
    states = [e["details_json"]["update_progress"]["state"] for e in events
              if e["event_type"] == "update_progress"]
    assert states == ["INITIALIZING", "SETTING_UP_TABLES", "RUNNING", "COMPLETED"]
    completed = [e["origin"]["flow_name"] for e in events if e["event_type"] == "flow_progress"
                 and e["details_json"]["flow_progress"]["status"] == "COMPLETED"]
    assert sorted(completed) == ["bronze", "gold", "silver"]
    sequence = [e["sequence"]["control_plane_seq_no"] for e in events]
    assert sequence == sorted(sequence)


def test_a_longer_update_shows_it_is_running_before_it_ends(project, tmp_path, spark,
                                                           monkeypatch) -> None:
    """The write a second after RUNNING happens while the update runs: `lakesmith runs` and
    queries of the log see a running update."""
    source = tmp_path / "source"
    spark.createDataFrame([(1,), (2,), (3,)], "id BIGINT").write.format("delta").save(str(source))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/p.py", PIPELINE)
    monkeypatch.setattr(eventlog, "FLUSH_INTERVAL_SECONDS", 0.2)
    seen_while_running: list[list[str]] = []
    original = EventLog.flow_progress

    def slow_flow_end(self: EventLog, flow, status, metrics=None, error=None) -> None:
        original(self, flow, status, metrics, error)
        if flow.name == "gold" and status.is_final:
            time.sleep(1.0)  # the update runs on past the first write
            seen_while_running.append(
                [e["details_json"]["update_progress"]["state"]
                 for e in read_events(Location.local(project.root / "storage"))
                 if e["origin"]["update_id"] == self.update_id
                 and e["event_type"] == "update_progress"])

    monkeypatch.setattr(EventLog, "flow_progress", slow_flow_end)

    result = project.run()

    assert result.state == UpdateState.COMPLETED
    assert seen_while_running == [["INITIALIZING", "SETTING_UP_TABLES", "RUNNING"]]
