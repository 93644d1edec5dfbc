"""A pipeline whose storage, sources and tables live in an S3 bucket (moto in server mode, a real
S3 API on a loopback port): several incremental runs, a crash and its recovery, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from lakesmith.files import store_for
from lakesmith.locations import Location

PIPELINE = """
import dlt

@dlt.table
def bronze():
    return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
            .load(spark.conf.get("source")))

@dlt.table(table_properties={"lakesmith.quarantine": "true"})
@dlt.expect_or_drop("known_kind", "kind != 'BAD'")
def silver():
    return (dlt.read_stream("bronze").dropDuplicates(["id"])
            .selectExpr("id", "upper(kind) AS kind"))

@dlt.table
def gold():
    return dlt.read("silver").groupBy("kind").count()
"""


def rows(location: str, options: dict[str, str], order_by: str) -> list[dict]:
    table = pa.table(DeltaTable(location, storage_options=options).to_pyarrow_table())
    return sorted(table.to_pylist(), key=lambda r: r[order_by])


def append(spark, uri: str, data: list[tuple]) -> None:
    spark.createDataFrame(data, "id BIGINT, kind STRING").write.format("delta") \
        .mode("append").save(uri)


@pytest.fixture
def s3_project(tmp_path: Path, s3_process_env, s3_root: str, spark):
    """Sources and spec on the laptop; source table, storage and warehouse in the bucket."""
    root = tmp_path / "project"
    (root / "transformations").mkdir(parents=True)
    source = f"{s3_root}/landing/orders"
    append(spark, source, [(1, "a"), (2, "bad"), (3, "b")])
    append(spark, source, [(1, "a"), (4, "a")])
    (root / "spark-pipeline.yml").write_text(
        f"name: orders\nstorage: {s3_root}/storage\nconfiguration:\n"
        f"  source: {source}\n  spark.sql.warehouse.dir: {s3_root}/warehouse\n"
        "libraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "orders.py").write_text(PIPELINE)
    return root, source, s3_root


def cli(root: Path, *args: str, crash_at: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LAKESMITH_CRASH_AT"}
    if crash_at:
        env["LAKESMITH_CRASH_AT"] = crash_at
    return subprocess.run([sys.executable, "-m", "lakesmith", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=180)


def test_pipeline_on_s3_runs_incrementally_recovers_and_is_inspectable(
        s3_project, moto_s3, spark) -> None:
    root, source, s3_root = s3_project
    options = moto_s3.storage_options
    warehouse = f"{s3_root}/warehouse/spark_catalog/default"

    first = cli(root, "run")
    assert first.returncode == 0, first.stdout + first.stderr
    assert [r["id"] for r in rows(f"{warehouse}/bronze", options, "id")] == [1, 1, 2, 3, 4]
    assert rows(f"{warehouse}/silver", options, "id") == [
        {"id": 1, "kind": "A"}, {"id": 3, "kind": "B"}, {"id": 4, "kind": "A"}]
    assert rows(f"{warehouse}/gold", options, "kind") == [
        {"kind": "A", "count": 2}, {"kind": "B", "count": 1}]
    quarantine = rows(f"{warehouse}/silver_quarantine", options, "id")
    assert [(r["id"], r["_failed_expectations"]) for r in quarantine] == [(2, ["known_kind"])]

    # Nothing is written locally: storage and tables are in the bucket.
    assert sorted(p.name for p in root.iterdir()) == ["spark-pipeline.yml", "transformations"]
    storage = Location.parse(f"{s3_root}/storage", options=options)
    commits = storage.join("checkpoints", "spark_catalog.default.bronze", "bronze", "commits")
    assert sorted(e.name for e in store_for(commits).list(commits)) == ["0", "1"]

    # New data, then a crash after the output of bronze's next batch landed.
    append(spark, source, [(5, "c"), (3, "b")])
    crashed = cli(root, "run", crash_at="after_output:bronze")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    rerun = cli(root, "run")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert [r["id"] for r in rows(f"{warehouse}/bronze", options, "id")] == [1, 1, 2, 3, 3, 4, 5]
    assert rows(f"{warehouse}/silver", options, "id") == [
        {"id": 1, "kind": "A"}, {"id": 3, "kind": "B"}, {"id": 4, "kind": "A"},
        {"id": 5, "kind": "C"}]

    # A run with nothing new changes nothing.
    again = cli(root, "run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(rows(f"{warehouse}/bronze", options, "id")) == 7

    tables = cli(root, "tables")
    assert tables.returncode == 0, tables.stderr
    assert f"{warehouse}/silver" in tables.stdout and "silver_quarantine" in tables.stdout
    runs = cli(root, "runs")
    assert runs.returncode == 0, runs.stderr
    assert runs.stdout.count("COMPLETED") == 3 and "FAILED" not in runs.stdout
    events = cli(root, "events", "--type", "create_update")
    assert events.returncode == 0 and events.stdout.count("create_update") == 4
    query = cli(root, "sql", "SELECT count(*) AS n FROM silver")
    assert query.returncode == 0, query.stderr
    assert "4" in query.stdout


def test_lease_lock_on_object_storage(s3_process_env, s3_root: str, moto_s3) -> None:
    from lakesmith.runtime.lock import LeaseLock, PipelineRunning, pipeline_lock

    storage = Location.parse(f"{s3_root}/storage", options=moto_s3.storage_options)
    lock = pipeline_lock(storage, "p")
    assert isinstance(lock, LeaseLock)
    with lock:
        with pytest.raises(PipelineRunning, match="already running"):
            with pipeline_lock(storage, "p"):
                pass
    with pipeline_lock(storage, "p") as second:  # released: taken without a takeover warning
        assert second.previous_holder is None
    # A holder that died leaves a lease that expires; the next update takes it over.
    location = storage.join("lakesmith.lock")
    store = store_for(location)
    store.write(location, json.dumps({"pid": 1, "host": "gone", "started": 0,
                                      "expires": 1.0, "holder": "x"}).encode())
    with pipeline_lock(storage, "p") as third:
        assert third.previous_holder is not None and third.previous_holder["host"] == "gone"
    # A lease renewed by someone else is lost, and the holder can tell.
    fast = LeaseLock(location, "p", store, lease_seconds=0.3)
    with fast:
        store.write(location, b'{"holder": "intruder", "expires": 1e12}')
        import time

        time.sleep(0.5)
        assert fast.lost()


@pytest.mark.slow  # 20 s; the default suite keeps a pipeline and Auto Loader on S3 (above)
def test_the_init_example_runs_with_storage_and_tables_in_a_bucket(
        tmp_path: Path, s3_process_env, s3_root: str, moto_s3) -> None:
    created = subprocess.run([sys.executable, "-m", "lakesmith", "init", "shop"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stderr
    root = tmp_path / "shop"
    spec = root / "spark-pipeline.yml"
    spec.write_text(spec.read_text().replace("storage: pipeline-storage", (
        f"storage: {s3_root}/storage")).replace("configuration:\n", (
            f"configuration:\n  spark.sql.warehouse.dir: {s3_root}/warehouse\n")))
    run = cli(root, "run")
    assert run.returncode == 0, run.stdout + run.stderr
    gold = rows(f"{s3_root}/warehouse/spark_catalog/default/gold_daily_revenue",
                moto_s3.storage_options, "order_date")
    assert len(gold) == 90
    silver = rows(f"{s3_root}/warehouse/spark_catalog/default/silver_orders",
                  moto_s3.storage_options, "order_id")
    assert sum(r["orders"] for r in gold) == len(silver) > 9000
    assert not (root / "warehouse").exists() and not (root / "pipeline-storage").exists() \
        or not any((root / "pipeline-storage").iterdir())
    again = cli(root, "run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "no new data" in again.stdout


def test_auto_loader_reads_a_landing_folder_in_a_bucket(tmp_path: Path, s3_process_env, moto_s3,
                                                        s3_root: str) -> None:
    """Landing files, storage (file log, schema) and tables all in the bucket."""
    client = moto_s3.boto3_client()
    bucket, prefix = s3_root[len("s3://"):].split("/", 1)

    def land(name: str, rows: list[dict]) -> None:
        body = "".join(json.dumps(r) + "\n" for r in rows).encode()
        client.put_object(Bucket=bucket, Key=f"{prefix}/landing/{name}", Body=body)

    land("a.json", [{"id": 1, "item": "pen"}])
    land("day=1/b.json", [{"id": 2, "item": "ink"}])
    root = tmp_path / "project"
    (root / "transformations").mkdir(parents=True)
    (root / "spark-pipeline.yml").write_text(
        f"name: landing\nstorage: {s3_root}/storage\nconfiguration:\n"
        f"  spark.sql.warehouse.dir: {s3_root}/warehouse\n"
        "libraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "bronze.py").write_text(f"""
import dlt

@dlt.table
def bronze():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            .load("{s3_root}/landing").selectExpr("*", "_metadata.file_name AS file"))
""")
    first = cli(root, "run")
    assert first.returncode == 0, first.stdout + first.stderr
    table = f"{s3_root}/warehouse/spark_catalog/default/bronze"
    options = moto_s3.storage_options
    assert rows(table, options, "id") == [
        {"id": "1", "item": "pen", "day": None, "_rescued_data": None,
         "file": "a.json"},
        {"id": "2", "item": "ink", "day": "1", "_rescued_data": None, "file": "b.json"}]
    land("c.json", [{"id": 3, "item": "cap"}])
    second = cli(root, "run")
    assert second.returncode == 0, second.stdout + second.stderr
    assert [r["id"] for r in rows(table, options, "id")] == ["1", "2", "3"]
    assert sorted(p.name for p in root.iterdir()) == ["spark-pipeline.yml", "transformations"]
