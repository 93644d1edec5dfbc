"""How often an update reads Delta logs from the store: a log is loaded once and advanced only
when something can have committed since (`tables/delta.py`: the quiet planning, settled tables).
The count for a small medallion-like update with new data is pinned, so redundant reads cannot
creep back; the rows, event-log counts and the reads' answers stay exact."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import quality, read_events
from lakesmith.runtime.events import UpdateState
from lakesmith.tables.delta import DeltaLogs

SCHEMA = "order_id STRING, customer_id STRING, amount STRING"


def land(spark: Any, path: Path, rows: list[tuple[str | None, ...]]) -> None:
    spark.createDataFrame(rows, SCHEMA).coalesce(1).write.format("delta").mode("append") \
        .save(str(path))


@pytest.fixture
def log_reads(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """(kind, table folder) of each load (`DeltaTable.__init__`) and advance
    (`update_incremental`) of a Delta log, while the test records them."""
    reads: Counter[tuple[str, str]] = Counter()
    init, advance = DeltaTable.__init__, DeltaTable.update_incremental

    def counted_init(self: DeltaTable, table_uri: Any, *args: Any, **kwargs: Any) -> None:
        reads["load", _folder(str(table_uri))] += 1
        init(self, table_uri, *args, **kwargs)

    def counted_advance(self: DeltaTable) -> None:
        reads["advance", _folder(self.table_uri)] += 1
        advance(self)

    monkeypatch.setattr(DeltaTable, "__init__", counted_init)
    monkeypatch.setattr(DeltaTable, "update_incremental", counted_advance)
    return reads


def _folder(uri: str) -> str:
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    return name.split("-flow_")[0] if "-flow_" in name else name  # state tables: by kind


def test_an_update_with_new_data_reads_each_log_only_when_it_can_have_changed(
        project: Any, tmp_path: Path, spark: Any, log_reads: Counter[tuple[str, str]]) -> None:
    source = tmp_path / "landing"
    land(spark, source, [("1", "10", "5.00"), ("2", None, "3.00"), ("3", "12", "-1.00")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/medallion.py", """
        import dlt
        from pyspark.sql.functions import col, count, sum

        @dlt.table
        def bronze():
            return spark.readStream.format("delta").load(spark.conf.get("source"))

        @dlt.table
        @dlt.expect_or_drop("positive_amount", "amount > 0")
        @dlt.expect_or_drop("known_customer", "customer_id IS NOT NULL")
        def silver():
            return (spark.readStream.table("bronze")
                    .select(col("order_id").cast("bigint").alias("order_id"),
                            col("customer_id").cast("bigint").alias("customer_id"),
                            col("amount").cast("decimal(10,2)").alias("amount"))
                    .dropDuplicates(["order_id"]))

        @dlt.table
        def gold():
            return (spark.read.table("silver").groupBy("customer_id")
                    .agg(sum("amount").alias("revenue"), count("order_id").alias("orders")))
    """)
    assert project.run().state == UpdateState.COMPLETED
    land(spark, source, [("4", "10", "2.50"), ("1", "11", "9.00"), ("5", "13", "1.00")])
    log_reads.clear()
    second = project.run()
    assert second.state == UpdateState.COMPLETED
    reads = dict(log_reads)  # before (2d994d3): 7 loads, 51 advances (not events)

    assert [(r["order_id"], r["customer_id"], str(r["amount"]))
            for r in project.rows("silver", order_by="order_id")] == [
        (1, 10, "5.00"), (4, 10, "2.50"), (5, 13, "1.00")]
    assert [(r["customer_id"], str(r["revenue"]), r["orders"])
            for r in project.rows("gold", order_by="customer_id")] == [
        (10, "7.50", 2), (13, "1.00", 1)]
    events = read_events(Location.local(project.root / "storage"))
    assert {(q.dataset, q.expectation): (q.passed, q.failed)
            for q in quality(events, second.update_id)} == {
        ("silver", "positive_amount"): (2, 0), ("silver", "known_customer"): (2, 0)}

    # Each table's log is loaded once by the process; it is advanced again only after a commit
    # landed: not during planning (a quiet period), not by a flow downstream of its finished
    # writers (bronze in silver's batch, silver in gold's refresh, every table in the maintenance
    # after the update), and a local table with no newer commit file is not listed again.
    # (The event log's own writer thread reads its log as its buffered writes go: not pinned.)
    # A small batch's deduplication scratch is plain Parquet files: no log at all.
    assert {key: n for key, n in reads.items() if key[1] != "events"} == {
        ("load", "landing"): 1,
        ("load", "bronze"): 1, ("advance", "bronze"): 1,
        ("load", "silver"): 1, ("advance", "silver"): 1,
        ("load", "gold"): 1, ("advance", "gold"): 1,
        ("load", "dedup"): 1, ("advance", "dedup"): 1,
    }, json.dumps(sorted(f"{k[0]} {k[1]}: {v}" for k, v in reads.items()), indent=1)


def test_a_quiet_period_reads_each_log_once(tmp_path: Path,
                                            log_reads: Counter[tuple[str, str]]) -> None:
    location = Location.local(tmp_path / "t")
    write_deltalake(str(tmp_path / "t"), pa.table({"x": [1]}))
    logs = DeltaLogs()
    log_reads.clear()
    with logs.quiet():
        assert [logs(location).version() for _ in range(3)] == [0, 0, 0]
        with logs.quiet():  # nested: the same period
            assert logs(location).version() == 0
    assert log_reads == {("load", "t"): 1}
    write_deltalake(str(tmp_path / "t"), pa.table({"x": [2]}), mode="append")
    log_reads.clear()
    assert logs(location).version() == 1  # after the period: advanced again
    assert log_reads == {("advance", "t"): 1}


def test_a_settled_log_is_advanced_once_more_then_not_again(
        tmp_path: Path, log_reads: Counter[tuple[str, str]]) -> None:
    location = Location.local(tmp_path / "t")
    write_deltalake(str(tmp_path / "t"), pa.table({"x": [1]}))
    log = DeltaLogs()(location)
    assert log.version() == 0
    write_deltalake(str(tmp_path / "t"), pa.table({"x": [2]}), mode="append")
    log.settle()  # its writers are done: one more advance sees their last commit
    log_reads.clear()
    assert log.version() == 1
    assert [log.version(), log.table_id() is not None, log.identity() is not None] == \
        [1, True, True]
    assert log_reads == {("advance", "t"): 1}


def test_a_log_settled_before_its_table_exists_is_read_until_found(tmp_path: Path) -> None:
    location = Location.local(tmp_path / "t")
    log = DeltaLogs()(location)
    log.settle()
    assert log.version() is None
    write_deltalake(str(tmp_path / "t"), pa.table({"x": [1]}))
    assert log.version() == 0


def test_a_table_of_several_flows_settles_once_all_have_written(
        project: Any, tmp_path: Path, spark: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from lakesmith.tables.delta import DeltaLog

    settled: list[str] = []
    settle = DeltaLog.settle

    def recorded(self: DeltaLog) -> None:
        settled.append(self.location.local_path.name)
        settle(self)

    monkeypatch.setattr(DeltaLog, "settle", recorded)
    east, west = tmp_path / "east", tmp_path / "west"
    land(spark, east, [("1", "10", "5.00")])
    land(spark, west, [("2", "20", "3.00")])
    project.write_spec(configuration={"east": str(east), "west": str(west)})
    project.write("transformations/orders.py", """
        import dlt
        from pyspark.sql.functions import col, count, sum

        dlt.create_streaming_table("orders")

        @dlt.append_flow(target="orders")
        def from_east():
            return spark.readStream.format("delta").load(spark.conf.get("east"))

        @dlt.append_flow(target="orders")
        def from_west():
            return spark.readStream.format("delta").load(spark.conf.get("west"))

        @dlt.table
        def totals():
            return spark.read.table("orders").agg(
                sum(col("amount").cast("decimal(10,2)")).alias("revenue"),
                count("order_id").alias("orders"))
    """)
    assert project.run().state == UpdateState.COMPLETED
    land(spark, east, [("3", "10", "1.50")])
    land(spark, west, [("4", "20", "2.00"), ("5", "30", "4.00")])
    settled.clear()
    assert project.run().state == UpdateState.COMPLETED
    assert sorted(r["order_id"] for r in project.rows("orders")) == ["1", "2", "3", "4", "5"]
    assert [(str(r["revenue"]), r["orders"]) for r in project.rows("totals")] == [("15.50", 5)]
    assert sorted(settled) == ["orders", "totals"]  # orders once, after both its flows


def test_a_local_log_is_advanced_only_when_a_commit_file_is_new(
        tmp_path: Path, log_reads: Counter[tuple[str, str]]) -> None:
    folder = tmp_path / "t"
    write_deltalake(str(folder), pa.table({"x": [1]}))
    log = DeltaLogs()(Location.local(folder))
    assert log.version() == 0
    log_reads.clear()
    assert [log.version(), log.version()] == [0, 0]
    assert log_reads == {}  # nothing new: two file checks, no listing
    write_deltalake(str(folder), pa.table({"x": [2]}), mode="append")
    log_reads.clear()
    assert log.version() == 1
    assert log_reads == {("advance", "t"): 1}
    # deleted and made again with as many commits: the same names, other files
    shutil.rmtree(folder)
    write_deltalake(str(folder), pa.table({"y": ["a"]}))
    write_deltalake(str(folder), pa.table({"y": ["b"]}), mode="append")
    table = log.table()
    assert table is not None and table.version() == 1
    assert table.schema().fields[0].name == "y"
