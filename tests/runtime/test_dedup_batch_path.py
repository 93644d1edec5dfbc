"""The batch path of a deduplicated streaming table with `drop` rules (the medallion's
silver_orders): the rows, the event log's `data_quality` counts and the dedup state stay exact
across runs, while the batch's write asks the engine no schema and its scratch keeps only the
files of the newest batch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import quality, read_events
from lakesmith.runtime.events import UpdateState

SCHEMA = "order_id STRING, customer_id STRING, amount STRING"


def land(spark: Any, path: Path, rows: list[tuple[str | None, ...]]) -> None:
    spark.createDataFrame(rows, SCHEMA).coalesce(1).write.format("delta").mode("append") \
        .save(str(path))


def counts(project: Any, update_id: str) -> dict[tuple[str, str], tuple[int, int]]:
    events = read_events(Location.local(project.root / "storage"))
    return {(q.dataset, q.expectation): (q.passed, q.failed)
            for q in quality(events, update_id)}


def dropped(project: Any, update_id: str) -> int:
    events = read_events(Location.local(project.root / "storage"))
    return sum(json.loads(e["details"])["flow_progress"].get("data_quality", {})
               .get("dropped_records", 0)
               for e in events if e["event_type"] == "flow_progress"
               and e["origin"]["update_id"] == update_id
               and e["origin"]["flow_name"] == "silver")


@pytest.fixture
def writer_schema_requests(monkeypatch: pytest.MonkeyPatch,
                           schema_requests: list[str]) -> list[int]:
    """For each output write of a batch, the schema requests made while the written rows were
    made nullable (`schema.nullable` inside the writer)."""
    from lakesmith.runtime.flows import streaming_table

    asked: list[int] = []
    original = streaming_table.nullable

    def recorded(spark: Any, df: Any, table: Any, known: Any = None) -> Any:
        before = len(schema_requests)
        result = original(spark, df, table, known=known)
        asked.append(len(schema_requests) - before)
        return result

    monkeypatch.setattr(streaming_table, "nullable", recorded)
    return asked


def test_deduplicated_rows_counts_and_state_across_runs(
        project: Any, tmp_path: Path, spark: Any, writer_schema_requests: list[int]) -> None:
    source = tmp_path / "bronze"
    land(spark, source, [("1", "10", "5.00"), ("2", None, "3.00"), ("1", "11", "9.00"),
                         ("3", "12", "-1.00")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/silver.py", """
        import dlt
        from pyspark.sql.functions import col

        @dlt.table
        @dlt.expect_or_drop("positive_amount", "amount > 0")
        @dlt.expect_or_drop("known_customer", "customer_id IS NOT NULL")
        def silver():
            return (spark.readStream.format("delta").load(spark.conf.get("source"))
                    .select(col("order_id").cast("bigint").alias("order_id"),
                            col("customer_id").cast("bigint").alias("customer_id"),
                            col("amount").cast("decimal(10,2)").alias("amount"))
                    .dropDuplicates(["order_id"]))
    """)
    first = project.run()
    assert first.state == UpdateState.COMPLETED
    # order 1's first row is kept; 2 (no customer) and 3 (negative amount) are dropped
    assert [(r["order_id"], r["customer_id"], str(r["amount"]))
            for r in project.rows("silver", order_by="order_id")] == [(1, 10, "5.00")]
    assert counts(project, first.update_id) == {("silver", "positive_amount"): (2, 1),
                                                ("silver", "known_customer"): (2, 1)}
    assert dropped(project, first.update_id) == 2

    # Keys 1-3 were seen (dropped rows' keys too); 4 twice in the batch, its first row kept
    land(spark, source, [("2", "20", "7.00"), ("4", "40", "0.00"), ("4", "41", "4.00"),
                         ("5", "50", "2.50"), ("6", None, "-2.00"), ("3", "30", "1.00")])
    second = project.run()
    assert second.state == UpdateState.COMPLETED
    assert [(r["order_id"], r["customer_id"], str(r["amount"]))
            for r in project.rows("silver", order_by="order_id")] == [
        (1, 10, "5.00"), (5, 50, "2.50")]
    assert counts(project, second.update_id) == {("silver", "positive_amount"): (1, 2),
                                                 ("silver", "known_customer"): (2, 1)}
    assert dropped(project, second.update_id) == 2
    # every batch's write knew its rows' schema (asked before the counting query started)
    assert writer_schema_requests == [0, 0]

    state = project.root / "storage/checkpoints/spark_catalog.default.silver/silver/state"
    (keys,) = [p for p in state.iterdir() if p.name.startswith("dedup-")]
    stored = sorted(DeltaTable(str(keys)).to_pyarrow_table().to_pylist(),
                    key=lambda r: r["order_id"])
    assert [(r["order_id"], r["__lakesmith_batch"]) for r in stored] == [
        (1, 0), (2, 0), (3, 0), (4, 1), (5, 1), (6, 1)]
    # The second batch's candidates (keys 4, 4, 5, 6) as plain Parquet files, which replaced
    # the first batch's; no Delta log, no other scratch.
    (scratch,) = [p for p in state.iterdir() if p.name.startswith("scratch-")]
    assert scratch.name.startswith("scratch-files-dedup-")
    assert [p.name for p in scratch.iterdir() if not p.name.endswith(".parquet")] == []
    assert sorted(pq.read_table(scratch).column("order_id").to_pylist()) == [4, 4, 5, 6]
