"""Auto Loader's default JSON schema, every column a STRING, as a later batch reads it: each
value's text as written, a repeated key's last value (a JSON null too, as Spark 4.3 reads
`{"a": "x", "a": null}`), rescued data only where something was rescued, and the new-field
guard firing on a record whose unknown field holds a JSON null.

The read skips the key comparisons for a record holding as many keys as STRING values found
(`json_format.py`: each value is found under its own key, so none repeats and none is unknown);
these records are the ones that count does not vouch for, and must still read as Spark reads
them (the text rules are tested against Spark 4.3 in `test_formats_golden.py`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakesmith.runtime.events import UpdateState

BRONZE = """
import dlt

@dlt.table
def bronze():
    return spark.readStream.format("cloudFiles").option("cloudFiles.format", "json").load(
        "{landing}")
"""

COLUMNS = ("id", "amount", "name", "nested")


def land(landing: Path, name: str, lines: list[str]) -> str:
    landing.mkdir(exist_ok=True)
    path = landing / name
    path.write_text("".join(line + "\n" for line in lines))
    return f"file:{path}"


def rows_of(project: Any, ids: set[str | None]) -> list[tuple[Any, ...]]:
    rows = project.rows("bronze")
    return sorted((tuple(r[c] for c in COLUMNS) + (r["_rescued_data"],) for r in rows
                   if r["id"] in ids), key=repr)


def test_a_later_batch_keeps_texts_repeated_keys_and_rescues_only_what_it_must(
        project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    land(landing, "a.json", ['{"id": 0, "amount": 1, "name": "a", "nested": "x"}'])
    project.write_spec()
    project.write("transformations/bronze.py", BRONZE.format(landing=landing))
    assert project.run().state == UpdateState.COMPLETED
    path = land(landing, "b.json", [
        '{"id": 1, "amount": 127.50, "name": "caf\\u00e9 \\"q\\"", "nested": {"k": [1, 2]}}',
        '{"id": 2, "amount": null, "name": "b"}',
        '{"id": 3, "id": 4, "name": "c", "amount": 1e3}',
        '{"ID": 5, "id": "5", "name": "d"}',
        '{"id": "6", "name": "e", "nested": null, "amount": -0.0}',
        '[{"id": 7, "name": "f"}, {"id": 8, "nested": "s"}]',
        '{"id": 9, "name": "h", "amount": "127.50"}',
        '{"id": "13", "name": "x", "amount": 1.50, "name": null}',
        '{"id": 10, "name": ',
    ])
    assert project.run().state == UpdateState.COMPLETED
    rescued_case = json.dumps({"ID": "5", "_file_path": path}, separators=(",", ":"))
    rescued_line = json.dumps({"_corrupt_record": '{"id": 10, "name": ', "_file_path": path},
                              separators=(",", ":"))
    assert rows_of(project, {"1", "2", "4", "5", "6", "7", "8", "9", "13", None}) == sorted([
        ("1", "127.50", 'café "q"', '{"k": [1, 2]}', None),
        ("2", None, "b", None, None),
        ("4", "1e3", "c", None, None),
        ("5", None, "d", None, rescued_case),
        ("6", "-0.0", "e", None, None),
        ("7", None, "f", None, None),
        ("8", None, None, "s", None),
        ("9", "127.50", "h", None, None),
        ("13", "1.50", None, None, None),
        (None, None, None, None, rescued_line),
    ], key=repr)


def test_an_unknown_field_holding_null_stops_the_batch_with_databricks_error(
        project, tmp_path: Path) -> None:
    """`{"id": 11, "extra": null}` holds one STRING value and two keys; `{"other": "o"}` one key
    the schema lacks beside a missing one: the guard fires on each, the batch lands nothing, and
    the rerun lands it with the new columns (addNewColumns)."""
    landing = tmp_path / "landing"
    land(landing, "a.json", ['{"id": 0, "amount": 1, "name": "a", "nested": "x"}'])
    project.write_spec()
    project.write("transformations/bronze.py", BRONZE.format(landing=landing))
    assert project.run().state == UpdateState.COMPLETED
    land(landing, "b.json", ['{"id": 11, "name": "n", "extra": null}', '{"other": "o"}',
                             '{"id": 12, "amount": 2, "name": "m", "nested": "y"}'])
    stopped = project.run()
    assert stopped.state == UpdateState.FAILED
    message = " ".join(str(r.error) for r in stopped.failed_flows)
    assert "NEW_FIELDS_IN_RECORD_WITH_FILE_PATH" in message and "extra, other" in message
    assert [r["id"] for r in project.rows("bronze")] == ["0"]
    assert project.run().state == UpdateState.COMPLETED
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["name"], r["extra"], r["other"], r["_rescued_data"]) for r in rows] == [
        ("0", "a", None, None, None), ("11", "n", None, None, None),
        ("12", "m", None, None, None), (None, None, None, "o", None)]
