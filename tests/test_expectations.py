"""Expectations (warn, drop, fail) in batch and streaming flows, quarantine, and the counts the
event log records."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lakesmith.errors import GraphValidationError
from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import quality, read_events, updates
from lakesmith.runtime.events import UpdateState


def append(spark, path, rows, schema="id BIGINT, amount DOUBLE, email STRING") -> None:
    spark.createDataFrame(rows, schema).write.format("delta").mode("append").save(str(path))


def counts(project, update_id=None) -> dict[tuple[str, str], tuple[int, int]]:
    events = read_events(Location.local(project.root / "storage"))
    update_id = update_id or updates(events)[-1].update_id
    return {(q.dataset, q.expectation): (q.passed, q.failed) for q in quality(events, update_id)}


def flow_events(project, flow: str, update_id: str) -> list[dict]:
    return [e for e in read_events(Location.local(project.root / "storage"))
            if e["event_type"] == "flow_progress" and e["origin"]["flow_name"] == flow
            and e["origin"]["update_id"] == update_id]


def test_batch_expectations_warn_drop_and_null_counts(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        import dlt

        @dlt.table(table_properties={"lakesmith.quarantine": "true"})
        @dlt.expect("has_email", "email IS NOT NULL")
        @dlt.expect_or_drop("positive_amount", "amount > 0")
        @dlt.expect_or_fail("has_id", "id IS NOT NULL")
        def orders():
            return spark.createDataFrame(
                [(1, 10.0, "a@x"), (2, -5.0, "b@x"), (3, None, None), (4, 7.0, None)],
                "id BIGINT, amount DOUBLE, email STRING")
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    # amount NULL is a failure of positive_amount (NULL counts as failed), so 2 and 3 are dropped
    assert project.rows("orders", order_by="id") == [
        {"id": 1, "amount": 10.0, "email": "a@x"}, {"id": 4, "amount": 7.0, "email": None}]
    assert counts(project) == {("orders", "has_email"): (2, 2),
                               ("orders", "positive_amount"): (2, 2),
                               ("orders", "has_id"): (4, 0)}
    (completed,) = [e for e in flow_events(project, "orders", result.update_id)
                    if json.loads(e["details"])["flow_progress"]["status"] == "COMPLETED"]
    progress = json.loads(completed["details"])["flow_progress"]
    assert progress["metrics"]["num_output_rows"] == 2
    assert progress["data_quality"]["dropped_records"] == 2
    assert completed["level"] == "WARN"
    quarantine = project.rows("orders_quarantine", order_by="id")
    assert [(r["id"], r["_failed_expectations"], r["_update_id"]) for r in quarantine] == [
        (2, ["positive_amount"], result.update_id), (3, ["positive_amount"], result.update_id)]


def test_streaming_expectations_across_batches_and_runs(project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, 5.0, "a"), (2, -1.0, "b")])
    append(spark, source, [(3, 0.0, None)])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.sql", """
        CREATE STREAMING TABLE payments (
          CONSTRAINT positive EXPECT (amount > 0) ON VIOLATION DROP ROW,
          CONSTRAINT has_email EXPECT (email IS NOT NULL)
        )
        TBLPROPERTIES ('lakesmith.quarantine' = 'true')
        AS SELECT * FROM STREAM(delta.`${source}`)
    """)
    project.write("transformations/opts.py", "")
    first = project.run()
    assert counts(project, first.update_id) == {("payments", "positive"): (1, 2),
                                                ("payments", "has_email"): (2, 1)}
    append(spark, source, [(4, 9.0, "d"), (5, 1.0, None)])
    append(spark, source, [(6, -3.0, "f")])
    second = project.run()
    assert counts(project, second.update_id) == {("payments", "positive"): (2, 1),
                                                 ("payments", "has_email"): (2, 1)}
    assert [r["id"] for r in project.rows("payments", order_by="id")] == [1, 4, 5]
    quarantine = project.rows("payments_quarantine", order_by="id")
    assert [(r["id"], r["_update_id"]) for r in quarantine] == [
        (2, first.update_id), (3, first.update_id), (6, second.update_id)]
    assert all(r["_failed_expectations"] == ["positive"] for r in quarantine)
    # A full refresh quarantines the rows again, in a quarantine it emptied first.
    third = project.run(full_refresh=["payments"])
    assert [r["id"] for r in project.rows("payments", order_by="id")] == [1, 4, 5]
    quarantine = project.rows("payments_quarantine", order_by="id")
    assert [(r["id"], r["_update_id"]) for r in quarantine] == [
        (2, third.update_id), (3, third.update_id), (6, third.update_id)]


def test_expect_or_fail_stops_and_leaves_tables_and_checkpoints_as_they_were(
        project, tmp_path, spark) -> None:
    source = tmp_path / "source"
    append(spark, source, [(1, 5.0, "a")])
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp
        from lakesmith import expect_or_fail

        @dp.table
        @expect_or_fail("valid_amount", "amount >= 0")
        def payments():
            return spark.readStream.format("delta").load(spark.conf.get("source"))

        @dp.materialized_view
        def total():
            return spark.read.table("payments").selectExpr("sum(amount) AS total")
    """)
    assert project.run().state == UpdateState.COMPLETED
    checkpoint = project.root / "storage/checkpoints/spark_catalog.default.payments/payments"
    before = sorted(p.relative_to(checkpoint).as_posix() for p in checkpoint.rglob("*")
                    if p.is_file())
    append(spark, source, [(2, 3.0, "b"), (3, -7.0, "c")])
    failed = project.run()
    assert failed.state == UpdateState.FAILED
    message = str(failed.failed_flows[0].error)
    assert "expectation 'valid_amount' of dataset 'payments'" in message
    assert '"id": 3' in message and '"amount": -7.0' in message
    assert "t.py:5" in message
    assert project.rows("payments") == [{"id": 1, "amount": 5.0, "email": "a"}]
    assert project.rows("total") == [{"total": 5.0}]
    after = sorted(p.relative_to(checkpoint).as_posix() for p in checkpoint.rglob("*")
                   if p.is_file())
    assert after == before
    events = read_events(Location.local(project.root / "storage"))
    final = [e for e in events if e["origin"]["update_id"] == failed.update_id
             and e["event_type"] == "update_progress"][-1]
    assert json.loads(final["details"]) == {"update_progress": {"state": "FAILED"}}
    assert final["level"] == "ERROR" and final["error"]["fatal"] is True
    flow_failed = [e for e in flow_events(project, "payments", failed.update_id)
                   if json.loads(e["details"])["flow_progress"]["status"] == "FAILED"]
    assert "valid_amount" in flow_failed[0]["error"]["exceptions"][0]["message"]


def test_expectations_on_a_view_and_on_an_append_flow(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp
        from lakesmith import expect, expect_or_drop

        @dp.temporary_view
        @expect_or_drop("even", "id % 2 = 0")
        def evens():
            return spark.range(6)

        @dp.materialized_view
        @expect("small", "id < 4")
        def from_view():
            return spark.read.table("evens")
    """)
    result = project.run()
    assert project.rows("from_view", order_by="id") == [{"id": 0}, {"id": 2}, {"id": 4}]
    assert counts(project, result.update_id) == {("evens", "even"): (3, 3),
                                                 ("from_view", "small"): (2, 1)}


def test_bad_conditions_are_reported_at_dry_run(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        import dlt

        @dlt.table
        @dlt.expect("syntax", "id > AND 1")
        @dlt.expect("missing_column", "nope > 0")
        @dlt.expect("not_boolean", "id + 1")
        @dlt.expect("fine", "id >= 0")
        def t():
            return spark.range(3)
    """)
    with project.open() as pipeline:
        with pytest.raises(GraphValidationError) as info:
            pipeline.analyze()
    text = str(info.value)
    assert "expectation 'syntax' of dataset 't' is not valid" in text and "t.py:4" in text
    assert "expectation 'missing_column' of dataset 't' is not valid" in text and "nope" in text
    assert "expectation 'not_boolean' of dataset 't' must be a boolean condition" in text
    assert "'fine'" not in text


def test_cli_quality_runs_events_and_databricks_queries(project, sail_url) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        import dlt

        @dlt.table
        @dlt.expect_or_drop("positive", "id > 0")
        def t():
            return spark.range(4)
    """)
    project.run()

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "lakesmith", *args], cwd=project.root,
                              text=True, capture_output=True, timeout=120, env=dict(os.environ))

    report = cli("quality")
    assert report.returncode == 0, report.stderr
    line = next(line for line in report.stdout.splitlines() if line.startswith("t "))
    assert line.split() == ["t", "positive", "drop", "3", "1", "75.00%"]
    strict = cli("quality", "--min-pass-rate", "0.9")
    assert strict.returncode == 1 and "t.positive (75.00%)" in strict.stderr
    runs = cli("runs")
    assert "COMPLETED" in runs.stdout and runs.stdout.count("COMPLETED") == 1
    errors_only = cli("events", "--level", "ERROR")
    assert "No matching events." in errors_only.stdout
    query = cli("sql", """
        SELECT row_expectations.dataset AS dataset, row_expectations.name AS expectation,
               SUM(row_expectations.passed_records) AS passing_records,
               SUM(row_expectations.failed_records) AS failing_records
        FROM (
          SELECT explode(from_json(details:flow_progress:data_quality:expectations,
            "array<struct<name: string, dataset: string, passed_records: int, failed_records: int>>"
          )) row_expectations
          FROM event_log("any-pipeline-id")
          WHERE event_type = 'flow_progress'
        )
        GROUP BY row_expectations.dataset, row_expectations.name
    """)
    assert query.returncode == 0, query.stderr
    row = next(line for line in query.stdout.splitlines() if line.startswith("t "))
    assert [cell.strip() for cell in row.split("│")] == ["t", "positive", "3", "1"]
