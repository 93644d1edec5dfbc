"""AUTO CDC from snapshots into SCD type 2 tables: Databricks' snapshot example with history
tracked on `TrackingColumn` (function and table sources), every column tracked, keys leaving and
coming back, string versions, the versions opened and closed in the event log, and a rerun of the
same snapshot changing nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lakesmith.errors import GraphValidationError
from test_auto_cdc_snapshot import (
    FUNCTION_SOURCE,
    SNAPSHOT_1,
    SNAPSHOT_2,
    TABLE_SOURCE,
    metrics,
    run_ok,
    setup,
    write,
)

TRACKED = 'stored_as_scd_type=2, track_history_column_list=["TrackingColumn"]'
FUNCTION_SCD2 = FUNCTION_SOURCE.replace("stored_as_scd_type=1", TRACKED)
TABLE_SCD2 = TABLE_SOURCE.replace("stored_as_scd_type=1", TRACKED)
FUNCTION_ALL_TRACKED = FUNCTION_SOURCE.replace("stored_as_scd_type=1", "stored_as_scd_type=2")


def row(key: int, tracking: str, other: str | None, start: Any, end: Any) -> dict[str, Any]:
    return {"Key": key, "TrackingColumn": tracking, "NonTrackingColumn": other,
            "__START_AT": start, "__END_AT": end}


# Databricks' example (AUTO CDC FROM SNAPSHOT, SCD type 2 tracking TrackingColumn): after
# snapshot 2, key 1 (missing) is closed at 2, key 2 (TrackingColumn changed) closed at 2 and
# reopened, key 3 is new, key 4 (only NonTrackingColumn changed) updated in place.
HISTORY_1 = [row(1, "a1", "b1", 1, None), row(2, "a2", "b2", 1, None),
             row(4, "a4", "b4", 1, None)]
HISTORY_2 = [row(1, "a1", "b1", 1, 2), row(2, "a2", "b2", 1, 2), row(2, "a2_new", "b2", 2, None),
             row(3, "a3", "b3", 2, None), row(4, "a4", "b4_new", 1, None)]


def history(project: Any) -> list[dict]:
    return project.rows("target", order_by=["Key", "__START_AT"])


def test_documented_example_function_source(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, FUNCTION_SCD2)
    write(snapshots / "snapshot_1", SNAPSHOT_1)
    first = run_ok(project)
    assert history(project) == HISTORY_1
    assert metrics(first).details["num_versions_opened"] == 3
    write(snapshots / "snapshot_2", SNAPSHOT_2)
    second = run_ok(project)
    assert history(project) == HISTORY_2
    found = metrics(second).details
    # Closed: keys 1 and 2; opened: keys 2 and 3; key 4 updated in place.
    assert (found["num_versions_opened"], found["num_versions_closed"]) == (2, 2)
    assert (found["num_upserted_rows"], found["num_deleted_rows"]) == (5, 0)
    run_ok(project)
    assert history(project) == HISTORY_2


def test_documented_example_table_source_across_runs(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, TABLE_SCD2)
    write(snapshots / "current", SNAPSHOT_1)
    run_ok(project)
    # A table's snapshots are its Delta versions: 0 for the first write, 1 for the overwrite.
    assert history(project) == [{**r, "__START_AT": 0} for r in HISTORY_1]
    write(snapshots / "current", SNAPSHOT_2, mode="overwrite")
    run_ok(project)
    assert history(project) == [
        {**r, "__START_AT": r["__START_AT"] - 1,
         "__END_AT": None if r["__END_AT"] is None else r["__END_AT"] - 1} for r in HISTORY_2]
    result = run_ok(project)  # the same version again: skipped, nothing changes
    assert metrics(result).details.get("num_upserted_rows", 0) == 0


def test_every_column_tracked_and_a_key_coming_back(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, FUNCTION_ALL_TRACKED)
    write(snapshots / "snapshot_1", SNAPSHOT_1)
    write(snapshots / "snapshot_2", SNAPSHOT_2)
    write(snapshots / "snapshot_3", [(1, "a1", "b1"), (2, "a2_new", "b2"), (4, "a4", "b4_new")])
    write(snapshots / "snapshot_4", [(1, "a1", "b1"), (2, "a2_new", "b2"), (4, "a4", "b4_new")])
    result = run_ok(project)
    assert metrics(result).batches == 4
    assert history(project) == [
        row(1, "a1", "b1", 1, 2), row(1, "a1", "b1", 3, None),  # gone at 2, back at 3
        row(2, "a2", "b2", 1, 2), row(2, "a2_new", "b2", 2, None),
        row(3, "a3", "b3", 2, 3),
        row(4, "a4", "b4", 1, 2), row(4, "a4", "b4_new", 2, None)]  # every column tracked


def test_string_versions(project, tmp_path) -> None:
    code = FUNCTION_SCD2.replace(
        "    next_version = (latest_snapshot_version or 0) + 1\n",
        "    next_version = int((latest_snapshot_version or 'v0')[1:]) + 1\n").replace(
        "next_version)\n", "f'v{next_version}')\n")
    snapshots = setup(project, tmp_path, code)
    write(snapshots / "snapshot_1", SNAPSHOT_1)
    write(snapshots / "snapshot_2", SNAPSHOT_2)
    run_ok(project)

    def named(r: dict) -> dict:
        return {**r, "__START_AT": f"v{r['__START_AT']}",
                "__END_AT": None if r["__END_AT"] is None else f"v{r['__END_AT']}"}

    assert history(project) == [named(r) for r in HISTORY_2]


def test_a_snapshot_with_a_history_column_is_refused(project, tmp_path: Path) -> None:
    snapshots = setup(project, tmp_path, FUNCTION_SCD2.replace(
        "spark.read.format(\"delta\").load(path)",
        "spark.read.format(\"delta\").load(path).withColumnRenamed('NonTrackingColumn', "
        "'__END_AT')"))
    write(snapshots / "snapshot_1", SNAPSHOT_1)
    with pytest.raises(GraphValidationError, match="the snapshot has column '__END_AT', which "
                       "an SCD type 2 target adds itself"):
        project.run()  # refused at analysis, naming the flow


VIEW_SOURCE = """
import dlt

@dlt.view
def source():
    return spark.read.format("delta").load(spark.conf.get("snapshots.path") + "/current")

dlt.create_streaming_table("target")
dlt.apply_changes_from_snapshot(target="target", source="source", keys=["Key"],
                                TRACKED)
""".replace("TRACKED", TRACKED)


def test_a_temporary_view_gives_one_snapshot_per_update(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, VIEW_SOURCE)
    write(snapshots / "current", SNAPSHOT_1)
    run_ok(project)  # snapshot 1
    assert history(project) == HISTORY_1
    write(snapshots / "current", SNAPSHOT_2, mode="overwrite")
    run_ok(project)  # snapshot 2
    assert history(project) == HISTORY_2
    result = run_ok(project)  # snapshot 3, the same rows: nothing changes
    assert history(project) == HISTORY_2
    assert metrics(result).details["snapshot_version"] == 3
    assert metrics(result).details["num_upserted_rows"] == 0


DECLARED = ("Key BIGINT, TrackingColumn STRING, NonTrackingColumn STRING, __START_AT BIGINT, "
            "__END_AT BIGINT")


def test_a_declared_schema_with_the_history_columns(project, tmp_path) -> None:
    snapshots = setup(project, tmp_path, FUNCTION_SCD2.replace(
        'dlt.create_streaming_table("target")',
        f'dlt.create_streaming_table("target", schema="{DECLARED}")'))
    write(snapshots / "snapshot_1", SNAPSHOT_1)
    write(snapshots / "snapshot_2", SNAPSHOT_2)
    run_ok(project)
    assert history(project) == HISTORY_2


def test_a_declared_schema_without_the_history_columns_is_refused(project, tmp_path) -> None:
    declared = DECLARED.replace(", __START_AT BIGINT, __END_AT BIGINT", "")
    snapshots = setup(project, tmp_path, FUNCTION_SCD2.replace(
        'dlt.create_streaming_table("target")',
        f'dlt.create_streaming_table("target", schema="{declared}")'))
    write(snapshots / "snapshot_1", SNAPSHOT_1)
    with pytest.raises(GraphValidationError, match="lacks __START_AT / __END_AT"):
        project.run()
