"""ISO-8601 timestamps in landing data (`2026-11-02T23:30:00-05:00`) read as dates as Spark reads
them: `to_date`/`CAST(... AS DATE)` of the string column in SQL and DataFrame flows, and DATE
columns of the file reader, give the date written (a zone offset never shifts it); an invalid
value fails the update with Spark's error and commits nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from lakesmith.runtime.events import UpdateState

UTC = dt.timezone.utc
NOV_2 = dt.date(2026, 11, 2)


def landing_file(folder: Path, name: str, rows: list[dict], mtime: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    os.utime(path, (mtime, mtime))


ORDERS = [
    {"id": 1, "order_timestamp": "2026-11-02T10:00:00", "shipped_on": "2026-11-02T10:00:00Z"},
    {"id": 2, "order_timestamp": "2026-11-02T23:30:00Z", "shipped_on": "2026-11-02"},
    {"id": 3, "order_timestamp": "2026-11-02T23:30:00-05:00",
     "shipped_on": "2026-11-02T23:30:00-05:00"},
    {"id": 4, "order_timestamp": "2026-11-02T00:30:00.123456+05:00", "shipped_on": None},
]


def test_sql_streaming_table_reads_iso_timestamps_as_dates(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", ORDERS, 1_700_000_000)
    project.write_spec()
    project.write("transformations/orders.sql", f"""
        CREATE OR REFRESH STREAMING TABLE orders AS
        SELECT id, to_date(order_timestamp) AS order_date,
               CAST(order_timestamp AS DATE) AS cast_date,
               try_cast(order_timestamp AS DATE) AS try_date,
               CAST(order_timestamp AS TIMESTAMP) AS order_ts, shipped_on
        FROM STREAM read_files('{landing}', format => 'json',
                               schemaHints => 'id INT, shipped_on DATE');
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    dates = {"order_date": NOV_2, "cast_date": NOV_2, "try_date": NOV_2}
    assert project.rows("orders", order_by="id") == [
        {"id": 1, **dates, "order_ts": dt.datetime(2026, 11, 2, 10, 0, tzinfo=UTC),
         "shipped_on": NOV_2},
        {"id": 2, **dates, "order_ts": dt.datetime(2026, 11, 2, 23, 30, tzinfo=UTC),
         "shipped_on": NOV_2},
        {"id": 3, **dates, "order_ts": dt.datetime(2026, 11, 3, 4, 30, tzinfo=UTC),
         "shipped_on": NOV_2},
        {"id": 4, **dates, "order_ts": dt.datetime(2026, 11, 1, 19, 30, 0, 123456, tzinfo=UTC),
         "shipped_on": None},
    ]


PYTHON_FLOW = """
import dlt
from pyspark.sql import functions as F

@dlt.table
def orders():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            .load("{landing}")
            .select(F.col("id").cast("int").alias("id"),
                    F.to_date("order_timestamp").alias("order_date"),
                    F.col("order_timestamp").cast("date").alias("cast_date")))
"""


def test_python_flow_to_date_and_an_invalid_value_commits_nothing(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", ORDERS, 1_700_000_000)
    project.write_spec()
    project.write("transformations/orders.py", PYTHON_FLOW.format(landing=landing))
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    expected = [{"id": i, "order_date": NOV_2, "cast_date": NOV_2} for i in (1, 2, 3, 4)]
    assert project.rows("orders", order_by="id") == expected

    landing_file(landing, "b.json", [{"id": 5, "order_timestamp": "2026-11-03T08:00:00Z"},
                                     {"id": 6, "order_timestamp": "2026-13-02T10:00:00"}],
                 1_700_000_100)
    failed = project.run()
    assert failed.state == UpdateState.FAILED
    message = " ".join(str(f.error) for f in failed.failed_flows)
    assert "CAST_INVALID_INPUT" in message and "2026-13-02T10:00:00" in message, message
    assert project.rows("orders", order_by="id") == expected  # nothing of b.json committed


def test_csv_date_and_timestamp_columns_read_iso_timestamps(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text(
        "id,d,t\n1,2026-11-02T23:30:00-05:00,2026-11-02T23:30:00-05:00\n"
        "2,2026-11-02T10:00:00Z,2026-11-02T10:00:00Z\n3,2026-11-02,2026-11-02\n"
        "4,2026-13-02T10:00:00,2026-11-02T10:00:00\n")
    project.write_spec()
    project.write("transformations/orders.sql", f"""
        CREATE OR REFRESH STREAMING TABLE orders AS SELECT id, d, t, try_to_date(t) AS day
        FROM STREAM read_files('{landing}', format => 'csv', header => 'true',
                               schemaHints => 'id INT, d DATE, t STRING');
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    # the reader's DATE column holds the date written; an impossible date is NULL (PERMISSIVE)
    texts = ["2026-11-02T23:30:00-05:00", "2026-11-02T10:00:00Z", "2026-11-02",
             "2026-11-02T10:00:00"]
    assert project.rows("orders", order_by="id") == [
        {"id": i, "d": None if i == 4 else NOV_2, "t": text, "day": NOV_2}
        for i, text in enumerate(texts, start=1)]


def test_batch_json_read_with_a_date_schema_in_a_materialized_view(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", ORDERS, 1_700_000_000)
    project.write_spec()
    project.write("transformations/orders.py", f"""
        import dlt

        @dlt.table
        def shipments():
            return spark.read.schema("id INT, shipped_on DATE").json("{landing}")
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    # 2026-11-02T23:30:00-05:00 is the date written (the engine's reader alone says 11-03)
    assert project.rows("shipments", order_by="id") == [
        {"id": 1, "shipped_on": NOV_2}, {"id": 2, "shipped_on": NOV_2},
        {"id": 3, "shipped_on": NOV_2}, {"id": 4, "shipped_on": None}]
