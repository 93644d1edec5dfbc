"""Spark's answers for functions the engine lacks or answers otherwise, in real pipelines: SQL
and Python (DataFrame functions) flows land Spark 4.3's values in their Delta tables —
from_json of overflowing INTs and TIMESTAMPs, to_json, initcap, decode, extract, substring,
array_contains with NULLs, zip_with, transform_values, explode of a map (which crashes the
engine) — and what lakesmith cannot rewrite is refused at dry-run with the flow, the file line
and what Spark would do."""

from __future__ import annotations

import datetime as dt

import pytest

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

UTC = dt.timezone.utc

RAW = """
    CREATE MATERIALIZED VIEW raw AS SELECT * FROM VALUES
      (1, '{"qty": 3000000000, "at": "2024-01-05T10:00:00Z", "tags": ["a", null]}',
       'hello wORLD o''neil-smith', map('a', 1, 'b', 2), DATE'2024-01-07'),
      (2, '{"qty": 7, "at": "2024-01-06T11:30:00Z", "tags": ["b"]}',
       'ßa b', map('c', 3), DATE'2024-01-08')
    AS t(id, payload, name, attrs, day);
"""


def test_sql_pipeline_lands_sparks_values(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", RAW + """
        CREATE MATERIALIZED VIEW parsed AS
        SELECT id, from_json(payload, 'qty INT, at TIMESTAMP, tags ARRAY<STRING>') AS p,
               initcap(name) AS title, decode(id, 1, 'one', 2, 'two', 'many') AS word,
               extract(DAYOFWEEK_ISO FROM day) AS iso_dow, substring(name, 3, -1) AS nothing
        FROM raw;

        CREATE MATERIALIZED VIEW facts AS
        SELECT id, p.qty AS qty, p.at AS at, array_contains(p.tags, 'x') AS has_x,
               to_json(named_struct('at', p.at, 'price', CAST(1.5 AS DECIMAL(5,2)))) AS out,
               zip_with(p.tags, array('1', '2'), (t, n) -> concat(coalesce(t, '?'), n)) AS z
        FROM parsed;

        CREATE MATERIALIZED VIEW attributes AS
        SELECT id, explode(transform_values(attrs, (k, v) -> v * 10)) FROM raw;
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    parsed = project.rows("parsed", order_by="id")
    assert [{k: v for k, v in r.items() if k != "p"} for r in parsed] == [
        {"id": 1, "title": "Hello World O'neil-smith", "word": "one", "iso_dow": 7,
         "nothing": ""},
        {"id": 2, "title": "Ssa B", "word": "two", "iso_dow": 1, "nothing": ""},
    ]
    assert project.rows("facts", order_by="id") == [
        {"id": 1, "qty": None, "at": dt.datetime(2024, 1, 5, 10, 0, tzinfo=UTC), "has_x": None,
         "out": '{"at":"2024-01-05T10:00:00.000Z","price":1.50}', "z": ["a1", "?2"]},
        {"id": 2, "qty": 7, "at": dt.datetime(2024, 1, 6, 11, 30, tzinfo=UTC), "has_x": False,
         "out": '{"at":"2024-01-06T11:30:00.000Z","price":1.50}', "z": ["b1", "?2"]},
    ]
    assert project.rows("attributes", order_by=["id", "key"]) == [
        {"id": 1, "key": "a", "value": 10}, {"id": 1, "key": "b", "value": 20},
        {"id": 2, "key": "c", "value": 30},
    ]


def test_python_pipeline_dataframe_functions_land_sparks_values(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", RAW)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def parsed():
            return spark.read.table("raw").select(
                "id", F.from_json("payload", "qty INT, at TIMESTAMP").alias("p"),
                F.initcap("name").alias("title"),
                # Spark: from 6 before the string, 7 characters end after its first one
                F.substring("name", -30, 7).alias("head"),
                F.array_contains(F.array(F.lit("a"), F.lit(None)), "b").alias("unknown"))

        @dp.materialized_view
        def entries():
            return spark.read.table("raw").select(
                "id", F.explode(F.transform_values("attrs", lambda k, v: v + 1)))

        @dp.materialized_view
        def zipped():
            return spark.read.table("raw").select(
                "id", F.zip_with(F.array(F.lit(1), F.lit(2)), F.array("id"),
                                 lambda x, y: x + y).alias("z"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("parsed", order_by="id") == [
        {"id": 1, "p": {"qty": None, "at": dt.datetime(2024, 1, 5, 10, 0, tzinfo=UTC)},
         "title": "Hello World O'neil-smith", "head": "h", "unknown": None},
        {"id": 2, "p": {"qty": 7, "at": dt.datetime(2024, 1, 6, 11, 30, tzinfo=UTC)},
         "title": "Ssa B", "head": "", "unknown": None},
    ]
    assert project.rows("entries", order_by=["id", "key"]) == [
        {"id": 1, "key": "a", "value": 2}, {"id": 1, "key": "b", "value": 3},
        {"id": 2, "key": "c", "value": 4},
    ]
    assert project.rows("zipped", order_by="id") == [
        {"id": 1, "z": [2, None]}, {"id": 2, "z": [3, None]},
    ]


def test_to_json_of_a_decimal_spark_writes_in_exponent_form_is_refused_at_dry_run(
        project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", RAW + """
        CREATE MATERIALIZED VIEW payloads AS
        SELECT id, to_json(named_struct('rate', CAST(0.00000012 AS DECIMAL(10,8)))) AS j
        FROM raw;
    """)
    with pytest.raises(GraphValidationError) as info:
        with project.open() as pipeline:
            pipeline.analyze()
    message = str(info.value)
    assert "flow 'payloads'" in message and "a.sql:" in message
    assert "to_json of a DECIMAL with a scale above 6" in message
    assert "exponent form (1.2E-7)" in message
    assert not project.table_path("payloads").exists()


def test_streaming_table_from_landing_files_gets_sparks_values_per_batch(
        project, tmp_path) -> None:
    import json
    import os

    landing = tmp_path / "landing"
    landing.mkdir()

    def land(name: str, rows: list[dict], mtime: int) -> None:
        path = landing / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        os.utime(path, (mtime, mtime))

    land("a.json", [{"id": 1, "name": "mary-jane o'neil",
                     "payload": '{"qty": 3000000000, "at": "2024-01-05T10:00:00Z"}'}],
         1_700_000_000)
    project.write_spec()
    project.write("transformations/orders.sql", f"""
        CREATE OR REFRESH STREAMING TABLE orders AS
        SELECT CAST(id AS INT) AS id, initcap(name) AS name,
               from_json(payload, 'qty INT, at TIMESTAMP').qty AS qty,
               from_json(payload, 'qty INT, at TIMESTAMP').at AS at
        FROM STREAM read_files('{landing}', format => 'json');
    """)
    first = project.run()
    assert first.state == UpdateState.COMPLETED, [str(f.error) for f in first.failed_flows]
    land("b.json", [{"id": 2, "name": "ßen b", "payload": '{"qty": 7, "at": "2024-01-06"}'}],
         1_700_000_100)
    second = project.run()
    assert second.state == UpdateState.COMPLETED, [str(f.error) for f in second.failed_flows]
    assert project.rows("orders", order_by="id") == [
        {"id": 1, "name": "Mary-jane O'neil", "qty": None,
         "at": dt.datetime(2024, 1, 5, 10, 0, tzinfo=UTC)},
        {"id": 2, "name": "Ssen B", "qty": 7, "at": dt.datetime(2024, 1, 6, 0, 0, tzinfo=UTC)},
    ]
