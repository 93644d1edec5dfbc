"""AUTO CDC into SCD type 1 tables: Databricks' documented example in the three API styles, the
options, out-of-order changes across batches and runs, tombstones, truncates, bad input, metrics,
and reading the target downstream."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from lakesmith.runtime.events import UpdateState

USERS = pa.schema([("userId", pa.int64()), ("name", pa.string()), ("city", pa.string()),
                   ("operation", pa.string()), ("sequenceNum", pa.int64())])

# Databricks' SCD type 1 example (AUTO CDC docs, "Example: SCD type 1 and SCD type 2 processing"):
# the input events, and the target after them. (Spark's `pyspark.pipelines` has no
# apply_as_truncates: that style omits it, the others declare it.)
DOC_EVENTS = [
    (124, "Raul", "Oaxaca", "INSERT", 1),
    (123, "Isabel", "Monterrey", "INSERT", 1),
    (125, "Mercedes", "Tijuana", "INSERT", 2),
    (126, "Lily", "Cancun", "INSERT", 2),
    (123, None, None, "DELETE", 6),
    (125, "Mercedes", "Guadalajara", "UPDATE", 6),
    (125, "Mercedes", "Mexicali", "UPDATE", 5),
    (123, "Isabel", "Chihuahua", "UPDATE", 5),
]
DOC_RESULT = [
    {"userId": 124, "name": "Raul", "city": "Oaxaca"},
    {"userId": 125, "name": "Mercedes", "city": "Guadalajara"},
    {"userId": 126, "name": "Lily", "city": "Cancun"},
]
# With the TRUNCATE record the docs' notebook has commented out: keys 124 and 126 (newest event
# before the truncate) go.
DOC_TRUNCATE = (None, None, None, "TRUNCATE", 3)
DOC_TRUNCATE_RESULT = [{"userId": 125, "name": "Mercedes", "city": "Guadalajara"}]

SOURCE_PY = """
from pyspark import pipelines as dp

@dp.table
def users():
    return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
            .load(spark.conf.get("changes.path")))
"""

STYLES = {
    "pyspark.pipelines": ("cdc.py", """
        from pyspark import pipelines as dp
        from pyspark.sql.functions import col, expr

        dp.create_streaming_table("target")
        dp.create_auto_cdc_flow(
            target="target", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
            apply_as_deletes=expr("operation = 'DELETE'"),
            except_column_list=["operation", "sequenceNum"], stored_as_scd_type=1)
    """),
    "dlt": ("cdc.py", """
        import dlt
        from pyspark.sql.functions import col, expr

        dlt.create_streaming_table("target")
        dlt.apply_changes(
            target="target", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
            apply_as_deletes=expr("operation = 'DELETE'"),
            apply_as_truncates=expr("operation = 'TRUNCATE'"),
            except_column_list=["operation", "sequenceNum"], stored_as_scd_type=1)
    """),
    "sql": ("cdc.sql", """
        CREATE OR REFRESH STREAMING TABLE target;

        CREATE FLOW target_flow AS AUTO CDC INTO target
        FROM STREAM(users)
        KEYS (userId)
        APPLY AS DELETE WHEN operation = "DELETE"
        APPLY AS TRUNCATE WHEN operation = "TRUNCATE"
        SEQUENCE BY sequenceNum
        COLUMNS * EXCEPT (operation, sequenceNum)
        STORED AS SCD TYPE 1;
    """),
}


def append(path: Path, rows: list[tuple], schema: pa.Schema = USERS) -> None:
    """One source commit (one file: one micro-batch with maxFilesPerTrigger=1)."""
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema.names]
    write_deltalake(str(path), pa.table([pa.array(list(c), f.type)
                                         for c, f in zip(columns, schema, strict=True)],
                                        schema=schema), mode="append")


def setup(project: Any, tmp_path: Path, cdc: tuple[str, str] | str, *,
          source: str = SOURCE_PY, configuration: dict[str, str] | None = None) -> Path:
    changes = tmp_path / "changes"
    project.write_spec(configuration={"changes.path": str(changes), **(configuration or {})})
    project.write("transformations/source.py", source)
    name, text = cdc if isinstance(cdc, tuple) else ("cdc.py", cdc)
    project.write(f"transformations/{name}", text)
    return changes


def run_ok(project: Any) -> Any:
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    return result


def target(project: Any, table: str = "target") -> list[dict]:
    return project.rows(table, order_by="userId")


@pytest.mark.parametrize("style", list(STYLES))
def test_databricks_scd1_example(project, tmp_path, style) -> None:
    changes = setup(project, tmp_path, STYLES[style])
    append(changes, DOC_EVENTS)
    run_ok(project)
    assert target(project) == DOC_RESULT
    run_ok(project)  # nothing new: unchanged
    assert target(project) == DOC_RESULT


@pytest.mark.parametrize("style", ["dlt", "sql"])
def test_databricks_scd1_example_with_truncate(project, tmp_path, style) -> None:
    changes = setup(project, tmp_path, STYLES[style])
    append(changes, [*DOC_EVENTS, DOC_TRUNCATE])
    run_ok(project)
    assert target(project) == DOC_TRUNCATE_RESULT


def test_truncate_across_batches_ignores_later_older_events(project, tmp_path) -> None:
    changes = setup(project, tmp_path, STYLES["dlt"])
    append(changes, DOC_EVENTS[:4])
    run_ok(project)
    append(changes, [DOC_TRUNCATE, (127, "Ana", "Puebla", "INSERT", 4)])
    append(changes, [(128, "Old", "Leon", "INSERT", 2), (125, "Mercedes", "Colima", "UPDATE", 7)])
    run_ok(project)
    assert target(project) == [{"userId": 125, "name": "Mercedes", "city": "Colima"},
                               {"userId": 127, "name": "Ana", "city": "Puebla"}]


CDC_PY = """
import dlt
from pyspark.sql.functions import col, expr

dlt.create_streaming_table("target"{properties})
dlt.apply_changes(target="target", source="users", keys=["userId"], sequence_by="sequenceNum",
                  apply_as_deletes=expr("operation = 'DELETE'"), {options})
"""


def cdc(options: str = "except_column_list=['operation']", properties: str = "") -> str:
    return CDC_PY.format(options=options, properties=properties)


def test_out_of_order_across_runs_never_overwrites_newer(project, tmp_path) -> None:
    changes = setup(project, tmp_path, cdc())
    append(changes, [(1, "a", "x", "INSERT", 5), (2, "b", "y", "INSERT", 1)])
    run_ok(project)
    append(changes, [(1, "old", "old", "UPDATE", 3), (2, "b2", "y2", "UPDATE", 2)])
    run_ok(project)
    assert target(project) == [
        {"userId": 1, "name": "a", "city": "x", "sequenceNum": 5},
        {"userId": 2, "name": "b2", "city": "y2", "sequenceNum": 2}]


def test_a_delete_is_not_undone_by_an_older_update_arriving_later(project, tmp_path) -> None:
    """The tombstone of a deleted key outlives the run (within the retention)."""
    changes = setup(project, tmp_path, cdc())
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1)])
    append(changes, [(1, None, None, "DELETE", 5)])
    run_ok(project)
    assert [r["userId"] for r in target(project)] == [2]
    append(changes, [(1, "late", "late", "UPDATE", 4)])
    run_ok(project)
    assert [r["userId"] for r in target(project)] == [2]
    append(changes, [(1, "back", "z", "INSERT", 6)])  # a newer one wins over the delete
    run_ok(project)
    assert target(project)[0] == {"userId": 1, "name": "back", "city": "z", "sequenceNum": 6}


def test_expired_tombstones_are_collected(project, tmp_path) -> None:
    """With a retention of 0 s a tombstone goes at the next batch: a late older update then
    inserts the key again (Databricks documents the same after its threshold)."""
    changes = setup(project, tmp_path, cdc(
        properties=', table_properties={"pipelines.cdc.tombstoneGCThresholdInSeconds": "0"}'))
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1)])
    append(changes, [(1, None, None, "DELETE", 5)])
    append(changes, [(2, "b2", "y", "UPDATE", 2)])  # a later batch collects the tombstone
    run_ok(project)
    append(changes, [(1, "late", "late", "UPDATE", 4)])
    run_ok(project)
    assert [r["userId"] for r in target(project)] == [1, 2]


def test_column_list_and_ignore_null_updates(project, tmp_path) -> None:
    changes = setup(project, tmp_path, cdc(
        "column_list=['userId', 'city'], ignore_null_updates=True"))
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1)])
    run_ok(project)
    append(changes, [(1, "a2", None, "UPDATE", 2), (2, None, "y2", "UPDATE", 2)])
    run_ok(project)
    assert target(project) == [{"userId": 1, "city": "x"}, {"userId": 2, "city": "y2"}]


def test_a_delete_then_an_update_in_one_batch_replaces_the_row(project, tmp_path) -> None:
    """ignore_null_updates keeps a value over NULL updates, but not across a delete."""
    changes = setup(project, tmp_path, cdc("ignore_null_updates=True"))
    append(changes, [(1, "a", "x", "INSERT", 1)])
    run_ok(project)
    append(changes, [(1, None, None, "DELETE", 2), (1, "b", None, "INSERT", 3),
                     (1, None, "z", "UPDATE", 4)])
    run_ok(project)
    assert target(project) == [
        {"userId": 1, "name": "b", "city": "z", "operation": "UPDATE", "sequenceNum": 4}]


def test_equal_sequence_values_are_resolved_the_same_in_any_batching(project, tmp_path) -> None:
    """At one sequence value a delete wins over an upsert, and of two upserts the one with the
    larger hash of its values: whatever batch each arrives in."""
    results = []
    for order in ([0, 1, 2], [2, 1, 0], [1, 0, 2]):
        root = tmp_path / f"p{''.join(map(str, order))}"
        root.mkdir()
        proj = type(project)(root, project.sail_url)
        changes = setup(proj, root, cdc())
        events = [(1, "a", "x", "UPDATE", 5), (1, "b", "y", "UPDATE", 5),
                  (2, "c", "z", "UPDATE", 5)]
        for i in order:
            append(changes, [events[i]])
        append(changes, [(2, None, None, "DELETE", 5)])
        run_ok(proj)
        results.append(target(proj))
    assert results[0] == results[1] == results[2]
    assert [r["userId"] for r in results[0]] == [1]


@pytest.mark.parametrize(("row", "column"), [
    ((None, "a", "x", "INSERT", 1), "key column 'userId'"),
    ((1, "a", "x", "INSERT", None), "sequence_by"),
])
def test_null_key_or_sequence_fails_the_batch(project, tmp_path, row, column) -> None:
    changes = setup(project, tmp_path, cdc())
    append(changes, [(2, "b", "y", "INSERT", 1), row])
    result = project.run()
    assert result.state == UpdateState.FAILED
    (failed,) = result.failed_flows
    message = str(failed.error)
    assert f"AUTO CDC flow 'target': {column} is NULL in a change from 'users'" in message
    assert "'name': 'a'" in message and "Nothing of the batch was committed" in message
    assert target(project) == []
    assert not list((project.root / "storage" / "checkpoints").glob("*target*/target/offsets/0"))


def test_metrics_in_the_event_log(project, tmp_path, spark) -> None:
    changes = setup(project, tmp_path, cdc())
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1)])
    result = run_ok(project)
    (flow,) = [f for f in result.flows if f.planned.flow.name == "target"]
    assert (flow.metrics.details["num_upserted_rows"], flow.metrics.details["num_deleted_rows"]) \
        == (2, 0)
    # An update, a delete, and a delete of a key the target does not hold (nothing deleted).
    append(changes, [(1, "a2", "x", "UPDATE", 2), (2, None, None, "DELETE", 2),
                     (3, None, None, "DELETE", 1)])
    result = run_ok(project)
    (flow,) = [f for f in result.flows if f.planned.flow.name == "target"]
    assert (flow.metrics.details["num_upserted_rows"], flow.metrics.details["num_deleted_rows"]) \
        == (1, 1)
    events = project.root / "storage" / "system" / "events"
    details = [r[0].replace(" ", "") for r in spark.read.format("delta").load(str(events))
               .where("event_type = 'flow_progress' AND origin.flow_name = 'target'")
               .select("details").collect()]
    completed = [d for d in details if '"status":"COMPLETED"' in d]
    assert len(completed) == 2
    assert all('"num_upserted_rows":' in d and '"num_deleted_rows":' in d for d in completed)
    assert any('"num_upserted_rows":1' in d and '"num_deleted_rows":1' in d for d in completed)


def test_reading_the_target_downstream(project, tmp_path) -> None:
    """A streaming read of the target fails at its first change commit (as Spark's Delta source
    does) unless skipChangeCommits is set; a materialized view over it sees its rows."""
    changes = setup(project, tmp_path, textwrap.dedent(STYLES["dlt"][1]) + """
@dlt.table
def stream_all():
    return spark.readStream.table("target")

@dlt.table
def stream_skip():
    return spark.readStream.option("skipChangeCommits", "true").table("target")

@dlt.table
def cities():
    return spark.read.table("target").groupBy("city").count()
""")
    append(changes, DOC_EVENTS[:4])
    run_ok(project)
    append(changes, DOC_EVENTS[4:])
    result = project.run()
    (failed,) = result.failed_flows
    assert failed.planned.flow.name == "stream_all" and "skipChangeCommits" in str(failed.error)
    assert sorted(r["city"] for r in project.rows("cities")) == [
        "Cancun", "Guadalajara", "Oaxaca"]
