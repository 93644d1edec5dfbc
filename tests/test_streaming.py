"""Streaming tables over Delta sources: incremental runs with exact contents after each run."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.checkpoint.records import CREATE, Marker
from lakesmith.runtime.events import UpdateState


def append(spark, path, rows: list[tuple], schema: str = "id BIGINT, kind STRING") -> None:
    spark.createDataFrame(rows, schema).write.format("delta").mode("append").save(str(path))


def write_copy_pipeline(project, source, *, options: dict[str, str] | None = None,
                        table_args: str = "") -> None:
    """A streaming table `copy` reading the Delta table at `source` with reader `options`."""
    project.write_spec(configuration={"source": str(source)})
    reader = "".join(f'.option("{k}", "{v}")' for k, v in (options or {}).items())
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp

        @dp.table{table_args}
        def copy():
            return spark.readStream.format("delta"){reader}.load(spark.conf.get("source"))
    """)


MEDALLION = """
from pyspark import pipelines as dp

@dp.table
def bronze():
    return spark.readStream.format("delta").load(spark.conf.get("source"))

@dp.table
def silver():
    return spark.readStream.table("bronze").where("kind != 'bad'").selectExpr("id", "upper(kind) AS kind")

@dp.materialized_view
def gold():
    return spark.read.table("silver").groupBy("kind").count()
"""


@pytest.fixture
def medallion(project, tmp_path, spark):
    source = tmp_path / "source"
    append(spark, source, [(1, "a"), (2, "bad"), (3, "b")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/m.py", MEDALLION)
    return project, source


def flow_metrics(result):
    return {r.planned.flow.name: r.metrics for r in result.flows}


def test_runs_process_only_new_data(medallion, spark) -> None:
    project, source = medallion
    first = project.run()
    assert first.state == UpdateState.COMPLETED, [str(r.error) for r in first.failed_flows]
    assert project.rows("bronze", order_by="id") == [
        {"id": 1, "kind": "a"}, {"id": 2, "kind": "bad"}, {"id": 3, "kind": "b"}]
    assert project.rows("silver", order_by="id") == [{"id": 1, "kind": "A"}, {"id": 3, "kind": "B"}]
    assert project.rows("gold", order_by="kind") == [{"kind": "A", "count": 1}, {"kind": "B", "count": 1}]

    append(spark, source, [(4, "a"), (5, "bad")])
    append(spark, source, [(6, "c")])
    second = project.run()
    metrics = flow_metrics(second)
    assert metrics["bronze"].num_output_rows == 3 and metrics["bronze"].batches == 1
    assert metrics["bronze"].details["num_input_rows"] == 3
    assert metrics["silver"].num_output_rows == 2
    assert metrics["bronze"].source_versions == {str(source): [1, 2]}
    assert [r["id"] for r in project.rows("bronze", order_by="id")] == [1, 2, 3, 4, 5, 6]
    assert project.rows("silver", order_by="id") == [
        {"id": 1, "kind": "A"}, {"id": 3, "kind": "B"}, {"id": 4, "kind": "A"}, {"id": 6, "kind": "C"}]
    assert project.rows("gold", order_by="kind") == [
        {"kind": "A", "count": 2}, {"kind": "B", "count": 1}, {"kind": "C", "count": 1}]

    third = project.run()  # nothing new: no batch, nothing written
    metrics = flow_metrics(third)
    assert metrics["bronze"].batches == 0 and metrics["silver"].batches == 0
    assert len(project.rows("silver")) == 4

    checkpoint = project.root / "storage/checkpoints/spark_catalog.default.bronze/bronze"
    offsets = json.loads((checkpoint / "offsets/1").read_text())
    from deltalake import DeltaTable

    assert offsets["format"] == 1 and offsets["batch"] == 1
    span = offsets["sources"][f"delta:file://{source}"]
    assert span.pop("identity") == DeltaTable(str(source)).metadata().id
    assert span == {
        "start": {"version": 0, "index": 0, "snapshot": False},
        "end": {"version": 2, "index": 0, "snapshot": False}}
    assert sorted(p.name for p in (checkpoint / "commits").iterdir()) == ["0", "1"]


def test_max_files_per_trigger_splits_batches(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    for i in range(5):
        append(spark, source, [(i, "x")])
    write_copy_pipeline(project, source, options={"maxFilesPerTrigger": "2"})
    result = project.run()
    (metrics,) = [r.metrics for r in result.flows]
    assert metrics.batches == 3  # 5 files (one per commit): 2 + 2 + 1
    assert sorted(r["id"] for r in project.rows("copy")) == [0, 1, 2, 3, 4]


def test_several_flows_into_one_streaming_table(project, tmp_path, spark) -> None:
    eu, us = tmp_path / "eu", tmp_path / "us"
    append(spark, eu, [(1, "eu")])
    append(spark, us, [(2, "us")])
    project.write_spec(configuration={"eu": str(eu), "us": str(us)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        dp.create_streaming_table("orders", comment="all regions")

        @dp.append_flow(target="orders")
        def orders_eu():
            return spark.readStream.format("delta").load(spark.conf.get("eu"))

        @dp.append_flow(target="orders")
        def orders_us():
            return spark.readStream.format("delta").load(spark.conf.get("us"))
    """)
    project.run()
    append(spark, us, [(3, "us")])
    result = project.run()
    assert {r.planned.flow.name: r.metrics.num_output_rows for r in result.flows} == {
        "orders_eu": 0, "orders_us": 1}
    assert project.rows("orders", order_by="id") == [
        {"id": 1, "kind": "eu"}, {"id": 2, "kind": "us"}, {"id": 3, "kind": "us"}]


def test_drop_duplicates_across_batches_and_runs(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, "a"), (1, "a-again"), (2, "b")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table
        def unique_ids():
            return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
                    .load(spark.conf.get("source")).dropDuplicates(["id"]))
    """)
    project.run()
    assert sorted(r["id"] for r in project.rows("unique_ids")) == [1, 2]
    append(spark, source, [(2, "b-dup"), (3, "c")])
    append(spark, source, [(3, "c-dup"), (None, "null-key")])
    append(spark, source, [(None, "null-again"), (4, "d")])
    result = project.run()
    (metrics,) = [r.metrics for r in result.flows]
    assert metrics.batches == 3
    rows = project.rows("unique_ids", order_by="id")
    assert [r["id"] for r in rows] == [1, 2, 3, 4, None]
    assert rows[2]["kind"] == "c" and rows[4]["kind"] == "null-key"


def test_update_commit_in_source_fails_unless_skip_change_commits(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, "a"), (2, "b")])
    project.write_spec(configuration={"source": str(source), "skip": "false"})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table
        def copy():
            return (spark.readStream.format("delta")
                    .option("skipChangeCommits", spark.conf.get("skip"))
                    .load(spark.conf.get("source")))
    """)
    project.run()
    spark.sql(f"UPDATE delta.`{source}` SET kind = 'changed' WHERE id = 1")
    append(spark, source, [(3, "c")])
    failed = project.run()
    assert failed.state == UpdateState.FAILED
    message = str(failed.failed_flows[0].error)
    assert "DELTA_SOURCE_TABLE_IGNORE_CHANGES" in message
    assert "at version 1" in message and "skipChangeCommits" in message
    assert project.rows("copy", order_by="id") == [{"id": 1, "kind": "a"}, {"id": 2, "kind": "b"}]

    project.write_spec(configuration={"source": str(source), "skip": "true"})
    assert project.run().state == UpdateState.COMPLETED
    assert project.rows("copy", order_by="id") == [
        {"id": 1, "kind": "a"}, {"id": 2, "kind": "b"}, {"id": 3, "kind": "c"}]


def test_starting_version(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, "old")])
    append(spark, source, [(2, "new")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table
        def from_v1():
            return (spark.readStream.format("delta").option("startingVersion", "1")
                    .load(spark.conf.get("source")))
    """)
    project.run()
    assert project.rows("from_v1") == [{"id": 2, "kind": "new"}]


def test_full_refresh_truncates_and_reprocesses(medallion, spark) -> None:
    project, source = medallion
    project.run()
    append(spark, source, [(7, "d")])
    # Only the selected table is reset and recomputed, from bronze as it stands (without 7).
    result = project.run(full_refresh=["silver"])
    metrics = flow_metrics(result)
    assert set(metrics) == {"silver"}
    assert metrics["silver"].num_output_rows == 2 and metrics["silver"].batches == 1
    assert project.rows("silver", order_by="id") == [{"id": 1, "kind": "A"}, {"id": 3, "kind": "B"}]
    # The next update continues from the new checkpoint: bronze gets 7, silver only 7.
    result = project.run()
    metrics = flow_metrics(result)
    assert metrics["bronze"].num_output_rows == 1 and metrics["silver"].num_output_rows == 1
    assert project.rows("silver", order_by="id") == [
        {"id": 1, "kind": "A"}, {"id": 3, "kind": "B"}, {"id": 7, "kind": "D"}]
    assert project.rows("gold", order_by="kind") == [
        {"kind": "A", "count": 1}, {"kind": "B", "count": 1}, {"kind": "D", "count": 1}]
    project.run(full_refresh_all=True)
    assert [r["id"] for r in project.rows("bronze", order_by="id")] == [1, 2, 3, 7]
    assert len(project.rows("silver")) == 3
    assert not list((project.root / "storage/checkpoints").glob("*/_reset_pending"))


def test_sql_streaming_tables_and_flows(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, "a"), (2, "b")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.sql", """
        CREATE STREAMING TABLE raw AS SELECT * FROM STREAM(delta.`${source}`);

        CREATE OR REFRESH STREAMING TABLE clean
        COMMENT 'cleaned'
        AS SELECT id, kind FROM STREAM raw WHERE id > 1;

        CREATE STREAMING TABLE everything;
        CREATE FLOW from_raw AS INSERT INTO everything BY NAME SELECT id, kind FROM STREAM(raw);
        CREATE FLOW from_clean AS INSERT INTO everything BY NAME
          SELECT id * 100 AS id, kind FROM STREAM(LIVE.clean);
    """)
    assert project.run().state == UpdateState.COMPLETED
    append(spark, source, [(3, "c")])
    project.run()
    assert project.rows("clean", order_by="id") == [{"id": 2, "kind": "b"}, {"id": 3, "kind": "c"}]
    assert [r["id"] for r in project.rows("everything", order_by="id")] == [1, 2, 3, 200, 300]


def test_stream_static_join_reads_the_current_dimension(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, "a")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def kinds():
            return spark.createDataFrame([("a", "Alpha"), ("b", "Beta")], "kind STRING, label STRING")

        @dp.table
        def labelled():
            events = spark.readStream.format("delta").load(spark.conf.get("source"))
            return events.join(spark.read.table("kinds"), "kind")
    """)
    project.run()
    append(spark, source, [(2, "b")])
    project.run()
    assert project.rows("labelled", order_by="id") == [
        {"kind": "a", "id": 1, "label": "Alpha"}, {"kind": "b", "id": 2, "label": "Beta"}]


def test_stateful_operators_are_refused_at_dry_run(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, "a")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table
        def counts():
            return spark.readStream.format("delta").load(spark.conf.get("source")).groupBy("kind").count()

        @dp.table
        def joined():
            a = spark.readStream.format("delta").load(spark.conf.get("source"))
            b = spark.readStream.format("delta").load(spark.conf.get("source"))
            return a.join(b, "id", "left_anti")
    """)
    project.write("transformations/t.sql", """
        CREATE STREAMING TABLE sql_counts AS
        SELECT kind, count(*) AS n FROM STREAM(delta.`${source}`) GROUP BY kind
    """)
    with pytest.raises(GraphValidationError) as info:
        with project.open():
            pass
    text = str(info.value)
    assert "streaming table 'counts' (flow 'counts') applies aggregation (groupBy/agg) to a stream" in text
    assert "'joined' (flow 'joined') applies left_anti stream-stream join" in text
    # GROUP BY over a stream runs as the DataFrame aggregation, refused as Spark refuses it.
    assert ("'sql_counts' (flow 'sql_counts') applies aggregation (groupBy/agg) to a stream: "
            "[STREAMING_OUTPUT_MODE.UNSUPPORTED_OPERATION]") in text


def test_sql_stream_filtered_and_joined_by_batch_aggregations(project, tmp_path, spark) -> None:
    """A GROUP BY over a batch table inside a streaming query is recomputed with each batch; it
    is not a streaming aggregation."""
    source = tmp_path / "source"
    append(spark, source, [(1, "a"), (2, "b")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/dim.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def dim():
            return spark.createDataFrame([(1, "a"), (3, "a"), (3, "c")], "id BIGINT, kind STRING")
    """)
    project.write("transformations/t.sql", """
        CREATE STREAMING TABLE known AS
        SELECT * FROM STREAM(delta.`${source}`) WHERE id IN (SELECT id FROM dim GROUP BY id);

        CREATE STREAMING TABLE counted AS
        SELECT s.id, s.kind, d.n
        FROM STREAM(delta.`${source}`) s
        JOIN (SELECT kind, count(*) AS n FROM dim GROUP BY kind) d ON s.kind = d.kind;
    """)
    first = project.run()
    assert first.state == UpdateState.COMPLETED, [str(r.error) for r in first.failed_flows]
    append(spark, source, [(3, "c"), (4, "a")])
    project.run()
    assert project.rows("known", order_by="id") == [{"id": 1, "kind": "a"}, {"id": 3, "kind": "c"}]
    assert project.rows("counted", order_by="id") == [
        {"id": 1, "kind": "a", "n": 2}, {"id": 3, "kind": "c", "n": 1}, {"id": 4, "kind": "a", "n": 2}]


def test_second_run_while_one_runs_is_refused(medallion) -> None:
    from lakesmith.locations import Location
    from lakesmith.runtime.lock import PipelineRunning, pipeline_lock

    project, _ = medallion
    with pipeline_lock(Location.local(project.root / "storage"), "test_pipeline"):
        with pytest.raises(PipelineRunning, match="is already running"):
            project.run()
    assert project.run().state == UpdateState.COMPLETED


def test_continuous_mode_keeps_processing_until_ctrl_c(medallion, spark) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import read_rows

    project, source = medallion
    process = subprocess.Popen(
        [sys.executable, "-m", "lakesmith", "run", "--continuous", "--trigger-interval", "200ms"],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    silver = project.table_path("silver")
    gold = project.table_path("gold")

    def wait_for(ids: list[int], kinds: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if silver.exists() and sorted(r["id"] for r in read_rows(silver)) == ids \
                    and gold.exists() and len(read_rows(gold)) == kinds:
                return
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        raise AssertionError(f"silver never reached {ids}")

    try:
        wait_for([1, 3], kinds=2)
        append(spark, source, [(8, "e")])
        wait_for([1, 3, 8], kinds=3)
        append(spark, source, [(9, "f")])
        wait_for([1, 3, 8, 9], kinds=4)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Update" in out and "CANCELED" in out
    assert sorted(r["id"] for r in project.rows("silver")) == [1, 3, 8, 9]
    assert project.rows("gold", order_by="kind") == [
        {"kind": "A", "count": 1}, {"kind": "B", "count": 1}, {"kind": "E", "count": 1},
        {"kind": "F", "count": 1}]
    checkpoint = project.root / "storage/checkpoints/spark_catalog.default.silver/silver"
    offsets = sorted(p.name for p in (checkpoint / "offsets").iterdir())
    assert offsets == sorted(p.name for p in (checkpoint / "commits").iterdir())


def test_replaced_source_table_is_refused(project, tmp_path, spark) -> None:
    import shutil

    source = tmp_path / "source"
    append(spark, source, [(1, "a")])
    write_copy_pipeline(project, source)
    project.run()
    shutil.rmtree(source)
    append(spark, source, [(2, "b")])
    result = project.run()
    assert result.state == UpdateState.FAILED
    assert "was replaced by another table" in str(result.failed_flows[0].error)
    assert project.rows("copy") == [{"id": 1, "kind": "a"}]
    project.run(full_refresh=["copy"])
    assert project.rows("copy") == [{"id": 2, "kind": "b"}]


def test_once_flow_backfills_once_until_full_refresh(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(10, "live")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        import dlt

        dlt.create_streaming_table("events")

        @dlt.append_flow(target="events", once=True)
        def backfill():
            return spark.createDataFrame([(1, "history"), (2, "history")], "id BIGINT, kind STRING")

        @dlt.append_flow(target="events")
        def live():
            return spark.readStream.format("delta").load(spark.conf.get("source"))
    """)
    project.run()
    project.run()
    assert [r["id"] for r in project.rows("events", order_by="id")] == [1, 2, 10]
    project.run(full_refresh=["events"])
    assert [r["id"] for r in project.rows("events", order_by="id")] == [1, 2, 10]


def test_once_flow_must_be_a_batch_query(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, "a")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        import dlt

        dlt.create_streaming_table("events")

        @dlt.append_flow(target="events", once=True)
        def backfill():
            return spark.readStream.format("delta").load(spark.conf.get("source"))
    """)
    with pytest.raises(GraphValidationError, match="STREAMING_RELATION_FOR_ONCE_FLOW"):
        with project.open():
            pass


def test_table_created_by_a_killed_update_gets_its_comment_and_properties(
        project, tmp_path, spark) -> None:
    """An update killed between creating a streaming table (empty, with its schema) and setting
    its comment and properties left it without them; the next update sets them."""
    source = tmp_path / "source"
    append(spark, source, [(1, "a")])
    write_copy_pipeline(project, source,
                        table_args='(comment="Copied", table_properties={"quality": "bronze"})')
    # What the killed update left: the table's creating commit, with lakesmith's marker.
    (spark.createDataFrame([], "id BIGINT, kind STRING").write.format("delta")
     .option("userMetadata", Marker(kind=CREATE, pipeline="test_pipeline").to_json())
     .save(str(project.table_path("copy"))))
    assert project.run().state == UpdateState.COMPLETED
    metadata = DeltaTable(str(project.table_path("copy"))).metadata()
    assert (metadata.description, metadata.configuration.get("quality")) == ("Copied", "bronze")
    assert project.rows("copy") == [{"id": 1, "kind": "a"}]


def test_partitioned_source_and_target_keep_partition_values(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    (spark.createDataFrame([(1, "a", "2024-01-01"), (2, "b", None)], "id BIGINT, kind STRING, day STRING")
     .selectExpr("id", "kind", "CAST(day AS DATE) AS day")
     .write.format("delta").partitionBy("kind", "day").save(str(source)))
    write_copy_pipeline(project, source, table_args='(partition_cols=["kind"])')
    project.run()
    (spark.createDataFrame([(3, "a", "2024-01-02")], "id BIGINT, kind STRING, day STRING")
     .selectExpr("id", "kind", "CAST(day AS DATE) AS day")
     .write.format("delta").mode("append").partitionBy("kind", "day").save(str(source)))
    project.run()
    import datetime

    assert project.rows("copy", order_by="id") == [
        {"id": 1, "kind": "a", "day": datetime.date(2024, 1, 1)},
        {"id": 2, "kind": "b", "day": None},
        {"id": 3, "kind": "a", "day": datetime.date(2024, 1, 2)}]
    from deltalake import DeltaTable

    assert DeltaTable(str(project.table_path("copy"))).metadata().partition_columns == ["kind"]


def test_new_source_column_evolves_the_streaming_table(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, "a")])
    write_copy_pipeline(project, source)
    project.run()
    (spark.createDataFrame([(2, "b", 9.5)], "id BIGINT, kind STRING, score DOUBLE")
     .write.format("delta").mode("append").option("mergeSchema", "true").save(str(source)))
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]
    assert project.rows("copy", order_by="id") == [
        {"id": 1, "kind": "a", "score": None}, {"id": 2, "kind": "b", "score": 9.5}]


def test_max_bytes_per_trigger_admits_at_least_one_file_per_batch(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    for i in range(3):
        append(spark, source, [(i, "x" * 50)])
    write_copy_pipeline(project, source, options={"maxBytesPerTrigger": "1b"})
    result = project.run()
    (metrics,) = [r.metrics for r in result.flows]
    assert metrics.batches == 3  # each file is larger than the limit: one file per batch
    assert sorted(r["id"] for r in project.rows("copy")) == [0, 1, 2]


def test_lock_left_by_a_killed_process_is_taken_over(medallion) -> None:
    import subprocess
    import sys

    project, _ = medallion
    holder = subprocess.run([sys.executable, "-c", (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from lakesmith.locations import Location\n"
        "from lakesmith.runtime.lock import pipeline_lock\n"
        f"lock = pipeline_lock(Location.local({str(project.root / 'storage')!r}), 'p').__enter__()\n"
        "os._exit(9)\n")], capture_output=True, text=True, timeout=60)
    assert holder.returncode == 9, holder.stderr
    lock_file = project.root / "storage" / "lakesmith.lock"
    assert json.loads(lock_file.read_text())["pid"] > 0  # the dead holder's record is still there
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert lock_file.read_text() == ""  # released cleanly by the run that took it over
    from lakesmith.locations import Location
    from lakesmith.runtime.eventlog_queries import read_events

    warnings = [e for e in read_events(Location.local(project.root / "storage"))
                if e["level"] == "WARN" and e["origin"]["update_id"] == result.update_id]
    assert "did not release the pipeline lock" in warnings[0]["message"]


def test_initial_snapshot_is_read_in_modification_time_order(project, tmp_path, spark) -> None:
    """Spark's Delta source splits a snapshot into batches by file modification time, then
    path; which duplicate dropDuplicates keeps must not depend on random file names."""
    source = tmp_path / "source"
    for kind in ["first", "second", "third", "fourth"]:
        append(spark, source, [(1, kind)])  # one file per commit, written in this order
    project.write_spec()
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp

        @dp.table
        def copy():
            return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
                    .load("{source}").dropDuplicates(["id"]))
    """)
    assert project.run().state == UpdateState.COMPLETED
    assert project.rows("copy") == [{"id": 1, "kind": "first"}]
    checkpoint = project.root / "storage/checkpoints/spark_catalog.default.copy/copy"
    assert sorted(int(p.name) for p in (checkpoint / "commits").iterdir()) == [0, 1, 2, 3]


def test_one_batch_of_many_files_keeps_the_first_row_of_each_key(project, tmp_path,
                                                                   spark) -> None:
    """A batch reading several files (several input partitions of the engine) keeps each key
    once, and of a key repeated within a file the file's first row, as Spark's dropDuplicates
    does for a stream: the first row seen. (Across files the first seen follows the engine's
    order of the batch's files; Spark's follows its partitioning, by file size.)"""
    source = tmp_path / "source"
    for n in range(6):
        append(spark, source, [(n, "first"), (n, "second"), (100, "same"), (n, "third"),
                               (None, "null-key")])
    project.write_spec()
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp

        @dp.table
        def copy():
            return spark.readStream.format("delta").load("{source}").dropDuplicates(["id"])
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    (metrics,) = [r.metrics for r in result.flows]
    assert metrics.batches == 1
    rows = project.rows("copy", order_by="id")
    assert [(r["id"], r["kind"]) for r in rows] == [
        *[(n, "first") for n in range(6)], (100, "same"), (None, "null-key")]
    (operator,) = metrics.details["stateOperators"]
    assert (operator["numRowsUpdated"], operator["customMetrics"]["numDroppedDuplicateRows"]) \
        == (8, 22)


def test_large_batch_is_deduplicated_in_passes_over_slices_of_its_keys(
        project, tmp_path, spark, monkeypatch) -> None:
    """A batch larger than a pass is deduplicated one slice of its keys at a time (bounded engine
    memory), with the same rows as in one pass; the next, small batch takes one pass again."""
    from lakesmith.runtime.streaming.operators import deduplicate

    monkeypatch.setattr(deduplicate, "ROWS_PER_PASS", 4)
    source = tmp_path / "source"
    append(spark, source, [(n % 7 if n % 5 else None, f"k{n}") for n in range(20)])
    project.write_spec()
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp

        @dp.table
        def copy():
            return spark.readStream.format("delta").load("{source}").dropDuplicates(["id"])
    """)
    assert project.run().state == UpdateState.COMPLETED
    # ids: n % 7, or NULL when n % 5 == 0; each key's first row is kept
    assert [(r["id"], r["kind"]) for r in project.rows("copy", order_by="id")] == [
        (0, "k7"), (1, "k1"), (2, "k2"), (3, "k3"), (4, "k4"), (5, "k12"), (6, "k6"),
        (None, "k0")]
    state = project.root / "storage/checkpoints/spark_catalog.default.copy/copy/state"
    (candidates,) = [d for d in state.iterdir()
                     if d.name.startswith("scratch-dedup-candidates-")]
    passes = {p.name for p in candidates.iterdir() if p.name.startswith("__lakesmith_pass=")}
    assert len(passes) > 1 and passes <= {f"__lakesmith_pass={n}" for n in range(5)}  # 20 / 4
    monkeypatch.setattr(deduplicate, "ROWS_PER_PASS", 1000)
    append(spark, source, [(7, "new"), (6, "again"), (7, "new-again")])
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert [(r["id"], r["kind"]) for r in project.rows("copy", order_by="id")
            if r["id"] in (6, 7)] == [(6, "k6"), (7, "new")]
    (metrics,) = [r.metrics for r in result.flows]
    (operator,) = metrics.details["stateOperators"]
    assert (operator["numRowsTotal"], operator["numRowsUpdated"],
            operator["customMetrics"]["numDroppedDuplicateRows"]) == (9, 1, 2)


def test_deduplication_of_columns_delta_cannot_store_runs_in_the_engine(
        project, tmp_path, spark) -> None:
    """A struct field named with a space cannot be written to a scratch table (no column
    mapping): the batch is deduplicated by the engine's dropDuplicates, with the same rows."""
    source = tmp_path / "source"
    append(spark, source, [(1, "a"), (1, "a-again"), (2, "b")])
    project.write_spec()
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.table
        def copy():
            return (spark.readStream.format("delta").load("{source}")
                    .select("id", F.struct(F.col("kind").alias("a b")).alias("s"))
                    .dropDuplicates(["id"]).select("id", F.col("s.`a b`").alias("kind")))
    """)
    assert project.run().state == UpdateState.COMPLETED
    append(spark, source, [(2, "b-again"), (3, "c")])
    assert project.run().state == UpdateState.COMPLETED
    assert [(r["id"], r["kind"]) for r in project.rows("copy", order_by="id")] == [
        (1, "a"), (2, "b"), (3, "c")]


@pytest.mark.parametrize("kept_as_query", [False, True], ids=["kept-scratch", "kept-query"])
def test_deduplicated_batch_computed_once_feeds_output_expectations_and_state(
        project, tmp_path, spark, monkeypatch, kept_as_query) -> None:
    """A batch's deduplicated rows land once in a scratch table in the checkpoint (a small batch:
    they are a query over its candidates, stored as plain Parquet files); the output, the
    expectation counts, the quarantine and the state all come from them, exactly."""
    from conftest import read_rows
    from lakesmith.runtime.streaming.operators import deduplicate

    monkeypatch.setattr(deduplicate, "KEPT_AS_QUERY_ROWS", 1000 if kept_as_query else 0)

    source = tmp_path / "source"
    append(spark, source, [(1, "a"), (1, "a-again"), (2, "drop-me"), (3, "c")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        import dlt

        @dlt.table(table_properties={"lakesmith.quarantine": "true"})
        @dlt.expect_or_drop("not_dropped", "kind <> 'drop-me'")
        def unique_ids():
            return (spark.readStream.format("delta").load(spark.conf.get("source"))
                    .select("id", "kind").dropDuplicates(["id"]))
    """)
    first = project.run()
    assert first.state == UpdateState.COMPLETED
    assert [(r["id"], r["kind"]) for r in project.rows("unique_ids", order_by="id")] == [
        (1, "a"), (3, "c")]
    assert [r["id"] for r in project.rows("unique_ids_quarantine")] == [2]
    (metrics,) = [r.metrics for r in first.flows]
    assert metrics.details["data_quality"].dropped_records == 1
    (operator,) = metrics.details["stateOperators"]
    assert (operator["numRowsTotal"], operator["numRowsUpdated"],
            operator["customMetrics"]["numDroppedDuplicateRows"]) == (3, 3, 1)
    state = project.root / "storage/checkpoints/spark_catalog.default.unique_ids/unique_ids/state"
    # A small batch's candidates are plain Parquet files; a larger one's a scratch table.
    prefix = "scratch-files-dedup-" if kept_as_query else "scratch-dedup-candidates-"
    (scratch,) = [d for d in state.iterdir() if d.name.startswith(prefix)]

    def stored(folder: Path) -> list[dict]:
        return pq.read_table(folder).to_pylist() if kept_as_query else read_rows(folder)

    kept_tables = [d for d in state.iterdir()
                   if d.name.startswith("scratch-") and d.name != scratch.name]
    if kept_as_query:
        assert kept_tables == []
    else:
        (kept,) = kept_tables
        assert sorted((r["id"], r["kind"]) for r in read_rows(kept)) == [
            (1, "a"), (2, "drop-me"), (3, "c")]  # what the expectations, output and state read
    # The batch's new rows with their ordinals, before the expectations: the output is the
    # first row of each key among them.
    candidates = sorted((r["id"], r["kind"], r["__lakesmith_ordinal"]) for r in stored(scratch))
    assert [(i, k) for i, k, _ in candidates] == [(1, "a"), (1, "a-again"), (2, "drop-me"),
                                                  (3, "c")]
    assert candidates[0][2] < candidates[1][2]
    # Keys of the first run (2 included: dropped by a rule, still seen) are not output again.
    append(spark, source, [(2, "b"), (3, "c-again"), (4, "d")])
    second = project.run()
    assert [(r["id"], r["kind"]) for r in project.rows("unique_ids", order_by="id")] == [
        (1, "a"), (3, "c"), (4, "d")]
    assert sorted(r["id"] for r in stored(scratch)) == [4]  # new keys of the newest batch
    (metrics,) = [r.metrics for r in second.flows]
    assert metrics.details["data_quality"].dropped_records == 0
    assert metrics.details["stateOperators"][0]["numRowsTotal"] == 4
    data_files = {p.name for p in scratch.rglob("*.parquet") if "_delta_log" not in p.parts}
    if kept_as_query:  # the newest batch's files only, no log
        assert [p.name for p in scratch.iterdir()] == sorted(data_files)
    else:
        assert data_files == {f.split("/")[-1] for f in DeltaTable(str(scratch)).file_uris()}
