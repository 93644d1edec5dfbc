"""The addNewColumns check folded into a batch's read: a later JSON batch is read once, with a
guard that fails it at a record with a field the schema lacks; only then are the new fields
listed exactly and the evolution mode's stop made. Nothing of a stopped batch is committed, and
the rerun lands it exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import lakesmith.sources.files.formats as formats
from lakesmith.runtime.events import UpdateState

BRONZE = """
import dlt

@dlt.table
def bronze():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json"){options}
            .load("{landing}"){query})
"""


def write_pipeline(project: Any, landing: Path, query: str = "", **options: str) -> None:
    project.write_spec()
    reader = "".join(f'.option("{k}", "{v}")' for k, v in options.items())
    project.write("transformations/bronze.py",
                  BRONZE.format(landing=landing, options=reader, query=query))


def land(landing: Path, name: str, rows: list[dict[str, Any]]) -> None:
    landing.mkdir(exist_ok=True)
    (landing / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def exact_checks(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The exact listings of new fields made (each one is a query over the batch's records)."""
    calls: list[list[str]] = []
    original = formats.new_columns

    def counted(spark: Any, files: Any, spec: Any) -> list[str]:
        found: list[str] = original(spark, files, spec)
        calls.append(found)
        return found

    monkeypatch.setattr(formats, "new_columns", counted)
    return calls


def checkpoint_logs(project: Any) -> tuple[list[str], list[str]]:
    (flow,) = (project.root / "storage" / "checkpoints").glob("*/*")
    return (sorted(p.name for p in (flow / "offsets").iterdir()),
            sorted(p.name for p in (flow / "commits").iterdir()))


def test_a_later_batch_without_new_fields_is_not_listed(project, tmp_path: Path,
                                                        exact_checks: list[list[str]]) -> None:
    landing = tmp_path / "landing"
    land(landing, "a.json", [{"id": 1, "name": "x"}])
    write_pipeline(project, landing)
    assert project.run().state == UpdateState.COMPLETED
    land(landing, "b.json", [{"id": 2, "Name": "case only: rescued"}, {"id": 3}])
    assert project.run().state == UpdateState.COMPLETED
    assert exact_checks == []  # the guard let every record through: no listing query
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["name"]) for r in rows] == [("1", "x"), ("2", None), ("3", None)]
    assert json.loads(rows[1]["_rescued_data"])["Name"] == "case only: rescued"


def test_the_guard_stops_the_batch_then_the_rerun_lands_it_once(
        project, tmp_path: Path, exact_checks: list[list[str]]) -> None:
    landing = tmp_path / "landing"
    land(landing, "a.json", [{"id": 1, "customer": {"name": "ann"}}])
    write_pipeline(project, landing)
    assert project.run().state == UpdateState.COMPLETED
    land(landing, "b.json", [{"id": 2, "customer": {"name": "bob"}}])
    land(landing, "c.json", [{"id": 3, "customer": {"name": "cy", "tier": "gold"}, "color": "red"}])
    stopped = project.run()
    assert stopped.state == UpdateState.FAILED
    message = " ".join(str(r.error) for r in stopped.failed_flows)
    assert "NEW_FIELDS_IN_RECORD_WITH_FILE_PATH" in message
    assert "color, customer.tier" in message and "Run the pipeline again" in message
    assert exact_checks == [["color", "customer.tier"]]
    # Nothing of the batch landed; it stays recorded, to be read again from the same files.
    assert [r["id"] for r in project.rows("bronze")] == ["1"]
    assert checkpoint_logs(project) == (["0", "1"], ["0"])
    assert project.run().state == UpdateState.COMPLETED
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["customer"], r["color"]) for r in rows] == [
        ("1", {"name": "ann", "tier": None}, None), ("2", {"name": "bob", "tier": None}, None),
        ("3", {"name": "cy", "tier": "gold"}, "red")]
    assert checkpoint_logs(project) == (["0", "1"], ["0", "1"])
    assert project.run().state == UpdateState.COMPLETED  # nothing new: nothing twice
    assert len(project.rows("bronze")) == 3


def test_fail_on_new_columns_stops_every_run_until_the_mode_changes(project,
                                                                    tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    land(landing, "a.json", [{"id": 1}])
    write_pipeline(project, landing, **{"cloudFiles.schemaEvolutionMode": "failOnNewColumns"})
    assert project.run().state == UpdateState.COMPLETED
    land(landing, "b.json", [{"id": 2, "extra": "e"}])
    for _ in range(2):
        failed = project.run()
        assert failed.state == UpdateState.FAILED
        assert "NEW_FIELDS_IN_FILE" in str(failed.failed_flows[0].error)
        assert [r["id"] for r in project.rows("bronze")] == ["1"]
    write_pipeline(project, landing, **{"cloudFiles.schemaEvolutionMode": "rescue"})
    assert project.run().state == UpdateState.COMPLETED
    rows = project.rows("bronze", order_by="id")
    assert [r["id"] for r in rows] == ["1", "2"]
    assert json.loads(rows[1]["_rescued_data"])["extra"] == "e"


def test_the_guard_stops_a_batch_read_while_it_is_prepared(project, tmp_path: Path) -> None:
    """A streaming dropDuplicates computes its batch (a scratch table) before the batch is
    recorded: the guard fires there, and the stop is the same."""
    landing = tmp_path / "landing"
    land(landing, "a.json", [{"id": 1}, {"id": 1}])
    write_pipeline(project, landing, query=".dropDuplicates(['id'])")
    assert project.run().state == UpdateState.COMPLETED
    land(landing, "b.json", [{"id": 2, "extra": "e"}, {"id": 1}])
    stopped = project.run()
    assert stopped.state == UpdateState.FAILED
    assert "new column(s): extra" in str(stopped.failed_flows[0].error)
    assert [r["id"] for r in project.rows("bronze")] == ["1"]
    assert project.run().state == UpdateState.COMPLETED
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["extra"]) for r in rows] == [("1", None), ("2", "e")]


def test_rescue_mode_guards_only_struct_fields(project, tmp_path: Path,
                                               exact_checks: list[list[str]]) -> None:
    landing = tmp_path / "landing"
    land(landing, "a.json", [{"id": 1, "customer": {"name": "ann"}}])
    write_pipeline(project, landing, **{"cloudFiles.schemaEvolutionMode": "rescue"})
    assert project.run().state == UpdateState.COMPLETED
    land(landing, "b.json", [{"id": 2, "note": "top-level: rescued"}])
    assert project.run().state == UpdateState.COMPLETED
    assert exact_checks == []
    land(landing, "c.json", [{"id": 3, "customer": {"name": "cy", "tier": "gold"}}])
    failed = project.run()
    assert failed.state == UpdateState.FAILED
    assert "customer.tier" in str(failed.failed_flows[0].error)
    assert sorted(r["id"] for r in project.rows("bronze")) == ["1", "2"]


def test_a_query_reading_only_file_metadata_is_not_stopped(project, tmp_path: Path) -> None:
    """The guard rides on the records' keys; a query that reads none of the data columns lets
    the engine prune it (docs/auto-loader.md): the batch lands, without the new field."""
    landing = tmp_path / "landing"
    land(landing, "a.json", [{"id": 1}])
    write_pipeline(project, landing, query=".select('_metadata.file_name')")
    assert project.run().state == UpdateState.COMPLETED
    land(landing, "b.json", [{"id": 2, "extra": "e"}])
    assert project.run().state == UpdateState.COMPLETED
    assert sorted(r["file_name"] for r in project.rows("bronze")) == ["a.json", "b.json"]
