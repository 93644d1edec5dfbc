"""A streaming batch over files reads its slice through a temporary view, and analysis reads the
tables flows write through views too; they are dropped off the update's path (on the workspace's
cleanup thread), and every one is gone once the update ends, before its session closes."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from lakesmith.engine import plans
from lakesmith.runtime.events import UpdateState


def test_views_are_dropped_off_the_updates_path(project: Any, tmp_path: Path,
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

        @dlt.table
        def doubled():
            return dlt.read("bronze").selectExpr("id * 2 AS id2")
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
    assert len([name for name, _ in dropped_on if "_slice_" in name]) == 1
    assert any("_table_" in name for name, _ in dropped_on)  # analysis's view of bronze
    assert {thread.split("_")[0] for _, thread in dropped_on} == {"cleanup"}
    assert sorted(r["id"] for r in project.rows("bronze")) == [0, 1, 2]
    assert sorted(r["id2"] for r in project.rows("doubled")) == [0, 2, 4]
