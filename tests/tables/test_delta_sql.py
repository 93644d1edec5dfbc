"""Delta utility statements through `lakesmith.session()`: each checked against the rows and the
Delta log (read with delta-rs, independently of the code under test)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

import lakesmith
from conftest import Project, read_rows
from lakesmith.errors import LakesmithError


@pytest.fixture
def spark(project: Project) -> Iterator[Any]:
    project.write_spec()
    session = lakesmith.session(project.root, remote=project.sail_url)
    yield session
    session.stop()


def log_actions(table: Path, version: int) -> list[dict]:
    text = (table / "_delta_log" / f"{version:020d}.json").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def orders_table(spark: Any, project: Project, appends: int = 3) -> Path:
    spark.sql("CREATE TABLE silver.orders (order_id STRING, customer_id STRING, "
              "order_date DATE) CLUSTER BY (customer_id, order_date)")
    for i in range(appends):
        spark.sql(f"INSERT INTO silver.orders VALUES ('o{i}', 'c{i % 2}', "
                  f"DATE '2024-01-0{i + 1}')")
    return project.table_path("orders", schema="silver")


def test_create_table_cluster_by_lands_in_the_warehouse_as_delta(spark: Any,
                                                                   project: Project) -> None:
    path = orders_table(spark, project)
    table = DeltaTable(str(path))
    assert table.metadata().configuration["clusteringColumns"] == '["customer_id", "order_date"]'
    assert [r["order_id"] for r in read_rows(path, order_by="order_id")] == ["o0", "o1", "o2"]
    detail = spark.sql("DESCRIBE DETAIL silver.orders").collect()[0].asDict()
    assert detail["format"] == "delta" and detail["numFiles"] == 3
    assert detail["clusteringColumns"] == ["customer_id", "order_date"]
    assert detail["location"] == path.as_uri()
    assert detail["partitionColumns"] == [] and detail["minReaderVersion"] == 1


def test_cluster_by_an_unknown_column_is_refused_naming_it(spark: Any) -> None:
    spark.sql("CREATE TABLE t1 (a INT, b STRING)")
    with pytest.raises(LakesmithError, match="no column named zz"):
        spark.sql("ALTER TABLE t1 CLUSTER BY (a, zz)")


def test_optimize_clusters_once_without_changing_data(spark: Any, project: Project) -> None:
    path = orders_table(spark, project)
    before = read_rows(path, order_by="order_id")
    result = spark.sql("OPTIMIZE silver.orders").collect()[0]
    assert result.path == path.as_uri()
    assert (result.metrics.numFilesRemoved, result.metrics.numFilesAdded) == (3, 1)
    assert result.metrics.clusteringColumns == ["customer_id", "order_date"]
    version = DeltaTable(str(path)).version()
    actions = log_actions(path, version)
    assert {a["remove"]["dataChange"] for a in actions if "remove" in a} == {False}
    assert {a["add"]["dataChange"] for a in actions if "add" in a} == {False}
    assert read_rows(path, order_by="order_id") == before
    # Every file is clustered now: a second OPTIMIZE commits nothing.
    again = spark.sql("OPTIMIZE silver.orders").collect()[0]
    assert again.metrics.numFilesRemoved == 0
    assert DeltaTable(str(path)).version() == version
    # A new append is not clustered: the next OPTIMIZE clusters only it (incrementally, in the
    # engine), keeping the clustered file.
    clustered_file = set(DeltaTable(str(path)).file_uris())
    spark.sql("INSERT INTO silver.orders VALUES ('o9', 'c1', DATE '2024-02-01')")
    spark.sql("INSERT INTO silver.orders VALUES ('o8', 'c0', DATE '2024-02-02')")
    metrics = spark.sql("OPTIMIZE silver.orders").collect()[0].metrics
    assert (metrics.numFilesRemoved, metrics.numFilesAdded) == (2, 1)
    assert clustered_file < set(DeltaTable(str(path)).file_uris())
    version = DeltaTable(str(path)).version()
    actions = log_actions(path, version)
    assert {a["remove"]["dataChange"] for a in actions if "remove" in a} == {False}
    (add,) = [a["add"] for a in actions if "add" in a]
    assert add["dataChange"] is False and add["path"].startswith("clustered-")
    assert json.loads(add["stats"]) == {
        "numRecords": 2, "minValues": {"order_id": "o8", "customer_id": "c0",
                                       "order_date": "2024-02-01"},
        "maxValues": {"order_id": "o9", "customer_id": "c1", "order_date": "2024-02-02"},
        "nullCount": {"order_id": 0, "customer_id": 0, "order_date": 0}}
    assert [r["order_id"] for r in read_rows(path, order_by="order_id")] == \
        ["o0", "o1", "o2", "o8", "o9"]
    assert spark.sql("SELECT order_id FROM silver.orders WHERE customer_id = 'c1' "
                     "ORDER BY order_id").collect() == [("o1",), ("o9",)]
    assert spark.sql("OPTIMIZE silver.orders").collect()[0].metrics.numFilesRemoved == 0


def test_describe_history_lists_commits_newest_first(spark: Any, project: Project) -> None:
    orders_table(spark, project, appends=2)
    spark.sql("OPTIMIZE silver.orders")
    rows = spark.sql("DESCRIBE HISTORY silver.orders").collect()
    assert [(r.version, r.operation) for r in rows] == [
        (4, "OPTIMIZE"), (3, "WRITE"), (2, "WRITE"), (1, "SET TBLPROPERTIES"),
        (0, "CREATE TABLE")]
    assert rows[1].operationMetrics["numOutputRows"] == "1"
    assert spark.sql("DESCRIBE HISTORY silver.orders LIMIT 1").collect()[0].version == 4
    columns = spark.sql("DESCRIBE HISTORY silver.orders").columns
    assert columns[:6] == ["version", "timestamp", "userId", "userName", "operation",
                           "operationParameters"]


def test_time_travel_and_restore(spark: Any, project: Project) -> None:
    path = orders_table(spark, project)
    assert [r[0] for r in spark.sql(
        "SELECT order_id FROM silver.orders VERSION AS OF 3 ORDER BY order_id").collect()] == \
        ["o0", "o1"]
    result = spark.sql("RESTORE TABLE silver.orders TO VERSION AS OF 2").collect()[0]
    assert result.num_of_files_after_restore == 1 and result.num_removed_files == 2
    assert [r["order_id"] for r in read_rows(path)] == ["o0"]
    newest = DeltaTable(str(path)).history(1)[0]
    assert newest["operation"] == "RESTORE" and newest["version"] == 5
    # The restored-away rows are still reachable by time travel.
    assert spark.sql("SELECT count(*) FROM silver.orders VERSION AS OF 4").collect()[0][0] == 3
    with pytest.raises(LakesmithError, match=r"Available versions: \[0, 5\]"):
        spark.sql("RESTORE TABLE silver.orders TO VERSION AS OF 9")


def test_restore_to_timestamp(spark: Any, project: Project) -> None:
    path = orders_table(spark, project, appends=2)
    history = DeltaTable(str(path)).history()
    stamp = next(h["timestamp"] for h in history if h["version"] == 2)
    text = datetime.fromtimestamp(stamp / 1000, tz=timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S.%f")
    spark.sql(f"RESTORE silver.orders TO TIMESTAMP AS OF '{text}'")
    assert [r["order_id"] for r in read_rows(path)] == ["o0"]


def test_vacuum_keeps_files_inside_retention_and_time_travel_works(spark: Any,
                                                                    project: Project) -> None:
    path = orders_table(spark, project)
    spark.sql("DELETE FROM silver.orders WHERE order_id = 'o1'")
    parquet = sorted(p.name for p in path.glob("*.parquet"))
    with pytest.raises(LakesmithError, match="DELTA_VACUUM_RETENTION_PERIOD_TOO_SHORT"):
        spark.sql("VACUUM silver.orders RETAIN 0 HOURS")
    assert spark.sql("VACUUM silver.orders RETAIN 168 HOURS DRY RUN").collect() == []
    assert spark.sql("VACUUM silver.orders").collect()[0].path == path.as_uri()
    assert sorted(p.name for p in path.glob("*.parquet")) == parquet
    assert spark.sql("SELECT count(*) FROM silver.orders VERSION AS OF 4").collect()[0][0] == 3


def test_vacuum_under_a_short_table_retention_deletes_removed_files(spark: Any,
                                                                     project: Project) -> None:
    path = orders_table(spark, project)
    spark.sql("ALTER TABLE silver.orders SET TBLPROPERTIES "
              "('delta.deletedFileRetentionDuration' = 'interval 0 hours')")
    spark.sql("DELETE FROM silver.orders WHERE order_id = 'o1'")
    dry = [r.path for r in spark.sql("VACUUM silver.orders RETAIN 0 HOURS DRY RUN").collect()]
    assert len(dry) == 1 and dry[0].startswith(path.as_uri())
    spark.sql("VACUUM silver.orders RETAIN 0 HOURS")
    assert len(list(path.glob("*.parquet"))) == 2
    assert [r["order_id"] for r in read_rows(path, order_by="order_id")] == ["o0", "o2"]
    with pytest.raises(Exception, match="(?i)not found|no such file|does not exist"):
        spark.sql("SELECT * FROM silver.orders VERSION AS OF 3").collect()


def test_optimize_where_only_on_partition_columns(spark: Any, project: Project) -> None:
    spark.sql("CREATE TABLE p (id INT, day STRING) PARTITIONED BY (day)")
    for i in range(4):
        spark.sql(f"INSERT INTO p VALUES ({i}, 'd{i % 2}')")
    path = project.table_path("p")
    with pytest.raises(LakesmithError, match="DELTA_NON_PARTITION_COLUMN_REFERENCE"):
        spark.sql("OPTIMIZE p WHERE id = 1")
    result = spark.sql("OPTIMIZE p WHERE day = 'd0'").collect()[0]
    assert (result.metrics.numFilesRemoved, result.metrics.numFilesAdded) == (2, 1)
    assert len(DeltaTable(str(path)).file_uris()) == 3
    assert sorted(r["id"] for r in read_rows(path)) == [0, 1, 2, 3]


def test_optimize_zorder_by_and_refused_on_clustered_tables(spark: Any,
                                                            project: Project) -> None:
    spark.sql("CREATE TABLE z (id INT, k STRING)")
    for i in range(3):
        spark.sql(f"INSERT INTO z VALUES ({i}, 'k{i}')")
    result = spark.sql("OPTIMIZE z ZORDER BY (k, id)").collect()[0]
    assert result.metrics.numFilesRemoved == 3 and result.metrics.zOrderStats is not None
    orders_table(spark, project, appends=1)
    with pytest.raises(LakesmithError, match="DELTA_CLUSTERING_WITH_ZORDER_BY"):
        spark.sql("OPTIMIZE silver.orders ZORDER BY (order_id)")


def test_alter_cluster_by_none_and_table_properties(spark: Any, project: Project) -> None:
    path = orders_table(spark, project, appends=1)
    spark.sql("ALTER TABLE silver.orders CLUSTER BY NONE")
    assert DeltaTable(str(path)).metadata().configuration["clusteringColumns"] == "[]"
    spark.sql("ALTER TABLE silver.orders SET TBLPROPERTIES ('pipelines.autoOptimize.managed' "
              "= 'false')")
    rows = {r.key: r.value for r in spark.sql("SHOW TBLPROPERTIES silver.orders").collect()}
    assert rows["pipelines.autoOptimize.managed"] == "false"


def test_statements_by_path_and_unknown_tables(spark: Any, project: Project) -> None:
    path = orders_table(spark, project, appends=1)
    rows = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
    assert rows[0].version == 2
    with pytest.raises(LakesmithError, match="TABLE_OR_VIEW_NOT_FOUND"):
        spark.sql("DESCRIBE HISTORY silver.missing")


def test_cluster_by_auto_picks_the_most_filtered_columns(spark: Any, project: Project) -> None:
    spark.sql("CREATE TABLE events (id INT, kind STRING, day STRING, note STRING) "
              "CLUSTER BY AUTO")
    path = project.table_path("events")
    for i in range(3):
        spark.sql(f"INSERT INTO events VALUES ({i}, 'k{i}', 'd{i}', 'n')")
    # Nothing recorded yet: OPTIMIZE compacts and picks no columns.
    spark.sql("OPTIMIZE events")
    assert DeltaTable(str(path)).metadata().configuration["clusteringColumns"] == "[]"
    spark.sql("INSERT INTO events VALUES (3, 'k3', 'd3', 'n')")
    spark.sql("SELECT * FROM events WHERE kind = 'k1'").collect()
    spark.sql("SELECT count(*) FROM events e WHERE e.kind IN ('k2') AND e.day > 'd0'").collect()
    spark.sql("SELECT id FROM events WHERE 'k3' = kind").collect()
    spark.sql("SELECT a.id FROM events a JOIN events b ON a.id = b.id").collect()
    # DataFrame filters count too: a Column condition and a SQL string.
    from pyspark.sql import functions as F
    spark.table("events").where(F.col("day") == "d1").where("kind IN ('k1')").collect()
    spark.table("events").where(F.col("id") > 1).count()
    spark.table("events").where(F.col("kind") == F.col("day")).count()  # no value: not a filter
    assert spark.sql("SELECT 1").collect()  # filters are recorded at the next SQL statement
    assert json.loads((path / "_lakesmith" / "query_filters.json").read_text()) == {
        "queries": 5, "columns": {"kind": 4, "day": 2, "id": 1}}
    result = spark.sql("OPTIMIZE events").collect()[0]
    assert result.metrics.clusteringColumns == ["kind", "day", "id"]
    detail = spark.sql("DESCRIBE DETAIL events").collect()[0]
    assert detail.clusteringColumns == ["kind", "day", "id"]
    assert detail.properties["clusterByAuto"] == "true"
    assert DeltaTable(str(path)).history(1)[0]["clusteredBy"] == '["kind", "day", "id"]'
    assert sorted(r["id"] for r in read_rows(path)) == [0, 1, 2, 3]


def test_create_table_as_select_clustered(spark: Any, project: Project) -> None:
    spark.sql("CREATE TABLE ctas CLUSTER BY (k) AS SELECT id, id % 3 AS k FROM range(6)")
    path = project.table_path("ctas")
    assert DeltaTable(str(path)).metadata().configuration["clusteringColumns"] == '["k"]'
    assert sorted(r["id"] for r in read_rows(path)) == [0, 1, 2, 3, 4, 5]
    spark.sql("OPTIMIZE ctas")
    assert DeltaTable(str(path)).history(1)[0]["clusteredBy"] == '["k"]'
    # The first clustering ran in the engine: one range per file, all rows kept, and
    # DESCRIBE HISTORY names it OPTIMIZE (the log says WRITE: delta-rs' transaction).
    newest = spark.sql("DESCRIBE HISTORY ctas LIMIT 1").collect()[0]
    assert (newest.operation, newest.operationParameters["incrementalClustering"]) == \
        ("OPTIMIZE", "true")
    assert sorted((r["id"], r["k"]) for r in read_rows(path)) == [(i, i % 3) for i in range(6)]


def test_incremental_clustering_writes_files_with_narrow_ranges(spark: Any,
                                                                project: Project) -> None:
    spark.sql("CREATE TABLE clicks (id BIGINT, k INT) CLUSTER BY (k)")
    path = project.table_path("clicks")
    spark.sql("INSERT INTO clicks SELECT id, CAST(id % 1000 AS INT) FROM range(2000)")
    spark.sql("OPTIMIZE clicks")  # the first clustering rewrites the table
    size = DeltaTable(str(path)).get_add_actions(flatten=True).column("size_bytes") \
        .to_pylist()[0]
    spark.sql(f"ALTER TABLE clicks SET TBLPROPERTIES ('delta.targetFileSize' = '{size}')")
    for i in range(4):  # new files, each spread over every k
        spark.sql(f"INSERT INTO clicks SELECT id, CAST((id * 7919) % 1000 AS INT) "
                  f"FROM range({10000 + i * 2000}, {12000 + i * 2000})")
    before = set(DeltaTable(str(path)).get_add_actions(flatten=True).column("path")
                 .to_pylist())
    metrics = spark.sql("OPTIMIZE clicks").collect()[0].metrics
    # Files of about the target size, each holding one range of k.
    assert metrics.numFilesRemoved == 4
    assert metrics.numFilesAdded == math.ceil(metrics.filesRemoved.totalSize / size) > 1
    actions = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True)).to_pylist()
    ranges = sorted((a["min.k"], a["max.k"]) for a in actions if a["path"] not in before)
    assert len(ranges) == metrics.numFilesAdded
    assert all(a[1] <= b[0] for a, b in zip(ranges, ranges[1:], strict=False)), ranges
    assert sum(a["num_records"] for a in actions) == 10000
    assert spark.sql("SELECT count(*) FROM clicks WHERE k = 7").collect()[0][0] == 10


def test_three_part_names_and_tables_of_other_formats(spark: Any, project: Project) -> None:
    orders_table(spark, project, appends=1)
    assert spark.sql("DESCRIBE HISTORY spark_catalog.silver.orders LIMIT 1").collect()[0] \
        .version == 2
    spark.sql("CREATE TABLE pq (a INT) USING parquet")
    with pytest.raises(LakesmithError, match=r"DELTA_TABLE_ONLY_OPERATION\] pq is not a Delta "
                       r"table \(provider: parquet\)"):
        spark.sql("OPTIMIZE pq")
