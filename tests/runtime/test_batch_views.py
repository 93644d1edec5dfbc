"""A streaming batch over files reads its slice through a temporary view; the view is dropped off
the flow's path (on the workspace's cleanup thread), and every one is gone once the update ends,
before its session closes."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from lakesmith.engine import plans
from lakesmith.runtime.events import UpdateState


def test_slice_views_are_dropped_off_the_flows_path(project: Any, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.json").write_text("".join(json.dumps({"id": i}) + "\n" for i in range(3)))
    project.write_spec()
    project.write("transformations/bronze.py", f"""
        import dlt

        @dlt.table
        def bronze():
            return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
                    .schema("id BIGINT").load("{landing}"))
    """)
    dropped_on: list[tuple[str, str]] = []
    original = plans.PlanRewriter.drop_temp_views

    def recorded(self: plans.PlanRewriter) -> None:
        dropped_on.extend((name, threading.current_thread().name) for name in self.temp_views)
        original(self)

    monkeypatch.setattr(plans.PlanRewriter, "drop_temp_views", recorded)
    with project.open() as pipeline:
        result = pipeline.run(pipeline.plan())
        assert result.state == UpdateState.COMPLETED
        views = [t.name for t in pipeline.engine.spark.catalog.listTables()
                 if t.isTemporary and t.name.startswith("__lakesmith")]
    assert views == []
    slices = [(name, thread) for name, thread in dropped_on if "_slice_" in name]
    assert len(slices) == 1 and slices[0][1].startswith("cleanup")
    assert sorted(r["id"] for r in project.rows("bronze")) == [0, 1, 2]
