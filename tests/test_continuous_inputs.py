"""Continuous mode recomputes a materialized view only when what it reads changed: a file it
reads (size or modification time), a Delta table, a pipeline table upstream. Idle cycles commit
nothing; the update's result sums its cycles."""

from __future__ import annotations

import os

from deltalake import DeltaTable

from lakesmith.runtime.events import UpdateState
from lakesmith.stopping import StopRequest

SOURCES = """
from pyspark import pipelines as dp

@dp.materialized_view
def labels():
    return spark.read.option("header", "true").schema("country STRING, label STRING") \\
        .csv("data/labels.csv")

@dp.materialized_view
def counted():
    return spark.read.table("labels").groupBy().count()
"""


class Cycles:
    """Records each cycle; changes the CSV after cycle 3 and stops after cycle 7."""

    def __init__(self, project, stop: StopRequest) -> None:
        self.project = project
        self.stop = stop
        self.seen: list[tuple[int, bool, int]] = []

    def update_progress(self, state, error=None) -> None:
        pass

    def flow_progress(self, flow, status, metrics=None, error=None) -> None:
        pass

    def cycle_finished(self, cycle: int, *, idle: bool) -> None:
        version = DeltaTable(str(self.project.table_path("labels"))).version()
        self.seen.append((cycle, idle, version))
        if cycle == 3:
            csv = self.project.root / "data" / "labels.csv"
            csv.write_text("country,label\nNL,home\nUK,abroad\nUS,far\n")
            os.utime(csv, (1, 2_000_000_000))
        if cycle == 7:
            self.stop.request("test")


def test_a_materialized_view_reading_an_unchanged_file_is_not_recomputed(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", SOURCES)
    project.write("data/labels.csv", "country,label\nNL,home\nUK,abroad\n")
    stop = StopRequest()
    cycles = Cycles(project, stop)
    with project.open() as pipeline:
        result = pipeline.run(pipeline.plan(), cycles, continuous=True, trigger_interval=0.05,
                              stop=stop)
    assert result.state == UpdateState.CANCELED
    first = cycles.seen[0][2]
    assert cycles.seen == [(1, False, first), (2, True, first), (3, True, first),
                           (4, False, first + 1), (5, True, first + 1), (6, True, first + 1),
                           (7, True, first + 1)]
    assert project.rows("counted") == [{"count": 3}]
    assert result.cycles == 7
    labels = next(r for r in result.flows if r.planned.name == "labels")
    assert labels.metrics.num_output_rows == 3  # the latest refresh, not a sum over cycles
