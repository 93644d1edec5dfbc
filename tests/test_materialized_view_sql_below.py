"""GROUP_AGGREGATE below the top of a query given as SQL text: an aggregating subquery in FROM,
joined, filtered or projected above (`runtime/refresh/sql_aggregate_below.py`). After each
refresh the view holds exactly what a recompute gives (the expected rows computed here in
Python from the rows the test appended, with Spark's NULL semantics); the event log's
planning_information says GROUP_AGGREGATE ran, with the view itself or a backing table
(`state/aggregate`) holding the aggregation's rows; a definition change and a full refresh
recompute; a crash between the commits and the record recomputes instead of merging twice; the
shapes that cannot merge recompute and say why."""

from __future__ import annotations

import datetime
import json
import math
import os
import random
import subprocess
import sys
from typing import Any

import pytest
from deltalake import DeltaTable

from lakesmith.runtime.events import UpdateState
from lakesmith.runtime.refresh.planning import TECHNIQUE

SCHEMA = "k STRING, amount BIGINT, day DATE, f DOUBLE"
Row = tuple[Any, ...]  # in SCHEMA's order
LABELS = {"a": ["Alpha", "Again"], "b": ["Beta"]}  # `a` matches twice: its row twice

BRONZE = """
from pyspark import pipelines as dp

@dp.table
def bronze():
    return spark.readStream.format("delta").load({landing!r})
"""

SPARK_SQL = """
@dp.materialized_view
def py_joined():  # spark.sql(...) in Python: the same split as a SQL source's
    return spark.sql('''
        SELECT o.*, l.label
        FROM (SELECT k, count(*) AS n, min(amount) AS low FROM bronze GROUP BY k) AS o
        LEFT OUTER JOIN labels l ON o.k = l.k''')
"""

SQL_VIEWS = """
CREATE MATERIALIZED VIEW labels AS
SELECT * FROM VALUES ('a', 'Alpha'), ('a', 'Again'), ('b', 'Beta') AS t(k, label);

-- The view holds its aggregation's rows: a LEFT JOIN of the subquery at the top.
CREATE MATERIALIZED VIEW sql_joined AS
SELECT o.k, o.s, l.label, o.n, upper(l.label) AS shout, o.last_day
FROM (
  SELECT k, sum(amount) AS s, count(*) AS n, max(day) AS last_day
  FROM bronze
  WHERE amount IS NULL OR amount > -5
  GROUP BY k
) o
LEFT JOIN labels l ON o.k = l.k;

-- A LEFT JOIN whose SELECT list changes an aggregate under its name: the view does not hold
-- the aggregation's rows, a backing table does.
CREATE MATERIALIZED VIEW sql_shifted AS
SELECT o.k, o.s + 1 AS s, l.label FROM (SELECT k, sum(amount) AS s FROM bronze GROUP BY k) o
LEFT JOIN labels l ON o.k = l.k;

-- DOUBLE keys (-0.0 and 0.0 one group, every NaN one) below a filter: a backing table.
CREATE MATERIALIZED VIEW sql_float_keys AS
SELECT f, n FROM (SELECT f, count(*) AS n FROM bronze GROUP BY f) AS g WHERE g.n > 0;

-- A filter above the aggregation: its rows in a backing table.
CREATE MATERIALIZED VIEW sql_kept AS
SELECT k, s * 2 AS twice FROM (SELECT k, sum(amount) AS s FROM bronze GROUP BY k)
WHERE s IS NULL OR s > 10;
"""

INCREMENTAL = ("sql_joined", "sql_kept", "py_joined", "sql_shifted", "sql_float_keys")
BACKED = ("sql_kept", "sql_shifted", "sql_float_keys")
IN_VIEW = ("sql_joined", "py_joined")


def append(spark: Any, path: Any, rows: list[Row]) -> None:
    spark.createDataFrame(rows, SCHEMA).write.format("delta").mode("append").save(str(path))


def random_rows(rng: random.Random, count: int) -> list[Row]:
    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.2 else value

    return [(maybe(rng.choice("abc")), maybe(rng.randint(-9, 30)),
             maybe(datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randint(0, 90))),
             maybe(rng.choice([0.0, -0.0, math.nan, 1.5])))
            for _ in range(count)]


def float_key(value: Any) -> Any:
    """A DOUBLE key as Spark groups it: -0.0 is 0.0, every NaN one ("NaN" here)."""
    if value is None:
        return None
    return "NaN" if math.isnan(value) else value + 0.0


def groups(rows: list[Row]) -> dict[Any, list[Row]]:
    found: dict[Any, list[Row]] = {}
    for row in rows:
        found.setdefault(row[0], []).append(row)
    return found


def total(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def most(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def least(values: list[Any]) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def expected(rows: list[Row]) -> dict[str, list[dict[str, Any]]]:
    """Each view's rows as Spark computes them from `rows`."""
    joined = []
    for k, group in groups([r for r in rows if r[1] is None or r[1] > -5]).items():
        for label in LABELS.get(k, [None]):
            joined.append({"k": k, "s": total([r[1] for r in group]), "label": label,
                           "n": len(group), "shout": label.upper() if label else None,
                           "last_day": most([r[2] for r in group])})
    sums = {k: total([r[1] for r in group]) for k, group in groups(rows).items()}
    kept = [{"k": k, "twice": None if s is None else s * 2} for k, s in sums.items()
            if s is None or s > 10]
    py_joined = [{"k": k, "n": len(group), "low": least([r[1] for r in group]), "label": label}
                 for k, group in groups(rows).items() for label in LABELS.get(k, [None])]
    shifted = [{"k": k, "s": None if s is None else s + 1, "label": label}
               for k, s in sums.items() for label in LABELS.get(k, [None])]
    by_float: dict[Any, int] = {}
    for row in rows:
        by_float[float_key(row[3])] = by_float.get(float_key(row[3]), 0) + 1
    floats = [{"f": math.nan if f == "NaN" else f, "n": n} for f, n in by_float.items()]
    return {"sql_joined": joined, "sql_kept": kept, "py_joined": py_joined,
            "sql_shifted": shifted, "sql_float_keys": floats}


def canonical(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def techniques(result: Any) -> dict[str, str]:
    return {r.planned.flow.name: r.metrics.details.get(TECHNIQUE) for r in result.flows
            if r.metrics is not None and TECHNIQUE in r.metrics.details}


def last_planning(root: Any, flow: str) -> tuple[str, dict[str, Any]]:
    events = DeltaTable(str(root / "storage" / "system" / "events")).to_pyarrow_table() \
        .to_pylist()
    (*_, last) = sorted((e for e in events if e["event_type"] == "planning_information"
                         and e["origin"]["flow_name"] == flow),
                        key=lambda e: e["sequence"]["control_plane_seq_no"])
    return last["message"], dict(json.loads(last["details"])["planning_information"])


def chosen(information: dict[str, Any]) -> str:
    (technique,) = [t for t in information["technique_information"] if t["is_chosen"]]
    return str(technique["maintenance_type"]).removeprefix("MAINTENANCE_TYPE_")


def issues(information: dict[str, Any], technique: str) -> list[str]:
    (entry,) = [t for t in information["technique_information"]
                if t["maintenance_type"] == f"MAINTENANCE_TYPE_{technique}"]
    return [i["issue_type"] for i in entry.get("incrementalization_issues", [])]


def backing_tables(root: Any, view: str) -> list[Any]:
    return list(root.glob(f"storage/checkpoints/*{view}*/*/state/aggregate"))


def write_pipeline(project: Any, landing: Any, views: str = SQL_VIEWS) -> None:
    project.write_spec()
    project.write("transformations/t.py", BRONZE.format(landing=str(landing)) + SPARK_SQL)
    project.write("transformations/v.sql", views)


def test_sql_aggregations_below_the_top_merge_appended_rows(project: Any, spark: Any,
                                                            tmp_path: Any,
                                                            monkeypatch: Any) -> None:
    """Random appends (new and existing groups, NULL keys, amounts and days): after each
    update the views hold exactly what a recompute gives, by GROUP_AGGREGATE from the second
    refresh on; then a changed definition and a full refresh recompute, and the next append
    merges again."""
    monkeypatch.setattr("lakesmith.runtime.refresh.planner.BACKING_TABLE_MIN_RATIO", 0)
    rng = random.Random(7)
    landing = tmp_path / "landing"
    rows = random_rows(rng, 15)
    append(spark, landing, rows)
    write_pipeline(project, landing)
    first = project.run()
    assert first.state == UpdateState.COMPLETED, [f.error for f in first.flows if f.error]
    assert {techniques(first)[v] for v in INCREMENTAL} == {"COMPLETE_RECOMPUTE"}
    for round_ in range(4):
        new = random_rows(rng, rng.choice([1, 4, 9]))
        append(spark, landing, new)
        rows += new
        result = project.run()
        assert result.state == UpdateState.COMPLETED, [f.error for f in result.flows if f.error]
        want = expected(rows)
        for view in INCREMENTAL:
            assert canonical(project.rows(view)) == canonical(want[view]), (round_, view)
            # The backing table of sql_kept is built by the first refresh after the view's
            # (its row count decides whether one pays): merged from then on.
            incremental = "COMPLETE_RECOMPUTE" if round_ == 0 and view in BACKED \
                else "GROUP_AGGREGATE"
            assert techniques(result)[view] == incremental, (round_, view)
    for view in IN_VIEW:
        message, information = last_planning(project.root, view)
        assert chosen(information) == "GROUP_AGGREGATE", message
        assert information["target_table_information"]["backing_table"] == "the view itself"
        assert issues(information, "NO_OP") == ["DATA_HAS_CHANGED"]
        (source,) = information["source_table_information"]
        assert source["table_name"] == "bronze" and source["change_size"] > 0
        assert not backing_tables(project.root, view)
    for view in BACKED:
        _, information = last_planning(project.root, view)
        assert chosen(information) == "GROUP_AGGREGATE"
        assert information["target_table_information"]["backing_table"].endswith(
            "state/aggregate")
        (state,) = backing_tables(project.root, view)  # the aggregation's rows, exactly
        aggregation = expected(rows)["sql_float_keys"] if view == "sql_float_keys" else [
            {"k": k, "s": total([r[1] for r in group])} for k, group in groups(rows).items()]
        assert canonical(DeltaTable(str(state)).to_pyarrow_table().to_pylist()) == \
            canonical(aggregation), view

    # A changed definition recomputes (and records the view for the next merge).
    changed = SQL_VIEWS.replace("amount > -5", "amount > -3")
    project.write("transformations/v.sql", changed)
    new = random_rows(rng, 3)
    append(spark, landing, new)
    rows += new
    result = project.run()
    assert techniques(result)["sql_joined"] == "COMPLETE_RECOMPUTE"
    _, information = last_planning(project.root, "sql_joined")
    assert issues(information, "GROUP_AGGREGATE") == ["DEFINITION_CHANGED"]
    shifted = [r for r in rows if r[1] is None or r[1] > -3]  # (all of them > -5)
    assert canonical(project.rows("sql_joined")) == canonical(
        expected(shifted)["sql_joined"])
    new = random_rows(rng, 4)
    append(spark, landing, new)
    rows += new
    result = project.run()
    assert techniques(result)["sql_joined"] == "GROUP_AGGREGATE"
    shifted = [r for r in rows if r[1] is None or r[1] > -3]
    assert canonical(project.rows("sql_joined")) == canonical(
        expected(shifted)["sql_joined"])

    # A full refresh recomputes every view, all the same recorded for the next merge.
    with project.open() as pipeline:
        result = pipeline.run(pipeline.plan(full_refresh=list(INCREMENTAL)))
    assert {techniques(result)[v] for v in INCREMENTAL} == {"COMPLETE_RECOMPUTE"}
    for view in INCREMENTAL:
        _, information = last_planning(project.root, view)
        assert issues(information, "GROUP_AGGREGATE") == ["FULL_REFRESH_REQUESTED"]
    want = expected(rows)
    for view in ("sql_kept", "py_joined", "sql_shifted", "sql_float_keys"):
        assert canonical(project.rows(view)) == canonical(want[view]), view
    new = random_rows(rng, 2)
    append(spark, landing, new)
    rows += new
    result = project.run()
    # The views holding their aggregation's rows merge into what the full refresh wrote; the
    # backing table, which a full refresh leaves as it was, is rebuilt first.
    assert [techniques(result)[v] for v in INCREMENTAL] == \
        ["GROUP_AGGREGATE", "COMPLETE_RECOMPUTE", "GROUP_AGGREGATE", "COMPLETE_RECOMPUTE",
         "COMPLETE_RECOMPUTE"]
    _, information = last_planning(project.root, "sql_kept")
    assert issues(information, "GROUP_AGGREGATE") == ["TARGET_CHANGED_SINCE_LAST_REFRESH"]
    want = expected(rows)
    for view in ("sql_kept", "py_joined", "sql_shifted", "sql_float_keys"):
        assert canonical(project.rows(view)) == canonical(want[view]), view
    new = random_rows(rng, 5)
    append(spark, landing, new)
    rows += new
    result = project.run()
    assert {techniques(result)[v] for v in INCREMENTAL} == {"GROUP_AGGREGATE"}
    want = expected(rows)
    for view in ("sql_kept", "py_joined", "sql_shifted", "sql_float_keys"):
        assert canonical(project.rows(view)) == canonical(want[view]), view


def test_a_small_input_keeps_no_backing_table(project: Any, spark: Any, tmp_path: Any) -> None:
    """The cost rule applies to SQL as to DataFrames: an input of fewer than 15 times the
    aggregation's rows is recomputed."""
    landing = tmp_path / "landing"
    append(spark, landing, [("a", 1, None, None), ("b", 2, None, None)])
    write_pipeline(project, landing)
    assert project.run().state == UpdateState.COMPLETED
    append(spark, landing, [("a", 30, None, None)])
    result = project.run()
    assert techniques(result)["sql_kept"] == "COMPLETE_RECOMPUTE"
    _, information = last_planning(project.root, "sql_kept")
    assert issues(information, "GROUP_AGGREGATE") == ["INCREMENTAL_PLAN_REJECTED_BY_COST_MODEL"]
    assert project.rows("sql_kept") == [{"k": "a", "twice": 62}]
    assert not backing_tables(project.root, "sql_kept")


NOT_INCREMENTAL = {
    "having_below": (
        "SELECT o.k, o.s FROM (SELECT k, sum(amount) AS s FROM bronze GROUP BY k HAVING s > 0) o "
        "LEFT JOIN labels l ON o.k = l.k", "AGGREGATE_NOT_TOP_NODE", "HAVING"),
    "distinct_below": (
        "SELECT o.k, l.label FROM (SELECT DISTINCT k FROM bronze) o LEFT JOIN labels l "
        "ON o.k = l.k", "AGGREGATE_NOT_TOP_NODE", "DISTINCT"),
    "twice_aggregated": (
        "SELECT count(*) AS groups, sum(s) AS s FROM (SELECT k, sum(amount) AS s FROM bronze "
        "GROUP BY k) o", "AGGREGATE_NOT_TOP_NODE", "aggregates 2 times"),
    "join_below": (
        "SELECT o.k, o.n FROM (SELECT b.k, count(*) AS n FROM bronze b JOIN labels l "
        "ON b.k = l.k GROUP BY b.k) o", "AGGREGATE_NOT_TOP_NODE", "JOINS"),
    "in_where": (
        "SELECT * FROM labels WHERE k IN (SELECT k FROM bronze GROUP BY k)",
        "AGGREGATE_NOT_TOP_NODE", "not a subquery in the FROM clause"),
    "averaged_below": (
        "SELECT o.k, o.m, l.label FROM (SELECT k, avg(amount) AS m FROM bronze GROUP BY k) o "
        "LEFT JOIN labels l ON o.k = l.k", "AGGREGATE_NOT_TOP_NODE", "avg(...)"),
}


def test_sql_shapes_that_cannot_merge_recompute_and_say_why(project: Any, spark: Any,
                                                            tmp_path: Any,
                                                            monkeypatch: Any) -> None:
    monkeypatch.setattr("lakesmith.runtime.refresh.planner.BACKING_TABLE_MIN_RATIO", 0)
    landing = tmp_path / "landing"
    rows: list[Row] = [("a", 1, None, None), ("b", 5, None, None)]
    append(spark, landing, rows)
    views = SQL_VIEWS + "\n".join(f"CREATE MATERIALIZED VIEW {name} AS {query};"
                                  for name, (query, _, _) in NOT_INCREMENTAL.items())
    write_pipeline(project, landing, views)
    assert project.run().state == UpdateState.COMPLETED
    append(spark, landing, [("a", 2, None, None), ("c", 3, None, None)])
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [f.error for f in result.flows if f.error]
    ran = techniques(result)
    for name, (_, issue, said) in NOT_INCREMENTAL.items():
        assert ran[name] == "COMPLETE_RECOMPUTE", name
        message, information = last_planning(project.root, name)
        assert issues(information, "GROUP_AGGREGATE") == [issue], name
        assert said in message, (name, message)
    assert sorted(project.rows("having_below"), key=lambda r: r["k"]) == [
        {"k": "a", "s": 3}, {"k": "a", "s": 3}, {"k": "b", "s": 5}, {"k": "c", "s": 3}]
    assert project.rows("twice_aggregated") == [{"groups": 3, "s": 11}]
    assert sorted((r["k"], r["n"]) for r in project.rows("join_below")) == [("a", 4), ("b", 1)]


CRASHING_VIEWS = """
CREATE MATERIALIZED VIEW labels AS SELECT * FROM VALUES ('a', 'Alpha') AS t(k, label);

CREATE MATERIALIZED VIEW sql_joined AS
SELECT o.k, o.s, l.label FROM (SELECT k, sum(amount) AS s FROM bronze GROUP BY k) o
LEFT JOIN labels l ON o.k = l.k;

CREATE MATERIALIZED VIEW sql_kept AS
SELECT k, s FROM (SELECT k, sum(amount) AS s FROM bronze GROUP BY k)
WHERE s IS NULL OR s > -1000000000;
"""


@pytest.mark.slow  # eight runs of a fresh process
def test_a_crash_between_the_commits_and_the_record_recomputes(spark: Any,
                                                               tmp_path: Any) -> None:
    """The merged rows (of the view, or of its backing table) were committed and the refresh
    not recorded: the next refresh recomputes instead of merging the same rows again."""
    from lakesmith.runtime.checkpoint.crash import AFTER_REFRESH_COMMIT, AFTER_STATE, CRASH_ENV

    root, landing = tmp_path / "p", tmp_path / "landing"
    (root / "transformations").mkdir(parents=True)
    (root / "transformations" / "t.py").write_text(BRONZE.format(landing=str(landing)))
    (root / "transformations" / "v.sql").write_text(CRASHING_VIEWS)
    (root / "spark-pipeline.yml").write_text(
        "name: p\nstorage: storage\nconfiguration:\n  spark.sql.warehouse.dir: warehouse\n"
        "libraries:\n  - glob:\n      include: transformations/**\n")
    amounts: list[tuple[Any, int]] = []

    def add(*new: tuple[Any, int]) -> None:
        append(spark, landing, [(k, a, None, None) for k, a in new])
        amounts.extend(new)

    def run(crash_at: str | None = None) -> int:
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash_at:
            env[CRASH_ENV] = crash_at
        done = subprocess.run([sys.executable, "-m", "lakesmith", "run", "--spec",
                               str(root / "spark-pipeline.yml")], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 137), done.stdout + done.stderr
        return done.returncode

    def rows(table: str) -> list[dict[str, Any]]:
        path = root / "warehouse" / "spark_catalog" / "default" / table
        return DeltaTable(str(path)).to_pyarrow_table().to_pylist()

    def check() -> None:
        sums: dict[Any, int] = {}
        for k, a in amounts:
            sums[k] = sums.get(k, 0) + a
        assert sorted(((r["k"] or ""), r["s"], r["label"]) for r in rows("sql_joined")) == \
            sorted(((k or ""), s, "Alpha" if k == "a" else None) for k, s in sums.items())
        assert {r["k"]: r["s"] for r in rows("sql_kept")} == sums

    add(("a", 1), (None, 2), *[("a", 0)] * 250)  # a backing table pays (15 times its rows)
    assert run() == 0
    for crash_at, flow in ((AFTER_STATE, "sql_kept"), (AFTER_REFRESH_COMMIT, "sql_kept"),
                           (AFTER_REFRESH_COMMIT, "sql_joined")):
        add(("a", 10), ("b", 5))
        assert run(f"{crash_at}:{flow}") == 137
        add(("b", 100))
        assert run() == 0
        check()
        _, information = last_planning(root, flow)
        assert chosen(information) == "COMPLETE_RECOMPUTE"
        assert issues(information, "GROUP_AGGREGATE") == ["TARGET_CHANGED_SINCE_LAST_REFRESH"]
        add(("c", 7))
        assert run() == 0  # recorded again: incremental from here
        check()
        assert chosen(last_planning(root, flow)[1]) == "GROUP_AGGREGATE"
