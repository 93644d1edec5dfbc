"""Spark's own file stream source (`spark.readStream.json/csv(path)` with a schema, no Auto
Loader) in a pipeline: each file's rows land once, parsed as Spark parses them, across updates;
a read without a schema and Spark options lakesmith does not implement are refused at dry-run."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lakesmith.errors import LakesmithError
from lakesmith.runtime.events import UpdateState


def test_json_and_csv_streams_land_each_file_once(project) -> None:
    project.write_spec()
    project.write("data/json/a.json", '{"id":1,"name":"a","amount":1.005}\nnot json\n')
    project.write("data/csv/a.csv", 'id,note\n1,"say ""hi"""\n')
    project.write("transformations/a.py", """
        from pyspark import pipelines as dp

        @dp.table
        def events():
            return (spark.readStream.schema("id INT, name STRING, amount DECIMAL(10,2)")
                    .json("data/json"))

        @dp.table
        def notes():
            return (spark.readStream.schema("id INT, note STRING").option("header", True)
                    .csv("data/csv"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    # PERMISSIVE: the malformed line is a row of NULLs; DECIMAL rounded HALF_UP
    assert project.rows("events", order_by="id") == [
        {"id": 1, "name": "a", "amount": Decimal("1.01")},
        {"id": None, "name": None, "amount": None},
    ]
    assert project.rows("notes") == [{"id": 1, "note": '"say ""hi"""'}]

    project.write("data/json/b.json", '{"id":2,"name":"b","amount":"2.675"}\n')
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    assert project.rows("events", order_by="id") == [
        {"id": 1, "name": "a", "amount": Decimal("1.01")},
        {"id": 2, "name": "b", "amount": Decimal("2.68")},
        {"id": None, "name": None, "amount": None},
    ]
    assert project.rows("notes") == [{"id": 1, "note": '"say ""hi"""'}]


def test_a_file_stream_without_a_schema_is_refused_as_spark_does(project) -> None:
    message = _refusal_of(project, 'spark.readStream.json("data/json")')
    assert "Schema must be specified" in message and "events" in message


def test_a_spark_file_source_option_lakesmith_lacks_is_refused(project) -> None:
    message = _refusal_of(
        project, 'spark.readStream.schema("id INT").option("latestFirst", True).json("data/json")')
    assert "latestFirst=True is not supported yet" in message


def _refusal_of(project, read: str) -> str:
    """The dry-run error of a streaming table 'events' that returns `read`."""
    project.write_spec()
    project.write("data/json/a.json", '{"id":1}\n')
    project.write("transformations/a.py", f"""
        from pyspark import pipelines as dp

        @dp.table
        def events():
            return {read}
    """)
    with pytest.raises(LakesmithError) as info:
        with project.open() as pipeline:
            pipeline.analyze()
    return str(info.value)
