"""Writes that ask the engine nothing they can know: the schema of a result made nullable, and a
state append's fixed columns. The answers they stand for are checked against the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyspark.sql.types import LongType, StringType, StructField, StructType

from lakesmith.graph.datasets import StreamingTable
from lakesmith.locations import Location
from lakesmith.runtime.schema import nullable
from lakesmith.source_location import SourceLocation
from lakesmith.tables.delta import open_table
from lakesmith.tables.writes import write_delta


def _table() -> StreamingTable:
    return StreamingTable(name="t", location=SourceLocation("test.py"))


def test_nullable_result_keeps_the_engines_schema(spark: Any, schema_requests: list[str]) -> None:
    df = spark.sql("SELECT 1L AS id, 'a' AS name, current_timestamp() AS at, "
                   "CAST(NULL AS STRING) AS maybe")
    result = nullable(spark, df, _table())
    asked = len(schema_requests)
    known = result.schema
    assert len(schema_requests) == asked  # no second request
    result._cached_schema = None
    assert known == result.schema  # the engine's own answer
    assert all(f.nullable for f in known.fields)
    assert result.count() == 1


def test_state_append_with_known_columns_asks_nothing(spark: Any, tmp_path: Path,
                                                      schema_requests: list[str]) -> None:
    location = Location.local(tmp_path / "state")
    rows = spark.sql("SELECT 1L AS order_id, 0L AS __lakesmith_batch")
    write_delta(rows, location, mode="append", user_metadata="{}",
                columns=["order_id", "__lakesmith_batch"])
    more = spark.sql("SELECT 2L AS ORDER_ID, 1L AS __lakesmith_batch")
    asked = len(schema_requests)
    write_delta(more, location, mode="append", user_metadata="{}",
                columns=["ORDER_ID", "__lakesmith_batch"])
    assert schema_requests[asked:] == []
    table = open_table(location)
    assert table is not None
    assert sorted(r["order_id"] for r in table.to_pyarrow_table().to_pylist()) == [1, 2]


def test_a_new_column_is_still_added_when_names_are_given(spark: Any, tmp_path: Path) -> None:
    """A name the table lacks: the engine is asked, and the column added before the append (the
    engine's own mergeSchema would drop it before a NOT NULL column)."""
    location = Location.local(tmp_path / "state")
    write_delta(spark.sql("SELECT 1L AS k, 0L AS b"), location, mode="append",
                user_metadata="{}", columns=["k", "b"])
    write_delta(spark.sql("SELECT 2L AS k, 'x' AS extra, 1L AS b"), location, mode="append",
                user_metadata="{}", columns=["k", "extra", "b"])
    table = open_table(location)
    assert table is not None
    assert StructType.fromJson(json.loads(table.schema().to_json())) == \
        StructType([StructField("k", LongType(), False), StructField("b", LongType(), False),
                    StructField("extra", StringType(), True)])
    got = sorted((r["k"], r["extra"]) for r in table.to_pyarrow_table().to_pylist())
    assert got == [(1, None), (2, "x")]
