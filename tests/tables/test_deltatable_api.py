"""`delta.tables.DeltaTable` without a JVM: the merge builder against the same SQL MERGE, the
other calls against the rows and the Delta log; and the `delta` module never shadowing
delta-spark."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable as RsTable
from pyspark.sql import functions as F

import lakesmith
from conftest import Project, read_rows
from lakesmith.errors import LakesmithError

CUSTOMERS = [(1, "ann", "NL", 10), (2, "bob", "UK", 20), (3, "cy", "US", 30), (4, "dee", "NL", 40)]
UPDATES = [(2, "bob2", "UK", 21), (3, "cy", "FR", 31), (5, "eve", "DE", 50), (6, "fay", "US", 60)]
SCHEMA = "customer_id INT, name STRING, country STRING, points INT"


@pytest.fixture
def spark(project: Project) -> Iterator[Any]:
    project.write_spec()
    session = lakesmith.session(project.root, remote=project.sail_url)
    yield session
    session.stop()


def customers(spark: Any, name: str) -> None:
    spark.sql(f"CREATE TABLE {name} ({SCHEMA})")
    spark.createDataFrame(CUSTOMERS, SCHEMA).write.format("delta").mode("append") \
        .saveAsTable(name)


def test_merge_builder_equals_sql_merge(spark: Any, project: Project) -> None:
    from delta.tables import DeltaTable

    customers(spark, "silver.by_builder")
    customers(spark, "silver.by_sql")
    updates = spark.createDataFrame(UPDATES, SCHEMA)
    target = DeltaTable.forName(spark, "silver.by_builder")
    metrics = (
        target.alias("t").merge(updates.alias("u"), "t.customer_id = u.customer_id")
        .whenMatchedDelete(condition="u.country = 'FR'")
        .whenMatchedUpdate(set={"name": "u.name", "points": F.col("u.points") + 100})
        .whenNotMatchedInsert(condition=F.expr("u.points > 55"),
                              values={"customer_id": "u.customer_id", "name": "u.name",
                                      "country": "u.country", "points": F.lit(0)})
        .whenNotMatchedBySourceUpdate(condition="t.country = 'NL' AND t.points > 15",
                                      set={"points": "t.points - 1"})
        .whenNotMatchedBySourceDelete()
        .execute()).collect()[0]
    updates.createOrReplaceTempView("u_view")
    spark.sql("""
        MERGE INTO silver.by_sql AS t USING u_view AS u ON t.customer_id = u.customer_id
        WHEN MATCHED AND u.country = 'FR' THEN DELETE
        WHEN MATCHED THEN UPDATE SET name = u.name, points = u.points + 100
        WHEN NOT MATCHED AND u.points > 55 THEN
          INSERT (customer_id, name, country, points) VALUES (u.customer_id, u.name, u.country, 0)
        WHEN NOT MATCHED BY SOURCE AND t.country = 'NL' AND t.points > 15
          THEN UPDATE SET points = t.points - 1
        WHEN NOT MATCHED BY SOURCE THEN DELETE""")
    by_builder = read_rows(project.table_path("by_builder", schema="silver"),
                           order_by="customer_id")
    assert by_builder == read_rows(project.table_path("by_sql", schema="silver"),
                                   order_by="customer_id")
    assert [tuple(r.values()) for r in by_builder] == [
        (2, "bob2", "UK", 121), (4, "dee", "NL", 39), (6, "fay", "US", 0)]
    assert metrics.asDict() == {"num_affected_rows": 5, "num_updated_rows": 2,
                                "num_deleted_rows": 2, "num_inserted_rows": 1}
    newest = RsTable(str(project.table_path("by_builder", schema="silver"))).history(1)[0]
    assert newest["operation"] == "MERGE"
    assert newest["operationMetrics"]["numTargetRowsInserted"] == 1


def test_merge_all_with_schema_evolution(spark: Any, project: Project) -> None:
    from delta.tables import DeltaTable

    customers(spark, "c")
    updates = spark.createDataFrame([(1, "ann", "NL", 11, "gold"), (9, "ivy", "SE", 90, "new")],
                                    SCHEMA + ", tier STRING")
    (DeltaTable.forName(spark, "c").alias("t")
     .merge(updates.alias("s"), F.col("t.customer_id") == F.col("s.customer_id"))
     .whenMatchedUpdateAll().whenNotMatchedInsertAll().withSchemaEvolution().execute())
    rows = read_rows(project.table_path("c"), order_by="customer_id")
    assert [(r["customer_id"], r["points"], r["tier"]) for r in rows] == [
        (1, 11, "gold"), (2, 20, None), (3, 30, None), (4, 40, None), (9, 90, "new")]


def test_merge_needs_a_clause(spark: Any) -> None:
    from delta.tables import DeltaTable

    customers(spark, "c")
    with pytest.raises(LakesmithError, match="at least one when"):
        DeltaTable.forName(spark, "c").merge(spark.range(1), "true").execute()


def test_update_delete_and_reads_by_path(spark: Any, project: Project) -> None:
    from delta.tables import DeltaTable

    customers(spark, "c")
    path = project.table_path("c")
    assert DeltaTable.isDeltaTable(spark, str(path))
    assert not DeltaTable.isDeltaTable(spark, str(project.root))
    table = DeltaTable.forPath(spark, str(path))
    assert table.update(F.col("country") == "NL", {"points": F.col("points") * 2}) \
        .collect()[0].num_affected_rows == 2
    assert table.update(set={"name": F.upper("name")}).collect()[0].num_affected_rows == 4
    assert table.delete("points > 35").collect()[0].num_affected_rows == 1
    assert sorted(tuple(r) for r in table.toDF().collect()) == [
        (1, "ANN", "NL", 20), (2, "BOB", "UK", 20), (3, "CY", "US", 30)]
    assert table.alias("x").toDF().select("x.name").count() == 3
    assert [r.operation for r in table.history().collect()][:3] == ["DELETE", "UPDATE",
                                                                     "UPDATE"]
    assert table.detail().collect()[0].numFiles == len(RsTable(str(path)).file_uris())
    with pytest.raises(LakesmithError, match="DELTA_MISSING_DELTA_TABLE"):
        DeltaTable.forPath(spark, str(project.root / "nothing"))


def test_restore_optimize_vacuum_generate(spark: Any, project: Project) -> None:
    from delta.tables import DeltaTable

    customers(spark, "c")
    for i in range(3):
        spark.createDataFrame([(10 + i, "n", "NL", i)], SCHEMA).write.format("delta") \
            .mode("append").saveAsTable("c")
    path = project.table_path("c")
    table = DeltaTable.forName(spark, "c")
    compacted = table.optimize().executeCompaction().collect()[0]
    assert compacted.metrics.numFilesRemoved == 4 and compacted.metrics.numFilesAdded == 1
    assert len(read_rows(path)) == 7
    assert table.optimize().executeZOrderBy("country", "points").collect()[0] \
        .metrics.numFilesAdded == 1
    restored = table.restoreToVersion(1).collect()[0]
    assert restored.num_of_files_after_restore == 1
    assert sorted(r["customer_id"] for r in read_rows(path)) == [1, 2, 3, 4]
    stamp = RsTable(str(path)).history()[-3]["timestamp"]  # version 2
    table.restoreToTimestamp(str(stamp_text(stamp)))
    assert sorted(r["customer_id"] for r in read_rows(path)) == [1, 2, 3, 4, 10]
    with pytest.raises(LakesmithError, match="RETENTION_PERIOD_TOO_SHORT"):
        table.vacuum(0)
    assert table.vacuum().collect() == []
    table.generate("symlink_format_manifest")
    manifest = (path / "_symlink_format_manifest" / "manifest").read_text().split()
    assert sorted(manifest) == sorted(Path(f).as_uri() for f in RsTable(str(path)).file_uris())


def stamp_text(millis: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(millis / 1000, tz=timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%S.%f")


def run_python(code: str, path: list[Path]) -> str:
    env_path = ":".join(str(p) for p in path)
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"}, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_delta_module_is_lakesmiths_only_without_delta_spark(tmp_path: Path) -> None:
    src = Path(lakesmith.__file__).parent.parent
    code = """
        from lakesmith.deltaspark.finder import install_delta_module
        install_delta_module()
        from delta.tables import DeltaTable
        import delta
        print(DeltaTable.__module__, getattr(delta, "DeltaTable", None) is DeltaTable)
    """
    assert run_python(code, [src]) == "lakesmith.deltaspark.tables True"
    fake = tmp_path / "site" / "delta"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "tables.py").write_text("class DeltaTable:\n    pass\n")
    assert run_python(code, [tmp_path / "site", src]).split()[0] == "delta.tables"


def test_table_builder(spark: Any, project: Project, tmp_path: Path) -> None:
    from delta.tables import DeltaTable
    from pyspark.sql.types import LongType

    table = (DeltaTable.createIfNotExists(spark).tableName("silver.orders")
             .addColumn("order_id", "STRING", nullable=False, comment="the order")
             .addColumn("customer_id", LongType())
             .clusterBy("customer_id").property("delta.appendOnly", "false")
             .comment("orders").execute())
    path = project.table_path("orders", schema="silver")
    rs = RsTable(str(path))
    assert [(f.name, f.nullable) for f in rs.schema().fields] == [
        ("order_id", False), ("customer_id", True)]
    assert rs.metadata().configuration["clusteringColumns"] == '["customer_id"]'
    assert rs.metadata().configuration["delta.appendOnly"] == "false"
    assert rs.metadata().description == "orders"
    assert table.toDF().columns == ["order_id", "customer_id"]
    # IF NOT EXISTS: a second call leaves the table alone.
    DeltaTable.createIfNotExists(spark).tableName("silver.orders").addColumn("x", "INT").execute()
    assert [f.name for f in RsTable(str(path)).schema().fields] == ["order_id", "customer_id"]
    with pytest.raises(LakesmithError, match="generated and identity columns"):
        DeltaTable.create(spark).tableName("g").addColumn("a", "INT", generatedAlwaysAs="1")
    by_path = (DeltaTable.create(spark).location(str(tmp_path / "by_path"))
               .addColumn("a", "INT").partitionedBy("a").execute())
    assert RsTable(str(tmp_path / "by_path")).metadata().partition_columns == ["a"]
    assert by_path.toDF().count() == 0


def test_on_a_plain_spark_connect_session(sail_url: str, tmp_path: Path) -> None:
    """Not only lakesmith's session: any Spark Connect session on the engine will do."""
    from pyspark.sql.connect.session import SparkSession

    from lakesmith.deltaspark import DeltaTable

    plain = SparkSession.builder.remote(sail_url).create()
    try:
        path = str(tmp_path / "t")
        plain.createDataFrame(CUSTOMERS, SCHEMA).write.format("delta").save(path)
        table = DeltaTable.forPath(plain, path)
        (table.alias("t").merge(plain.createDataFrame(UPDATES, SCHEMA).alias("u"),
                                "t.customer_id = u.customer_id")
         .whenMatchedUpdateAll().whenNotMatchedInsertAll().execute())
        assert sorted((r["customer_id"], r["name"]) for r in read_rows(Path(path))) == [
            (1, "ann"), (2, "bob2"), (3, "cy"), (4, "dee"), (5, "eve"), (6, "fay")]
        assert table.history(1).collect()[0].operation == "MERGE"
    finally:
        plain.stop()
