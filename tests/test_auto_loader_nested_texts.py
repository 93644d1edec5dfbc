"""Auto Loader JSON: STRING values inside structs and arrays land in the bronze table as written,
as Spark's reader gives them (`12.30`, `1e3`, an object's spaces), run after run; a record whose
text lakesmith cannot give exactly fails the flow, naming the field and the file, and nothing
of its batch lands (sources/files/formats/nested_texts.py)."""

from __future__ import annotations

from pathlib import Path

from test_auto_loader import bronze, completed, failure, landing_file, uri


def test_nested_numbers_and_objects_land_as_written(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    a = landing_file(landing, "a.json", (
        '{"id": "1", "customer": {"zip": 12345678901234567890, "score": 12.30, '
        '"tags": "vip"}, "items": [{"sku": "p", "price": 12.30}, '
        '{"sku": "q", "price": 1e3}]}\n'
        '{"id": "2", "customer": {"zip": "0042", "score": -0, "tags": {"k": [1, 2]}}, '
        '"items": []}\n'), 1_700_000_000)
    bronze(project, landing)
    completed(project.run())
    # Inferred: every leaf a STRING (`tags`, a string here and an object there, too); Spark
    # 4.3 keeps each one's text as written.
    assert project.rows("bronze_orders", order_by="id") == [
        {"customer": {"score": "12.30", "tags": "vip", "zip": "12345678901234567890"},
         "id": "1",
         "items": [{"price": "12.30", "sku": "p"}, {"price": "1e3", "sku": "q"}],
         "_rescued_data": None, "_source_file": uri(a)},
        {"customer": {"score": "-0", "tags": '{"k": [1, 2]}', "zip": "0042"}, "id": "2",
         "items": [], "_rescued_data": None, "_source_file": uri(a)},
    ]
    b = landing_file(landing, "b.json", (
        '[{"id": "3", "customer": {"zip": 7, "score": 0.50, "tags": {}}, '
        '"items": [{"sku": "r", "price": 2.50}]}]\n'), 1_700_000_100)
    completed(project.run())
    assert project.rows("bronze_orders", order_by="id")[2] == {
        "customer": {"score": "0.50", "tags": "{}", "zip": "7"}, "id": "3",
        "items": [{"price": "2.50", "sku": "r"}], "_rescued_data": None, "_source_file": uri(b)}


def test_an_object_in_an_array_of_strings_fails_the_batch_by_name(project,
                                                                  tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", '{"id": "1", "notes": ["x", 1.50]}\n', 1_700_000_000)
    bronze(project, landing)
    completed(project.run())
    assert [r["notes"] for r in project.rows("bronze_orders")] == [["x", "1.50"]]
    bad = landing_file(landing, "b.json", '{"id": "2", "notes": ["y", {"at" : 1}]}\n',
                       1_700_000_100)
    message = failure(project.run())
    assert "bronze_orders" in message and f"file:{bad}" in message
    assert "holds an object or array in the STRING field notes[] inside an array" in message
    # Nothing of the failed batch landed.
    assert [r["id"] for r in project.rows("bronze_orders")] == ["1"]
