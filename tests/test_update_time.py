"""An update's time, as Databricks reports it, starts at INITIALIZING: the graph's analysis (and
Auto Loader's schema inference) is part of it. The event log's create_update and INITIALIZING
events carry the moment the update began, and `lakesmith run` prints the whole time with the
initializing part."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import read_events, updates
from lakesmith.runtime.events import UpdateState

# The query function runs while the graph is analysed: it stands for a slow analysis.
PIPELINE = """
import time
from pyspark import pipelines as dp

@dp.materialized_view
def numbers():
    time.sleep(0.6)
    return spark.range(3)
"""


def test_update_time_includes_initializing(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", PIPELINE)
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert result.initializing_seconds >= 0.6
    assert result.total_seconds == result.initializing_seconds + result.duration_seconds
    assert project.rows("numbers", order_by="id") == [{"id": 0}, {"id": 1}, {"id": 2}]

    events = [e for e in read_events(Location.local(project.root / "storage"))
              if e["origin"]["update_id"] == result.update_id]
    created = next(e for e in events if e["event_type"] == "create_update")
    states = {e["details_json"]["update_progress"]["state"]: e["timestamp"] for e in events
              if e["event_type"] == "update_progress"}
    assert created["timestamp"] == states["INITIALIZING"] == result.started_at
    assert states["SETTING_UP_TABLES"] - states["INITIALIZING"] >= timedelta(seconds=0.6)
    (summary,) = [u for u in updates(events) if u.update_id == result.update_id]
    assert summary.duration_seconds is not None and summary.duration_seconds >= 0.6


def test_run_prints_the_whole_time_and_the_initializing_part(project) -> None:
    project.write_spec()
    project.write("transformations/p.py", PIPELINE)
    run = subprocess.run([sys.executable, "-m", "lakesmith", "run"], cwd=project.root,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    line = next(x for x in run.stdout.splitlines() if "COMPLETED in" in x)
    total = float(line.split(" in ")[1].split("s")[0])
    initializing = float(line.split("(initializing ")[1].split("s")[0])
    assert initializing >= 0.6 and total >= initializing
