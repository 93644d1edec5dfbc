"""AUTO CDC into SCD type 2 tables: Databricks' documented example in the three API styles, track
history, late events and late deletes across runs, ignore_null_updates, struct sequence values,
bad input and metrics."""

from __future__ import annotations

from typing import Any

import pytest
from deltalake import DeltaTable

from lakesmith.cdc import scd2_apply
from lakesmith.runtime.checkpoint.records import Marker
from test_auto_cdc import DOC_EVENTS, append, run_ok, setup

# Databricks' SCD type 2 example (AUTO CDC docs, "Example: SCD type 1 and SCD type 2 processing"):
# the same input events as the SCD type 1 example, and the target after them.
DOC_RESULT = [
    (123, "Isabel", "Monterrey", 1, 5),
    (123, "Isabel", "Chihuahua", 5, 6),
    (124, "Raul", "Oaxaca", 1, None),
    (125, "Mercedes", "Tijuana", 2, 5),
    (125, "Mercedes", "Mexicali", 5, 6),
    (125, "Mercedes", "Guadalajara", 6, None),
    (126, "Lily", "Cancun", 2, None),
]
# The same events with history tracked on every column but city
# (track_history_except_column_list=["city"]; SQL TRACK HISTORY ON * EXCEPT (city)).
DOC_TRACK_RESULT = [
    (123, "Isabel", "Chihuahua", 1, 6),
    (124, "Raul", "Oaxaca", 1, None),
    (125, "Mercedes", "Guadalajara", 2, None),
    (126, "Lily", "Cancun", 2, None),
]

STYLES = {
    "pyspark.pipelines": ("cdc.py", """
from pyspark import pipelines as dp
from pyspark.sql.functions import col, expr

dp.create_streaming_table("target")
dp.create_auto_cdc_flow(
    target="target", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
    apply_as_deletes=expr("operation = 'DELETE'"),
    except_column_list=["operation", "sequenceNum"], stored_as_scd_type=2{track_py})
"""),
    "dlt": ("cdc.py", """
import dlt
from pyspark.sql.functions import col, expr

dlt.create_streaming_table("target")
dlt.apply_changes(
    target="target", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
    apply_as_deletes=expr("operation = 'DELETE'"),
    except_column_list=["operation", "sequenceNum"], stored_as_scd_type="2"{track_py})
"""),
    "sql": ("cdc.sql", """
CREATE OR REFRESH STREAMING TABLE target;

CREATE FLOW target_flow AS AUTO CDC INTO target
FROM STREAM(users)
KEYS (userId)
APPLY AS DELETE WHEN operation = "DELETE"
SEQUENCE BY sequenceNum
COLUMNS * EXCEPT (operation, sequenceNum)
STORED AS SCD TYPE 2{track_sql};
"""),
}


def style(name: str, track: bool = False) -> tuple[str, str]:
    file, text = STYLES[name]
    return file, text.format(
        track_py=', track_history_except_column_list=["city"]' if track else "",
        track_sql="\nTRACK HISTORY ON * EXCEPT (city)" if track else "")


def history(project: Any, columns: tuple[str, ...] = ("userId", "name", "city")) -> list[tuple]:
    rows = project.rows("target")
    return sorted((tuple(r[c] for c in (*columns, "__START_AT", "__END_AT")) for r in rows),
                  key=lambda r: (r[0], r[-2]))


@pytest.mark.parametrize("name", list(STYLES))
def test_databricks_scd2_example(project, tmp_path, name) -> None:
    changes = setup(project, tmp_path, style(name))
    append(changes, DOC_EVENTS)
    run_ok(project)
    assert history(project) == DOC_RESULT
    assert list(project.rows("target")[0]) == ["userId", "name", "city", "__START_AT",
                                               "__END_AT"]
    run_ok(project)  # nothing new: unchanged
    assert history(project) == DOC_RESULT


@pytest.mark.parametrize("name", list(STYLES))
def test_databricks_scd2_track_history_example(project, tmp_path, name) -> None:
    changes = setup(project, tmp_path, style(name, track=True))
    append(changes, DOC_EVENTS)
    run_ok(project)
    assert history(project) == DOC_TRACK_RESULT


CDC_PY = """
import dlt
from pyspark.sql.functions import expr

dlt.create_streaming_table("target")
dlt.apply_changes(target="target", source="users", keys=["userId"], sequence_by={sequence},
                  apply_as_deletes=expr("operation = 'DELETE'"), stored_as_scd_type=2,
                  except_column_list=["operation", "sequenceNum"]{options})
"""


def cdc(options: str = "", sequence: str = '"sequenceNum"') -> str:
    return CDC_PY.format(options=options and ", " + options, sequence=sequence)


def test_late_events_split_intervals_in_later_runs(project, tmp_path) -> None:
    """A late update splits the interval it falls in; a late delete closes the version it falls
    in; an update that changed nothing becomes a version again once a late change precedes it."""
    changes = setup(project, tmp_path, cdc())
    append(changes, [(1, "a", "x", "INSERT", 10), (1, "a", "x", "UPDATE", 30),
                     (2, "b", "y", "INSERT", 10), (3, "c", "z", "INSERT", 10)])
    run_ok(project)
    assert history(project) == [(1, "a", "x", 10, None), (2, "b", "y", 10, None),
                                (3, "c", "z", 10, None)]
    append(changes, [(1, "late", "x", "UPDATE", 20), (2, None, None, "DELETE", 15),
                     (3, "c2", "z", "UPDATE", 5)])
    run_ok(project)
    assert history(project) == [
        (1, "a", "x", 10, 20), (1, "late", "x", 20, 30), (1, "a", "x", 30, None),
        (2, "b", "y", 10, 15),
        (3, "c2", "z", 5, 10), (3, "c", "z", 10, None)]
    append(changes, [(2, "b", "y", "UPDATE", 12), (2, "back", "y", "INSERT", 40)])
    run_ok(project)
    assert [r for r in history(project) if r[0] == 2] == [
        (2, "b", "y", 10, 15), (2, "back", "y", 40, None)]


def test_ignore_null_updates_keep_values_until_a_delete(project, tmp_path) -> None:
    changes = setup(project, tmp_path, cdc("ignore_null_updates=True"))
    append(changes, [(1, "a", "x", "INSERT", 1), (1, None, "x2", "UPDATE", 2),
                     (1, None, None, "UPDATE", 3)])
    run_ok(project)
    assert history(project) == [(1, "a", "x", 1, 2), (1, "a", "x2", 2, None)]
    append(changes, [(1, None, None, "DELETE", 4), (1, None, "y", "INSERT", 5)])
    run_ok(project)
    assert history(project) == [(1, "a", "x", 1, 2), (1, "a", "x2", 2, 4),
                                (1, None, "y", 5, None)]


def test_track_history_column_list_updates_the_open_version_in_place(project, tmp_path) -> None:
    changes = setup(project, tmp_path, cdc("track_history_column_list=['name']"))
    append(changes, [(1, "a", "x", "INSERT", 1), (1, "a", "x2", "UPDATE", 2)])
    run_ok(project)
    assert history(project) == [(1, "a", "x2", 1, None)]
    append(changes, [(1, "b", "x3", "UPDATE", 3), (1, "a", "late", "UPDATE", 0)])
    run_ok(project)
    assert history(project) == [(1, "a", "x2", 0, 3), (1, "b", "x3", 3, None)]


def test_struct_sequence_values(project, tmp_path) -> None:
    """__START_AT and __END_AT hold the struct; it orders by its fields in turn."""
    changes = setup(project, tmp_path, cdc(sequence='expr("struct(sequenceNum, city)")'))
    append(changes, [(1, "b", "y", "UPDATE", 1), (1, None, "z", "DELETE", 2)])
    run_ok(project)
    append(changes, [(1, "a", "x", "INSERT", 1)])  # late: before the other at sequenceNum 1
    run_ok(project)
    rows = sorted(project.rows("target"), key=lambda r: r["__START_AT"]["city"])
    assert [(r["name"], r["__START_AT"], r["__END_AT"]) for r in rows] == [
        ("a", {"sequenceNum": 1, "city": "x"}, {"sequenceNum": 1, "city": "y"}),
        ("b", {"sequenceNum": 1, "city": "y"}, {"sequenceNum": 2, "city": "z"})]
    # A late event splits b's version: b's row changes (the rewrite matches rows by the struct).
    append(changes, [(1, "b2", "yy", "UPDATE", 1)])
    run_ok(project)
    rows = sorted(project.rows("target"), key=lambda r: r["__START_AT"]["city"])
    assert [(r["name"], r["__START_AT"], r["__END_AT"]) for r in rows] == [
        ("a", {"sequenceNum": 1, "city": "x"}, {"sequenceNum": 1, "city": "y"}),
        ("b", {"sequenceNum": 1, "city": "y"}, {"sequenceNum": 1, "city": "yy"}),
        ("b2", {"sequenceNum": 1, "city": "yy"}, {"sequenceNum": 2, "city": "z"})]
    newest = DeltaTable(str(project.table_path("target"))).history(1)[0]
    assert newest["operationParameters"]["mode"] == "Overwrite"


def test_equal_sequence_values_keep_the_last_event(project, tmp_path) -> None:
    """At one sequence value only one event counts (a delete, else the larger hash): the same
    history whatever batch each arrives in."""
    results = []
    events = [(1, "a", "x", "UPDATE", 5), (1, "b", "y", "UPDATE", 5), (2, "c", "z", "UPDATE", 5),
              (2, None, None, "DELETE", 5), (2, "d", "z", "INSERT", 1)]
    for order in ([0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [1, 3, 0, 4, 2]):
        root = tmp_path / f"p{''.join(map(str, order))}"
        root.mkdir()
        proj = type(project)(root, project.sail_url)
        changes = setup(proj, root, cdc())
        for i in order:
            append(changes, [events[i]])
            run_ok(proj)
        results.append(history(proj))
    assert results[0] == results[1] == results[2]
    assert len([r for r in results[0] if r[0] == 1]) == 1
    assert results[0][-1] == (2, "d", "z", 1, 5)


def test_null_key_fails_the_batch(project, tmp_path) -> None:
    changes = setup(project, tmp_path, cdc())
    append(changes, [(2, "b", "y", "INSERT", 1), (None, "a", "x", "INSERT", 1)])
    result = project.run()
    (failed,) = result.failed_flows
    message = str(failed.error)
    assert "AUTO CDC flow 'target': key column 'userId' is NULL in a change from 'users'" \
        in message and "'name': 'a'" in message
    assert project.rows("target") == []


@pytest.mark.parametrize("bad, what", [((None, "n", "x", "UPDATE", 7), "key column 'userId'"),
                                       ((1, "n", "x", "UPDATE", None), "sequence_by")])
def test_a_null_in_a_later_batch_fails_it_with_nothing_written(project, tmp_path, bad,
                                                               what) -> None:
    """After the initial load the check rides on the changes' computation (no query of its
    own): the batch fails naming the column and showing the change, before the target or the
    event state is written; a rerun fails the same way, writing nothing either."""
    changes = setup(project, tmp_path, cdc())
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1)])
    run_ok(project)
    before = history(project)
    events = DeltaTable(str(project.root / "storage" / "checkpoints"
                            / "spark_catalog.default.target" / "target" / "state" / "cdc-events"))
    events_version = events.version()
    append(changes, [(2, "b2", "y", "UPDATE", 5), bad])
    for _ in range(2):
        result = project.run()
        (failed,) = result.failed_flows
        message = str(failed.error)
        assert f"AUTO CDC flow 'target': {what} is NULL in a change from 'users'" in message
        assert "'name': 'n'" in message and "Nothing of the batch was committed" in message
        assert history(project) == before
        events.update_incremental()
        assert events.version() == events_version

def test_metrics_in_the_event_log(project, tmp_path, spark) -> None:
    changes = setup(project, tmp_path, cdc())
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1)])
    result = run_ok(project)
    (flow,) = [f for f in result.flows if f.planned.flow.name == "target"]
    details = flow.metrics.details
    assert (details["num_upserted_rows"], details["num_deleted_rows"],
            details["num_versions_opened"], details["num_versions_closed"]) == (2, 0, 2, 0)
    # An update (closes one version, opens one), a delete (closes one), a late event before
    # key 1's first version (a new, closed version).
    append(changes, [(1, "a2", "x", "UPDATE", 3), (2, None, None, "DELETE", 2),
                     (1, "a0", "x", "INSERT", 0)])
    result = run_ok(project)
    (flow,) = [f for f in result.flows if f.planned.flow.name == "target"]
    details = flow.metrics.details
    assert (details["num_upserted_rows"], details["num_deleted_rows"],
            details["num_versions_opened"], details["num_versions_closed"]) == (4, 0, 2, 3)
    events = project.root / "storage" / "system" / "events"
    logged = [r[0].replace(" ", "") for r in spark.read.format("delta").load(str(events))
              .where("event_type = 'flow_progress' AND origin.flow_name = 'target'")
              .select("details").collect()]
    assert any('"num_versions_opened":2' in d and '"num_versions_closed":3' in d
               for d in logged)
    # A late event that only repeats the version it falls in opens nothing; a late upsert
    # between a version and the delete that closed it merges nothing away either.
    append(changes, [(1, "a", "x", "UPDATE", 2)])
    result = run_ok(project)
    (flow,) = [f for f in result.flows if f.planned.flow.name == "target"]
    assert flow.metrics.details["num_upserted_rows"] == 0


def test_full_refresh_rebuilds_the_history_from_the_source(project, tmp_path) -> None:
    """The event state goes with the checkpoint: a full refresh gives the same history again."""
    changes = setup(project, tmp_path, cdc())
    append(changes, DOC_EVENTS[:4])
    run_ok(project)
    append(changes, DOC_EVENTS[4:])
    run_ok(project)
    assert history(project) == DOC_RESULT
    result = project.run(full_refresh=["target"])
    assert not result.failed_flows, [str(f.error) for f in result.failed_flows]
    assert history(project) == DOC_RESULT


def test_a_declared_schema_with_the_history_columns(project, tmp_path) -> None:
    changes = setup(project, tmp_path, cdc().replace(
        'create_streaming_table("target")',
        'create_streaming_table("target", schema="userId BIGINT, name STRING, city STRING, '
        '__START_AT BIGINT, __END_AT BIGINT")'))
    append(changes, DOC_EVENTS)
    run_ok(project)
    assert history(project) == DOC_RESULT


def _details(result: Any) -> tuple[int, int, int, int]:
    (flow,) = [f for f in result.flows if f.planned.flow.name == "target"]
    details = flow.metrics.details
    return (details["num_upserted_rows"], details["num_deleted_rows"],
            details["num_versions_opened"], details["num_versions_closed"])


def _commits_since(project: Any, version: int) -> list[dict[str, Any]]:
    """The target's commits after `version`, oldest first."""
    table = DeltaTable(str(project.table_path("target")))
    return sorted((c for c in table.history() if c["version"] > version),
                  key=lambda c: c["version"])


def _batch_of(commit: dict[str, Any]) -> int | None:
    marker = Marker.parse(commit.get("userMetadata"))
    return None if marker is None else marker.batch


@pytest.mark.parametrize("way", ["rewrite", "merge"])
def test_each_batch_lands_in_one_commit_the_cheapest_way(project, tmp_path, monkeypatch,
                                                         way) -> None:
    """A batch of new versions only is appended; one that closes, changes or removes versions
    rewrites a small target whole, or MERGEs into a larger one (`cdc/scd2_apply.py`): the same
    rows and counts either way, one commit per batch, marked with the batch where the engine
    can mark it (a MERGE cannot)."""
    if way == "merge":
        monkeypatch.setattr(scd2_apply, "REWRITE_BYTES", 0)
    changes = setup(project, tmp_path, cdc())
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1)])
    run_ok(project)
    loaded = DeltaTable(str(project.table_path("target"))).version()

    append(changes, [(3, "c", "z", "INSERT", 2), (4, "d", "w", "INSERT", 2)])
    assert _details(run_ok(project)) == (2, 0, 2, 0)
    assert history(project) == [(1, "a", "x", 1, None), (2, "b", "y", 1, None),
                                (3, "c", "z", 2, None), (4, "d", "w", 2, None)]
    (commit,) = _commits_since(project, loaded)
    assert (commit["operation"], commit["operationParameters"]["mode"], _batch_of(commit)) == \
        ("WRITE", "Append", 1)

    # Key 1 changes (its version closes, one opens), key 2 is deleted, key 5 is new.
    append(changes, [(1, "a2", "x", "UPDATE", 3), (2, None, None, "DELETE", 2),
                     (5, "e", "v", "INSERT", 3)])
    assert _details(run_ok(project)) == (4, 0, 2, 2)
    assert history(project) == [
        (1, "a", "x", 1, 3), (1, "a2", "x", 3, None), (2, "b", "y", 1, 2),
        (3, "c", "z", 2, None), (4, "d", "w", 2, None), (5, "e", "v", 3, None)]
    # A late event makes a2 start at 2: the version starting at 3 is gone (deleted).
    append(changes, [(1, "a2", "x", "UPDATE", 2)])
    assert _details(run_ok(project)) == (2, 1, 1, 0)
    assert history(project) == [
        (1, "a", "x", 1, 2), (1, "a2", "x", 2, None), (2, "b", "y", 1, 2),
        (3, "c", "z", 2, None), (4, "d", "w", 2, None), (5, "e", "v", 3, None)]
    # A late event that repeats the version it falls in changes nothing: no commit.
    append(changes, [(1, "a2", "x", "UPDATE", 4)])
    assert _details(run_ok(project)) == (0, 0, 0, 0)

    commits = _commits_since(project, loaded)[1:]
    assert len(commits) == 2  # batches 2 and 3
    if way == "rewrite":
        assert [(c["operation"], c["operationParameters"]["mode"], _batch_of(c))
                for c in commits] == [("WRITE", "Overwrite", 2), ("WRITE", "Overwrite", 3)]
    else:
        assert [(c["operation"], _batch_of(c)) for c in commits] == [("MERGE", None)] * 2


def test_a_rewritten_target_keeps_its_partitioning_properties_and_comments(project,
                                                                           tmp_path) -> None:
    """A small target's rewrite (one overwrite) keeps what the table declares: its partition
    columns, table properties, comment and column comments."""
    changes = setup(project, tmp_path, cdc().replace(
        'create_streaming_table("target")',
        'create_streaming_table("target", comment="people", partition_cols=["city"], '
        'table_properties={"quality": "silver"}, schema="userId BIGINT COMMENT \'the key\', '
        'name STRING, city STRING, __START_AT BIGINT, __END_AT BIGINT")'))
    append(changes, [(1, "a", "x", "INSERT", 1), (2, "b", "y", "INSERT", 1)])
    run_ok(project)
    append(changes, [(1, "a2", "y", "UPDATE", 2), (2, None, None, "DELETE", 3)])
    run_ok(project)
    assert history(project) == [(1, "a", "x", 1, 2), (1, "a2", "y", 2, None),
                                (2, "b", "y", 1, 3)]
    table = DeltaTable(str(project.table_path("target")))
    assert table.history(1)[0]["operationParameters"]["mode"] == "Overwrite"
    metadata = table.metadata()
    assert (metadata.partition_columns, metadata.description) == (["city"], "people")
    assert metadata.configuration.get("quality") == "silver"
    fields = {f.name: f for f in table.schema().fields}
    assert fields["userId"].metadata.get("comment") == "the key"
    assert sorted(p.name for p in project.table_path("target").iterdir()
                  if p.name.startswith("city=")) == ["city=x", "city=y"]
