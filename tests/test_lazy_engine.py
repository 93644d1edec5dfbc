"""The embedded engine starts on the first request that needs it (`engine/lazy_start.py`): an
update with nothing new never starts it, the next update with a new file starts it from the flow
that has data and lands exactly that file's rows, and a failure to start reads as before.

These tests start their own embedded engines (the point is when it starts), not the session's
shared one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Project
from lakesmith.errors import EngineError
from lakesmith.pipeline import open_pipeline

BRONZE = '''
import dlt
from pyspark.sql.functions import col

LANDING = spark.conf.get("shop.landing")


def landing(folder):
    return spark.readStream.format("cloudFiles").option("cloudFiles.format", "json").load(
        f"{LANDING}/{folder}")


@dlt.table
def bronze_orders():
    return landing("orders")


@dlt.table
def bronze_customers():
    return landing("customers")
'''

SILVER = '''
import dlt
from pyspark.sql.functions import col, sum


@dlt.table
@dlt.expect_or_drop("positive_amount", "amount > 0")
def silver_orders():
    return dlt.read_stream("bronze_orders").select(
        col("order_id").cast("bigint").alias("order_id"),
        col("customer_id").cast("bigint").alias("customer_id"),
        col("amount").cast("bigint").alias("amount"))


@dlt.view
def customer_changes():
    return dlt.read_stream("bronze_customers").select(
        col("customer_id").cast("bigint").alias("customer_id"), "name",
        col("seq").cast("bigint").alias("seq"))


dlt.create_streaming_table("silver_customers")
dlt.create_auto_cdc_flow(target="silver_customers", source="customer_changes",
                         keys=["customer_id"], sequence_by=col("seq"), stored_as_scd_type=1)


@dlt.table
def gold_revenue():
    return (dlt.read("silver_orders").groupBy("customer_id").agg(sum("amount").alias("revenue"))
            .join(dlt.read("silver_customers").select("customer_id", "name"), "customer_id",
                  "left"))
'''


def make_shop(root: Path, **spec: Any) -> Project:
    """A small medallion: Auto Loader → streaming table (expectation) and AUTO CDC → a
    materialized view; the landing folder comes from the configuration."""
    root.mkdir()
    project = Project(root, sail_url="")
    project.write_spec(configuration={"shop.landing": str(root / "landing")}, **spec)
    project.write("transformations/bronze.py", BRONZE)
    project.write("transformations/silver.py", SILVER)
    land(project, "orders/o1.json", [{"order_id": 1, "customer_id": 10, "amount": 5},
                                     {"order_id": 2, "customer_id": 20, "amount": -1},
                                     {"order_id": 3, "customer_id": 10, "amount": 7}])
    land(project, "customers/c1.json", [{"customer_id": 10, "name": "Ann", "seq": 1},
                                        {"customer_id": 20, "name": "Bob", "seq": 1}])
    return project


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    return make_shop(tmp_path / "shop")


def land(project: Project, relative: str, rows: list[dict[str, Any]]) -> None:
    project.write(f"landing/{relative}", "".join(json.dumps(r) + "\n" for r in rows))


def run_embedded(project: Project) -> tuple[Any, bool]:
    """One update on the project's own embedded engine: its result, and whether the engine
    started."""
    with open_pipeline(project.spec_path) as pipeline:
        result = pipeline.run(pipeline.plan())
        return result, pipeline.engine.started


def outputs(result: Any) -> dict[str, int | None]:
    return {r.planned.name: (r.metrics.num_output_rows if r.metrics else None)
            for r in result.flows}


@pytest.mark.parametrize("schema", ["default", "sales"])
def test_an_update_with_nothing_new_starts_no_engine_and_the_next_new_file_lands(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schema: str) -> None:
    """In another schema than `default`, the engine is told to use it when it starts."""
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    shop = make_shop(tmp_path / "shop", schema=schema)

    def rows(table: str, order_by: str) -> list[dict[str, Any]]:
        return shop.rows(table, order_by=order_by, schema=schema)

    first, started = run_embedded(shop)
    assert first.state.value == "COMPLETED" and started
    assert rows("gold_revenue", order_by="customer_id") == [
        {"customer_id": 10, "revenue": 12, "name": "Ann"}]

    idle, started = run_embedded(shop)
    assert idle.state.value == "COMPLETED"
    assert not started  # no analysis, no flow with data: nothing needed the engine
    assert rows("silver_orders", order_by="order_id") == [
        {"order_id": 1, "customer_id": 10, "amount": 5},
        {"order_id": 3, "customer_id": 10, "amount": 7}]

    land(shop, "orders/o2.json", [{"order_id": 4, "customer_id": 20, "amount": 30}])
    land(shop, "customers/c2.json", [{"customer_id": 20, "name": "Bea", "seq": 2}])
    later, started = run_embedded(shop)
    assert later.state.value == "COMPLETED" and started
    counts = outputs(later)
    assert counts["bronze_orders"] == 1 and counts["silver_orders"] == 1
    assert rows("silver_orders", order_by="order_id") == [
        {"order_id": 1, "customer_id": 10, "amount": 5},
        {"order_id": 3, "customer_id": 10, "amount": 7},
        {"order_id": 4, "customer_id": 20, "amount": 30}]
    assert rows("silver_customers", order_by="customer_id") == [
        {"customer_id": 10, "name": "Ann", "seq": 1},
        {"customer_id": 20, "name": "Bea", "seq": 2}]
    assert rows("gold_revenue", order_by="customer_id") == [
        {"customer_id": 10, "revenue": 12, "name": "Ann"},
        {"customer_id": 20, "revenue": 30, "name": "Bea"}]


@pytest.fixture
def failing_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from pysail.spark import SparkConnectServer

    def start(self: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("failed to bind 127.0.0.1: address in use")

    monkeypatch.setattr(SparkConnectServer, "start", start)
    yield


def test_a_failure_to_start_the_engine_reads_as_before(shop: Project,
                                                       failing_start: None) -> None:
    """The first update must analyse: the engine is started before the analysis, and its
    failure is the error of the update, not a problem of every flow."""
    with pytest.raises(EngineError, match=r"^Could not start the embedded Sail engine: failed "
                                          r"to bind 127\.0\.0\.1: address in use$"):
        run_embedded(shop)


def test_an_update_with_nothing_new_needs_no_engine_at_all(shop: Project,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    run_embedded(shop)
    from pysail.spark import SparkConnectServer

    def start(self: Any, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("the engine was started")

    monkeypatch.setattr(SparkConnectServer, "start", start)
    result, started = run_embedded(shop)
    assert result.state.value == "COMPLETED" and not started


def test_answers_given_before_the_engine_starts_are_the_engines(monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """Configuration keys the pipeline sets and the client's own debugging flag are answered
    without the engine; after it starts, the engine gives the same answers."""
    from lakesmith.engine.session import start_engine

    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    keys = {"shop.landing": "/data/landing", "shop.limit": "10"}
    debugging = "spark.python.sql.dataFrameDebugging.enabled"
    with start_engine(conf=keys, lazy=True) as engine:
        spark = engine.spark

        def answers() -> list[str | None]:
            return [spark.conf.get("shop.landing"), spark.conf.get("shop.limit", "x"),
                    spark.conf.get(debugging, "true"), spark.conf.get(debugging, "false")]

        before = answers()
        assert spark.interruptAll() == []  # nothing runs
        assert not engine.started
        assert before == ["/data/landing", "10", "true", "false"]
        assert spark.conf.get("spark.sql.session.timeZone")  # a key of the engine's: it starts
        assert engine.started
        assert answers() == before


def test_a_cold_lakesmith_run_with_nothing_new_does_not_load_the_engine(shop: Project) -> None:
    """The command line, in fresh processes: the second run does not even load Sail's native
    module (`pysail._native`, loaded when the engine starts). The Spark Connect client is still
    imported: the sources build Columns and DataFrames while they load (docs/benchmarks.md)."""
    env = {**os.environ, "RUST_LOG": "error"}
    env.pop("SPARK_REMOTE", None)
    first = subprocess.run([sys.executable, "-m", "lakesmith", "run"], cwd=shop.root, env=env,
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    idle = subprocess.run([sys.executable, "-X", "importtime", "-m", "lakesmith", "run"],
                          cwd=shop.root, env=env, capture_output=True, text=True, timeout=300)
    assert idle.returncode == 0, idle.stdout + idle.stderr[-3000:]
    modules = {line.rsplit("|", 1)[1].strip() for line in idle.stderr.splitlines()
               if line.startswith("import time:")}
    assert "lakesmith.pipeline" in modules  # the list was read
    assert "pysail" in modules and "pysail._native" not in modules
    assert "COMPLETED" in idle.stdout


def test_tables_outside_the_pipeline_are_registered_when_the_engine_starts(
        shop: Project) -> None:
    """A table in the warehouse that the pipeline does not define (made with `lakesmith sql`)
    is registered with the engine when it starts: an update with nothing new leaves it alone,
    and a query of it by name works once the engine runs."""
    import pyarrow as pa
    from deltalake import write_deltalake

    run_embedded(shop)
    write_deltalake(str(shop.table_path("rates", schema="ext")),
                    pa.table({"currency": ["EUR"], "rate": [1.0]}))
    idle, started = run_embedded(shop)
    assert idle.state.value == "COMPLETED" and not started
    with open_pipeline(shop.spec_path) as pipeline:
        rows = pipeline.spark.sql("SELECT currency, rate FROM ext.rates").collect()
        assert [r.asDict() for r in rows] == [{"currency": "EUR", "rate": 1.0}]


def test_the_engines_port_is_held_until_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing else can take the port the session is pointed at while the engine waits to
    start; the engine then listens on it."""
    import socket

    from lakesmith.engine.session import start_engine

    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    with start_engine(lazy=True) as engine:
        port = int(engine.url.rsplit(":", 1)[1])
        with socket.socket() as other, pytest.raises(OSError):
            other.bind(("127.0.0.1", port))
        assert engine.spark.range(3).count() == 3
        assert engine.started and engine.lazy.server.listening_address[1] == port


def test_a_failing_start_up_action_is_the_error_of_every_request(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A start-up action's own error (the pipeline's `CREATE DATABASE`, say) is what the
    request that started the engine raises, and every later one: it reads as it did when the
    engine started with the command."""
    from lakesmith.engine.session import start_engine

    monkeypatch.delenv("SPARK_REMOTE", raising=False)

    def refuse(spark: Any) -> None:
        raise ValueError("schema `bad` cannot be created")

    with start_engine(lazy=True) as engine:
        engine.on_start(refuse)
        for _ in range(2):
            with pytest.raises(ValueError, match="^schema `bad` cannot be created$"):
                engine.spark.range(3).count()
        assert not engine.started


def test_a_failure_to_start_the_engine_for_new_data_is_the_updates_error(
        shop: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """The analysis is reused, but a flow has a new file: the engine is started before the
    flows run, so its failure is the update's error (as when it started with the command), and
    nothing is committed."""
    run_embedded(shop)
    before = shop.rows("silver_orders", order_by="order_id")
    land(shop, "orders/o2.json", [{"order_id": 4, "customer_id": 20, "amount": 30}])
    from pysail.spark import SparkConnectServer

    def start(self: Any, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("no memory")

    working = SparkConnectServer.start
    monkeypatch.setattr(SparkConnectServer, "start", start)
    with pytest.raises(EngineError, match="^Could not start the embedded Sail engine: no memory$"):
        run_embedded(shop)
    assert shop.rows("silver_orders", order_by="order_id") == before
    monkeypatch.setattr(SparkConnectServer, "start", working)
    later, started = run_embedded(shop)
    assert later.state.value == "COMPLETED" and started
    assert [r["order_id"] for r in shop.rows("silver_orders", order_by="order_id")] == [1, 3, 4]


def test_the_engine_starts_while_the_other_flows_are_planned(
        shop: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a flow is found to have data, the engine starts on its own thread while the
    update plans the rest; `dry-run`'s planning starts nothing."""
    import threading

    from pysail.spark import SparkConnectServer

    run_embedded(shop)
    land(shop, "orders/o2.json", [{"order_id": 4, "customer_id": 20, "amount": 30}])
    starting_threads: list[str] = []
    working = SparkConnectServer.start

    def start(self: Any, *args: Any, **kwargs: Any) -> None:
        starting_threads.append(threading.current_thread().name)
        working(self, *args, **kwargs)

    monkeypatch.setattr(SparkConnectServer, "start", start)
    with open_pipeline(shop.spec_path) as pipeline:
        planned = pipeline.plan_work(pipeline.plan())
        assert any(p.work is not None and p.work.has_data_now for p in planned.flows)
        assert not pipeline.engine.started and starting_threads == []
        result = pipeline.run(pipeline.plan())
    assert result.state.value == "COMPLETED"
    assert starting_threads == ["lakesmith-engine-start"]
    assert [r["order_id"] for r in shop.rows("silver_orders", order_by="order_id")] == [1, 3, 4]
