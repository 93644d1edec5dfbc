"""GROUP_AGGREGATE: a materialized view aggregating a table that only gained rows is refreshed
from its stored rows and the aggregation of the new rows, with exactly the rows (and types) a
recompute gives; anything else recomputes, and the event log's `planning_information` event says
which technique ran and why the others did not apply.

The expected rows are computed in Python from the rows the test appended (Spark's semantics: one
NULL key group, -0.0 = 0.0 and one NaN key, NULL-skipping sums that stay NULL when every value
is NULL, `sum(decimal(10,2))` typed `decimal(20,2)`)."""

from __future__ import annotations

import datetime
import json
import math
import random
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pytest
from deltalake import DeltaTable

from lakesmith.runtime.events import UpdateState
from lakesmith.runtime.refresh.planning import TECHNIQUE

SCHEMA = "k STRING, f DOUBLE, amount BIGINT, price DECIMAL(10,2), name STRING, day DATE"
Row = tuple[Any, ...]  # in SCHEMA's order

PIPELINE = """
from pyspark import pipelines as dp
from pyspark.sql import functions as F

@dp.table
def bronze():
    return spark.readStream.format("delta").load("{landing}")

@dp.materialized_view
def by_key():
    return (spark.read.table("bronze").groupBy("k")
            .agg(F.sum("amount").alias("s"), F.sum("price").alias("p"),
                 F.count("amount").alias("c"), F.count("*").alias("n"),
                 F.min("name").alias("lo"), F.max("name").alias("hi"),
                 F.min("day").alias("first"), F.max("day").alias("last")))

@dp.materialized_view(partition_cols=["k"])
def by_key_partitioned():
    return spark.read.table("bronze").groupBy("k").agg(F.count("*").alias("n"))

@dp.materialized_view(partition_cols=["k"])
def partitioned_unnamed():  # its count's name is the engine's: not matched, recomputed
    return spark.read.table("bronze").groupBy("k").agg(F.count("*"))

@dp.materialized_view
def by_float():
    return spark.read.table("bronze").groupBy("f").agg(F.count("*").alias("n"),
                                                       F.sum("amount").alias("s"))

@dp.materialized_view
def filtered():
    return (spark.read.table("bronze").where("amount > 0")
            .select("k", (F.col("amount") * 2).alias("a2"))
            .groupBy("k").agg(F.sum("a2").alias("s2"), F.max("a2").alias("m")))

@dp.materialized_view
def total():
    return spark.read.table("bronze").agg(F.count("*").alias("n"), F.sum("price").alias("p"))

@dp.materialized_view
def averaged():
    return spark.read.table("bronze").groupBy("k").agg(F.avg("amount").alias("a"))

@dp.materialized_view
def having():
    return (spark.read.table("bronze").groupBy("k").agg(F.sum("amount").alias("s"))
            .where("s > 10"))

@dp.materialized_view
def labels():
    return spark.sql("SELECT * FROM VALUES ('a', 'Alpha'), ('b', 'Beta') AS t(k, label)")

@dp.materialized_view
def joined():
    orders = (spark.read.table("bronze").groupBy("k")
              .agg(F.count("*").alias("n"), F.sum("amount").alias("s")))
    return orders.join(spark.read.table("labels"), "k", "left")

@dp.materialized_view
def twice():  # a key the other side holds twice: its aggregation's row twice in the view
    orders = (spark.read.table("bronze").groupBy("k")
              .agg(F.count("*").alias("n"), F.sum("price").alias("p"), F.max("day").alias("last")))
    tags = spark.createDataFrame([("a", 1), ("a", 2), ("b", 3)], "k STRING, tag INT")
    return orders.join(tags, "k", "left")
"""

SQL_VIEWS = """
CREATE MATERIALIZED VIEW sql_filtered AS
SELECT count(*) AS n, k AS key, sum(amount * 2) AS s2 FROM bronze WHERE amount > 0 GROUP BY 2;

CREATE MATERIALIZED VIEW sql_by_float AS SELECT f, count(*) AS n FROM bronze GROUP BY f;

CREATE MATERIALIZED VIEW sql_partitioned PARTITIONED BY (key) AS
SELECT k AS key, count(*) AS n, sum(amount) AS s FROM bronze GROUP BY k;
"""

INCREMENTAL = ("by_key", "by_key_partitioned", "by_float", "filtered", "total", "having",
               "joined", "twice", "sql_filtered", "sql_by_float", "sql_partitioned")
TAGS = {"a": [1, 2], "b": [3]}
LABELS = {"a": "Alpha", "b": "Beta"}
BACKED = ("having",)  # an aggregation below the top: a backing table
# An aggregation LEFT JOINed at the top: the view holds its rows, no backing table
# (`runtime/refresh/view_state.py`); incremental from the refresh after the first.
IN_VIEW = ("joined", "twice")


def append(spark: Any, path: Any, rows: list[Row]) -> None:
    spark.createDataFrame(rows, SCHEMA).write.format("delta").mode("append").save(str(path))


def key(value: Any) -> Any:
    """A FLOAT/DOUBLE key as Spark groups it: -0.0 is 0.0, every NaN one."""
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else value + 0.0
    return value


def grouped(rows: Iterable[Row], by: Callable[[Row], Any]) -> dict[Any, list[Row]]:
    groups: dict[Any, list[Row]] = {}
    for row in rows:
        groups.setdefault(key(by(row)), []).append(row)
    return groups


def total_of(values: Iterable[Any]) -> Any:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def least(values: Iterable[Any]) -> Any:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def most(values: Iterable[Any]) -> Any:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def expected(rows: list[Row]) -> dict[str, list[dict[str, Any]]]:
    by_key = [{"k": k, "s": total_of(r[2] for r in g), "p": total_of(r[3] for r in g),
               "c": sum(r[2] is not None for r in g), "n": len(g),
               "lo": least(r[4] for r in g), "hi": most(r[4] for r in g),
               "first": least(r[5] for r in g), "last": most(r[5] for r in g)}
              for k, g in grouped(rows, lambda r: r[0]).items()]
    by_float = [{"f": f, "n": len(g), "s": total_of(r[2] for r in g)}
                for f, g in grouped(rows, lambda r: r[1]).items()]
    positive = [r for r in rows if r[2] is not None and r[2] > 0]
    filtered = [{"k": k, "s2": sum(2 * r[2] for r in g), "m": max(2 * r[2] for r in g)}
                for k, g in grouped(positive, lambda r: r[0]).items()]
    total = [{"n": len(rows), "p": total_of(r[3] for r in rows)}]
    having = [{"k": r["k"], "s": r["s"]} for r in by_key if r["s"] is not None and r["s"] > 10]
    joined = [{"k": r["k"], "n": r["n"], "s": r["s"], "label": LABELS.get(r["k"])}
              for r in by_key]
    twice = [{"k": r["k"], "n": r["n"], "p": r["p"], "last": r["last"], "tag": tag}
             for r in by_key for tag in TAGS.get(r["k"], [None])]
    sql_filtered = [{"n": len(g), "key": k, "s2": sum(2 * r[2] for r in g)}
                    for k, g in grouped(positive, lambda r: r[0]).items()]
    sql_by_float = [{"f": r["f"], "n": r["n"]} for r in by_float]
    by_key_partitioned = [{"k": r["k"], "n": r["n"]} for r in by_key]
    sql_partitioned = [{"key": r["k"], "n": r["n"], "s": r["s"]} for r in by_key]
    return {"by_key": by_key, "by_key_partitioned": by_key_partitioned, "by_float": by_float,
            "filtered": filtered, "total": total, "having": having, "joined": joined,
            "twice": twice,
            "sql_filtered": sql_filtered, "sql_by_float": sql_by_float,
            "sql_partitioned": sql_partitioned}


def stored(project: Any, table: str) -> list[dict[str, Any]]:
    return [{c: key(v) for c, v in row.items()} for row in project.rows(table)]


def canonical(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def columns(project: Any, table: str) -> list[tuple[str, str, bool]]:
    schema = json.loads(DeltaTable(str(project.table_path(table))).schema().to_json())
    return [(f["name"], f["type"], f["nullable"]) for f in schema["fields"]]


def delta_schema(project: Any, table: str) -> Any:
    """The table's Delta schema as its log holds it, field metadata included."""
    return json.loads(DeltaTable(str(project.table_path(table))).schema().to_json())


def techniques(result: Any) -> dict[str, str]:
    return {r.planned.flow.name: r.metrics.details.get(TECHNIQUE) for r in result.flows
            if r.metrics is not None and TECHNIQUE in r.metrics.details}


def planning_events(project: Any) -> list[dict[str, Any]]:
    events = DeltaTable(str(project.root / "storage" / "system" / "events")) \
        .to_pyarrow_table().to_pylist()
    return sorted((e for e in events if e["event_type"] == "planning_information"),
                  key=lambda e: e["sequence"]["control_plane_seq_no"])


def last_planning(project: Any, flow: str) -> tuple[str, dict[str, Any]]:
    (*_, event) = [e for e in planning_events(project) if e["origin"]["flow_name"] == flow]
    return event["message"], json.loads(event["details"])["planning_information"]


def chosen(information: dict[str, Any]) -> str:
    (technique,) = [t for t in information["technique_information"] if t["is_chosen"]]
    return str(technique["maintenance_type"])


def issues(information: dict[str, Any], technique: str) -> list[str]:
    (entry,) = [t for t in information["technique_information"]
                if t["maintenance_type"] == f"MAINTENANCE_TYPE_{technique}"]
    return [i["issue_type"] for i in entry.get("incrementalization_issues", [])]


def random_rows(rng: random.Random, count: int) -> list[Row]:
    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.2 else value

    return [(maybe(rng.choice("abc")),
             maybe(rng.choice([0.0, -0.0, float("nan"), 1.5, -2.25])),
             maybe(rng.randint(-5, 40)),
             maybe(Decimal(rng.randint(-10000, 99999)).scaleb(-2)),
             maybe(rng.choice(["ant", "bee", "cat", "Dog", ""])),
             maybe(datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randint(0, 400))))
            for _ in range(count)]


def test_incremental_refreshes_equal_a_recompute(project: Any, spark: Any, tmp_path: Any,
                                                  monkeypatch: Any) -> None:
    """Random appends (new and existing groups, NULL keys and values, -0.0/NaN keys, decimal
    sums, strings and dates), an OPTIMIZE of the input and an update with nothing new: after
    each update every view holds exactly what a recompute computes."""
    # Backing tables at any size (by default only for inputs 50 times their rows).
    monkeypatch.setattr("lakesmith.runtime.refresh.planner.BACKING_TABLE_MIN_RATIO", 0)
    rng = random.Random(18)
    landing = tmp_path / "landing"
    rows = random_rows(rng, 12)
    append(spark, landing, rows)
    project.write_spec()
    project.write("transformations/t.py", PIPELINE.format(landing=landing))
    project.write("transformations/v.sql", SQL_VIEWS)
    first = project.run()
    assert first.state == UpdateState.COMPLETED
    assert set(techniques(first).values()) == {"COMPLETE_RECOMPUTE"}
    bronze = str(project.table_path("bronze"))
    types = {t: columns(project, t) for t in INCREMENTAL}
    schemas = {t: delta_schema(project, t) for t in INCREMENTAL}

    for round_ in range(10):
        new = random_rows(rng, rng.choice([1, 3, 8]))
        if round_ == 2:
            new = []  # nothing new: every view is up to date
        elif round_ == 4:
            DeltaTable(bronze).optimize.compact()  # only rearranges files: nothing to merge
        if new:
            append(spark, landing, new)
            rows += new
        result = project.run()
        assert result.state == UpdateState.COMPLETED, [f.error for f in result.flows if f.error]
        ran = techniques(result)
        want = expected(rows)
        for view in INCREMENTAL:
            assert canonical(stored(project, view)) == canonical(want[view]), (round_, view)
            incremental = "GROUP_AGGREGATE"
            if round_ == 0 and view in BACKED:  # the backing table is built from the view's
                incremental = "COMPLETE_RECOMPUTE"  # row count: it exists from here on
            assert ran[view] == ("NO_OP" if not new and round_ != 4 else incremental), \
                (round_, view, ran[view])
            # The same types as the recompute wrote (sum of DECIMAL(10,2): DECIMAL(20,2)).
            assert columns(project, view) == types[view]
            # ... and the very schema, field metadata included (the engine's
            # `SPARK::metadata::json` on some columns): a merge keeps the recompute's.
            assert delta_schema(project, view) == schemas[view], (round_, view)
        assert ran["averaged"] == ("NO_OP" if not new and round_ != 4 else "COMPLETE_RECOMPUTE")
    assert ("p", "decimal(20,2)", True) in types["by_key"]
    # A merge replaces the rows and keeps the table's partitioning.
    for view, column in (("by_key_partitioned", "k"), ("sql_partitioned", "key")):
        partitioned = DeltaTable(str(project.table_path(view)))
        assert partitioned.metadata().partition_columns == [column]

    message, information = last_planning(project, "by_key")
    assert message == "Flow 'by_key' has been planned in lakesmith to be executed as " \
        "GROUP_AGGREGATE."
    assert chosen(information) == "MAINTENANCE_TYPE_GROUP_AGGREGATE"
    assert issues(information, "NO_OP") == ["DATA_HAS_CHANGED"]
    (source,) = information["source_table_information"]
    assert source["table_name"] == "bronze" and source["change_size"] > 0

    message, information = last_planning(project, "averaged")
    assert chosen(information) == "MAINTENANCE_TYPE_COMPLETE_RECOMPUTE"
    assert issues(information, "GROUP_AGGREGATE") == ["AGGREGATE_FUNCTION_NOT_INCREMENTALIZABLE"]
    assert "GROUP_AGGREGATE is not applicable: it computes avg(...)" in message
    message, information = last_planning(project, "partitioned_unnamed")
    assert chosen(information) == "MAINTENANCE_TYPE_COMPLETE_RECOMPUTE"
    assert "a partitioned view's are matched by name" in message
    # HAVING: the aggregation below kept in a backing table, the rest recomputed; a LEFT JOIN
    # of the aggregation: the view holds its rows, and there is no backing table.
    message, information = last_planning(project, "having")
    assert chosen(information) == "MAINTENANCE_TYPE_GROUP_AGGREGATE"
    assert information["target_table_information"]["backing_table"].endswith("state/aggregate")
    message, information = last_planning(project, "joined")
    assert chosen(information) == "MAINTENANCE_TYPE_GROUP_AGGREGATE"
    assert information["target_table_information"]["backing_table"] == "the view itself"
    for view in IN_VIEW:
        assert not list(project.root.glob(f"storage/checkpoints/*{view}*/*/state/aggregate"))
    assert list(project.root.glob("storage/checkpoints/*having*/*/state/aggregate"))
    assert project.rows("averaged", order_by="k")


def test_full_refresh_and_a_changed_definition_recompute(project: Any, spark: Any,
                                                         tmp_path: Any) -> None:
    landing = tmp_path / "landing"
    rows = [("a", 1.0, 5, Decimal("1.50"), "x", None), (None, None, None, None, None, None)]
    append(spark, landing, rows)
    project.write_spec()
    project.write("transformations/t.py", PIPELINE.format(landing=landing))
    assert project.run().state == UpdateState.COMPLETED

    more = [("a", 2.0, 7, Decimal("2.25"), "y", datetime.date(2024, 5, 1))]
    append(spark, landing, more)
    with project.open() as pipeline:
        refreshed = pipeline.run(pipeline.plan(refresh=["bronze", "total"],
                                                full_refresh=["by_key"]))
    assert techniques(refreshed)["by_key"] == "COMPLETE_RECOMPUTE"
    assert techniques(refreshed)["total"] == "GROUP_AGGREGATE"
    _, information = last_planning(project, "by_key")
    assert issues(information, "GROUP_AGGREGATE") == ["FULL_REFRESH_REQUESTED"]
    assert canonical(stored(project, "by_key")) == canonical(expected(rows + more)["by_key"])
    even_more = [("c", None, 1, Decimal("0.01"), None, None)]
    append(spark, landing, even_more)  # recorded by the full refresh: incremental from it
    assert techniques(project.run())["by_key"] == "GROUP_AGGREGATE"
    assert canonical(stored(project, "by_key")) == \
        canonical(expected(rows + more + even_more)["by_key"])

    # The query changes: recomputed with the new one, then incremental again.
    project.write("transformations/t.py", PIPELINE.format(landing=landing).replace(
        'F.sum("amount").alias("s"), F.sum("price")', 'F.sum("amount").alias("s"), F.max("price")'))
    append(spark, landing, [("b", 3.0, 1, Decimal("9.99"), "z", None)])
    changed = project.run()
    assert techniques(changed)["by_key"] == "COMPLETE_RECOMPUTE"
    _, information = last_planning(project, "by_key")
    assert issues(information, "GROUP_AGGREGATE") == ["DEFINITION_CHANGED"]
    assert {r["k"]: r["p"] for r in project.rows("by_key")} == {
        "a": Decimal("2.25"), None: None, "b": Decimal("9.99"), "c": Decimal("0.01")}
    append(spark, landing, [("b", 3.0, 1, Decimal("10.01"), "z", None)])
    assert techniques(project.run())["by_key"] == "GROUP_AGGREGATE"
    assert {r["k"]: r["p"] for r in project.rows("by_key")} == {
        "a": Decimal("2.25"), None: None, "b": Decimal("10.01"), "c": Decimal("0.01")}


SCD2 = """
import dlt
from pyspark.sql import functions as F

@dlt.view
def changes():
    return spark.readStream.format("delta").load("{landing}")

dlt.create_streaming_table("customers")
dlt.create_auto_cdc_flow(target="customers", source="changes", keys=["id"], sequence_by="seq",
                         stored_as_scd_type=2)

@dlt.table
def per_country():
    return dlt.read("customers").groupBy("country").agg(F.count("*").alias("versions"))
"""


def test_an_input_with_rows_removed_recomputes(project: Any, spark: Any, tmp_path: Any) -> None:
    """An SCD type 2 target closes versions (rewrites rows): the view over it recomputes, and
    the event names the version and operation that removed rows."""
    landing = tmp_path / "landing"

    def change(rows: list[tuple[int, str, int]]) -> None:
        spark.createDataFrame(rows, "id BIGINT, country STRING, seq BIGINT").write \
            .format("delta").mode("append").save(str(landing))

    change([(1, "FR", 1), (2, "DE", 1)])
    project.write_spec()
    project.write("transformations/t.py", SCD2.format(landing=landing))
    assert project.run().state == UpdateState.COMPLETED
    change([(1, "IT", 2)])  # closes id 1's version: the target's rows are rewritten
    result = project.run()
    assert techniques(result)["per_country"] == "COMPLETE_RECOMPUTE"
    message, information = last_planning(project, "per_country")
    assert issues(information, "GROUP_AGGREGATE") == ["CHANGES_NOT_APPEND_ONLY"]
    assert "'customers' had rows removed or rewritten at version" in message
    assert sorted((r["country"], r["versions"]) for r in project.rows("per_country")) == [
        ("DE", 1), ("FR", 1), ("IT", 1)]


def test_the_event_log_query_of_the_docs(project: Any, spark: Any, tmp_path: Any) -> None:
    """docs/materialized-views.md's query of the chosen technique runs in `lakesmith sql`'s
    session (the event log is the table `event_log`)."""
    import lakesmith

    landing = tmp_path / "landing"
    append(spark, landing, [("a", 1.0, 5, Decimal("1.50"), "x", None)])
    project.write_spec()
    project.write("transformations/t.py", PIPELINE.format(landing=landing))
    project.run()
    append(spark, landing, [("b", 1.0, 5, Decimal("1.50"), "x", None)])
    project.run()
    session = lakesmith.session(project.spec_path, remote=project.sail_url)
    try:
        found = session.sql("""
            SELECT origin.flow_name AS flow,
                   get_json_object(details, '$.planning_information.technique_information') AS t
            FROM event_log
            WHERE event_type = 'planning_information' AND origin.flow_name = 'by_key'
            ORDER BY timestamp DESC LIMIT 1""").collect()
    finally:
        session.stop()
    (row,) = found
    assert any(t["maintenance_type"] == "MAINTENANCE_TYPE_GROUP_AGGREGATE" and t["is_chosen"]
               for t in json.loads(row["t"]))
    # A small input (2 rows for 2 groups): a backing table would cost more than it saves.
    _, information = last_planning(project, "joined")
    assert issues(information, "GROUP_AGGREGATE") == ["INCREMENTAL_PLAN_REJECTED_BY_COST_MODEL"]
    assert chosen(information) == "MAINTENANCE_TYPE_COMPLETE_RECOMPUTE"


CRASHING = """
from pyspark import pipelines as dp
from pyspark.sql import functions as F

@dp.table
def bronze():
    return spark.readStream.format("delta").load(spark.conf.get("landing"))

@dp.materialized_view
def by_key():
    return spark.read.table("bronze").groupBy("k").agg(F.sum("amount").alias("s"),
                                                       F.count("*").alias("n"))

@dp.materialized_view
def joined():  # the view holds its aggregation's rows (`view_state.py`)
    orders = spark.read.table("bronze").groupBy("k").agg(F.sum("amount").alias("s"))
    return orders.join(spark.createDataFrame([("a", "Alpha")], "k STRING, label STRING"), "k",
                       "left")

@dp.materialized_view
def kept():  # a filter above the aggregation: its rows in a backing table
    return (spark.read.table("bronze").groupBy("k").agg(F.sum("amount").alias("s"))
            .where("s IS NULL OR s > -1000000000"))
"""


class Crashing:
    """The pipeline above in a folder, run as a separate process that may crash."""

    def __init__(self, spark: Any, tmp_path: Any) -> None:
        self.spark = spark
        self.root, self.landing = tmp_path / "p", tmp_path / "landing"
        self.amounts: list[tuple[Any, int]] = []
        (self.root / "transformations").mkdir(parents=True)
        (self.root / "transformations" / "t.py").write_text(CRASHING)
        (self.root / "spark-pipeline.yml").write_text(
            f"name: p\nstorage: storage\nconfiguration:\n  landing: {self.landing}\n"
            "  spark.sql.warehouse.dir: warehouse\n"
            "libraries:\n  - glob:\n      include: transformations/**\n")

    def append(self, *amounts: tuple[Any, int]) -> None:
        append(self.spark, self.landing, [(k, None, a, None, None, None) for k, a in amounts])
        self.amounts += amounts

    def run(self, crash_at: str | None = None) -> int:
        import os
        import subprocess
        import sys

        from lakesmith.runtime.checkpoint.crash import CRASH_ENV

        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash_at:
            env[CRASH_ENV] = crash_at
        done = subprocess.run([sys.executable, "-m", "lakesmith", "run", "--spec",
                               str(self.root / "spark-pipeline.yml")], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 137), done.stdout + done.stderr
        return done.returncode

    def rows(self, table: str) -> list[dict[str, Any]]:
        path = self.root / "warehouse" / "spark_catalog" / "default" / table
        return DeltaTable(str(path)).to_pyarrow_table().to_pylist()

    def totals(self) -> dict[Any, tuple[int, int]]:
        found: dict[Any, tuple[int, int]] = {}
        for k, amount in self.amounts:
            s, n = found.get(k, (0, 0))
            found[k] = (s + amount, n + 1)
        return found

    def check(self) -> None:
        """Both views hold exactly what a recompute gives: nothing counted twice or lost."""
        assert {r["k"]: (r["s"], r["n"]) for r in self.rows("by_key")} == self.totals()
        assert sorted(((r["k"] or ""), r["s"], r["label"]) for r in self.rows("joined")) == \
            sorted(((k or ""), s, "Alpha" if k == "a" else None)
                   for k, (s, _) in self.totals().items())
        assert {r["k"]: r["s"] for r in self.rows("kept")} == \
            {k: s for k, (s, _) in self.totals().items()}

    def last_planning(self, flow: str) -> dict[str, Any]:
        events = DeltaTable(str(self.root / "storage" / "system" / "events")) \
            .to_pyarrow_table().to_pylist()
        (*_, last) = sorted((e for e in events if e["event_type"] == "planning_information"
                             and e["origin"]["flow_name"] == flow),
                            key=lambda e: e["sequence"]["control_plane_seq_no"])
        return dict(json.loads(last["details"])["planning_information"])


@pytest.mark.slow  # ten runs of a fresh process (about 20 s)
def test_a_crash_between_the_commits_and_the_record_recomputes(spark: Any,
                                                               tmp_path: Any) -> None:
    """The merged rows (of the view, or of a backing table) were committed and the refresh
    not recorded: the next refresh must not merge the same appended rows again. It sees the
    view or backing table at a version the record does not name and recomputes."""
    from lakesmith.runtime.checkpoint.crash import AFTER_REFRESH_COMMIT, AFTER_STATE

    pipeline = Crashing(spark, tmp_path)
    # Rows enough for a backing table of `joined` (15 times its rows: up to 4 groups).
    pipeline.append(("a", 1), (None, 2), *[("a", 0)] * 250)
    assert pipeline.run() == 0
    for crash_at, flow in ((AFTER_REFRESH_COMMIT, "by_key"), (AFTER_STATE, "kept"),
                           (AFTER_REFRESH_COMMIT, "kept"), (AFTER_REFRESH_COMMIT, "joined")):
        pipeline.append(("a", 10), ("b", 5))
        assert pipeline.run(f"{crash_at}:{flow}") == 137
        pipeline.append(("b", 100))
        assert pipeline.run() == 0
        pipeline.check()
        information = pipeline.last_planning(flow)
        assert chosen(information) == "MAINTENANCE_TYPE_COMPLETE_RECOMPUTE"
        assert issues(information, "GROUP_AGGREGATE") == ["TARGET_CHANGED_SINCE_LAST_REFRESH"]
        pipeline.append(("c", 7))
        assert pipeline.run() == 0  # recorded again: incremental from here
        pipeline.check()
        assert chosen(pipeline.last_planning(flow)) == "MAINTENANCE_TYPE_GROUP_AGGREGATE"


@pytest.mark.parametrize("first_min_rows", [10, 1000])
def test_a_large_input_gets_its_backing_table_at_the_first_refresh(
        project: Any, spark: Any, tmp_path: Any, monkeypatch: Any, first_min_rows: int) -> None:
    """Before its first refresh a view's groups are unknown: an input of at least
    BACKING_TABLE_FIRST_MIN_ROWS rows builds the backing table at once, so the next refresh
    merges; a smaller one recomputes first, and builds it at the next refresh (when the
    view's rows show the ratio pays)."""
    monkeypatch.setattr("lakesmith.runtime.refresh.planner.BACKING_TABLE_FIRST_MIN_ROWS",
                        first_min_rows)
    landing = tmp_path / "landing"
    project.write_spec()
    project.write("transformations/t.py", CRASHING.replace('spark.conf.get("landing")',
                                                           f'"{landing}"'))
    amounts = [("a", i) for i in range(80)] + [("b", 1)]
    ran, ran_in_view = [], []
    for new in (amounts, [("a", 2), ("c", 3)], [("b", 4)]):
        append(spark, landing, [(k, None, a, None, None, None) for k, a in new])
        result = project.run()
        assert result.state == UpdateState.COMPLETED
        ran.append(techniques(result)["kept"])
        ran_in_view.append(techniques(result)["joined"])
    sums: dict[str, int] = {}
    for k, a in amounts + [("a", 2), ("c", 3), ("b", 4)]:
        sums[k] = sums.get(k, 0) + a
    assert sorted(project.rows("joined"), key=lambda r: r["k"]) == [
        {"k": k, "s": s, "label": "Alpha" if k == "a" else None} for k, s in sorted(sums.items())]
    assert sorted(project.rows("kept"), key=lambda r: r["k"]) == [
        {"k": k, "s": s} for k, s in sorted(sums.items())]
    if first_min_rows == 10:  # 81 rows: built with the first refresh
        assert ran == ["COMPLETE_RECOMPUTE", "GROUP_AGGREGATE", "GROUP_AGGREGATE"]
    else:  # built by the second (2 groups, 83 rows: 15 times pays)
        assert ran == ["COMPLETE_RECOMPUTE", "COMPLETE_RECOMPUTE", "GROUP_AGGREGATE"]
    # The view holding its aggregation's rows needs no backing table built: its first
    # recompute is where the next refresh merges from.
    assert ran_in_view == ["COMPLETE_RECOMPUTE", "GROUP_AGGREGATE", "GROUP_AGGREGATE"]


def test_a_sum_that_overflows_fails_as_a_recompute_does(project: Any, spark: Any,
                                                        tmp_path: Any) -> None:
    """A BIGINT sum whose merged total no longer fits fails the refresh (Spark under ANSI, and
    lakesmith's recompute): the failed merge recomputes, which fails with the recompute's
    words; the view keeps its rows."""
    landing = tmp_path / "landing"
    big = 9223372036854775000
    append(spark, landing, [("a", None, big, None, None, None)])
    project.write_spec()
    project.write("transformations/t.py", CRASHING.replace(
        'spark.conf.get("landing")', f'"{landing}"').split("@dp.materialized_view\ndef joined")[0])
    assert project.run().state == UpdateState.COMPLETED
    append(spark, landing, [("a", None, 1000, None, None, None)])
    failed = project.run()
    assert failed.state == UpdateState.FAILED
    *_, merge, recompute = [json.loads(e["details"])["planning_information"]
                            for e in planning_events(project)]
    assert chosen(merge) == "MAINTENANCE_TYPE_GROUP_AGGREGATE"
    assert chosen(recompute) == "MAINTENANCE_TYPE_COMPLETE_RECOMPUTE"
    assert issues(recompute, "GROUP_AGGREGATE") == ["APPENDED_ROWS_AGGREGATE_OVERFLOW"]
    assert project.rows("by_key") == [{"k": "a", "s": big, "n": 1}]
    with project.open() as pipeline:  # a recompute fails the same way
        assert pipeline.run(pipeline.plan(full_refresh=["by_key"])).state == UpdateState.FAILED


def test_new_rows_whose_own_sum_overflows_recompute_to_the_total(
        project: Any, spark: Any, tmp_path: Any, monkeypatch: Any) -> None:
    """The appended rows' BIGINT sum overflows, the total with the stored rows fits: the
    refresh gives the total, as a recompute does (and Spark 4.3 under ANSI, adding the old
    rows' files before the new one's). The merge fails on the overflow before committing
    anything, and the refresh recomputes; the event log says so. The next append merges
    again."""
    monkeypatch.setattr("lakesmith.runtime.refresh.planner.BACKING_TABLE_MIN_RATIO", 0)
    landing = tmp_path / "landing"
    most = 9223372036854775807
    project.write_spec()
    project.write("transformations/t.py", CRASHING.replace('spark.conf.get("landing")',
                                                           f'"{landing}"'))
    amounts: list[tuple[str, int]] = []
    for new in ([("a", -100), ("b", 7)], [("b", 1)], [("a", most), ("a", 50), ("b", 2)],
                [("a", -3), ("b", 4)]):
        amounts += new
        append(spark, landing, [(k, None, a, None, None, None) for k, a in new])
        assert project.run().state == UpdateState.COMPLETED
        sums = {k: sum(a for key_, a in amounts if key_ == k) for k in "ab"}
        counts = {k: sum(1 for key_, _ in amounts if key_ == k) for k in "ab"}
        assert sorted(project.rows("by_key"), key=lambda r: r["k"]) == [
            {"k": k, "s": sums[k], "n": counts[k]} for k in "ab"]
        assert sorted(project.rows("joined"), key=lambda r: r["k"]) == [
            {"k": "a", "s": sums["a"], "label": "Alpha"}, {"k": "b", "s": sums["b"],
                                                          "label": None}]
        assert sorted(project.rows("kept"), key=lambda r: r["k"]) == [
            {"k": k, "s": sums[k]} for k in "ab"]
    assert sums["a"] == most - 53
    events = [(e["origin"]["flow_name"], json.loads(e["details"])["planning_information"])
              for e in planning_events(project)]
    for view in ("by_key", "joined", "kept"):  # the view, the view as backing table, a backing
        ran = [chosen(i).removeprefix("MAINTENANCE_TYPE_") for f, i in events if f == view]
        # The third update: planned as a merge, recomputed after the overflow.
        assert ran[-3:] == ["GROUP_AGGREGATE", "COMPLETE_RECOMPUTE", "GROUP_AGGREGATE"], view
        (*_, fell_back, _) = [i for f, i in events if f == view]
        assert issues(fell_back, "GROUP_AGGREGATE") == ["APPENDED_ROWS_AGGREGATE_OVERFLOW"]


def test_an_input_written_while_the_view_recomputes_is_not_merged_twice(
        project: Any, spark: Any, tmp_path: Any, monkeypatch: Any) -> None:
    """Rows appended to the input after the refresh was planned and before its query read the
    input are in the recomputed view: the record must not let the next refresh merge them
    again."""
    from lakesmith.runtime.flows.materialized_view import MaterializedViewRunner

    landing = tmp_path / "landing"
    append(spark, landing, [("a", None, 1, None, None, None)])
    project.write_spec()
    project.write("transformations/t.py", CRASHING.replace(
        'spark.conf.get("landing")', f'"{landing}"').split("@dp.materialized_view\ndef joined")[0])
    assert project.run().state == UpdateState.COMPLETED
    recompute = MaterializedViewRunner._recompute

    def written_meanwhile(self: Any, ctx: Any, *args: Any) -> Any:
        append(spark, project.table_path("bronze"), [("a", None, 10, None, None, None)])
        return recompute(self, ctx, *args)

    monkeypatch.setattr(MaterializedViewRunner, "_recompute", written_meanwhile)
    with project.open() as pipeline:  # a full refresh recomputes
        assert pipeline.run(pipeline.plan(full_refresh=["by_key"])).state == \
            UpdateState.COMPLETED
    monkeypatch.setattr(MaterializedViewRunner, "_recompute", recompute)
    assert project.rows("by_key") == [{"k": "a", "s": 11, "n": 2}]
    append(spark, landing, [("a", None, 100, None, None, None)])
    result = project.run()
    assert project.rows("by_key") == [{"k": "a", "s": 111, "n": 3}]
    assert techniques(result)["by_key"] == "COMPLETE_RECOMPUTE"
    _, information = last_planning(project, "by_key")
    assert issues(information, "GROUP_AGGREGATE") == ["NO_PREVIOUS_REFRESH"]


def test_sql_forms_that_recompute_say_why(project: Any, spark: Any, tmp_path: Any) -> None:
    landing = tmp_path / "landing"
    append(spark, landing, [("a", None, 1, None, None, None)])
    project.write_spec()
    project.write("transformations/t.py", CRASHING.replace(
        'spark.conf.get("landing")', f'"{landing}"').split("@dp.materialized_view")[0])
    views = {
        "distinct_count": ("SELECT k, count(DISTINCT amount) AS d FROM bronze GROUP BY k",
                           "AGGREGATE_FUNCTION_NOT_INCREMENTALIZABLE"),
        "having_sum": ("SELECT k, sum(amount) AS s FROM bronze GROUP BY k HAVING s > 0",
                       "OPERATOR_NOT_INCREMENTALIZABLE"),
        "not_grouped": ("SELECT sum(amount) AS s FROM bronze GROUP BY k",
                        "AGGREGATE_NOT_TOP_NODE"),
        "over_sums": ("SELECT k, sum(amount) + 1 AS s FROM bronze GROUP BY k",
                      "AGGREGATE_FUNCTION_NOT_INCREMENTALIZABLE"),
        "self_join": ("SELECT a.k, count(*) AS n FROM bronze a JOIN bronze b ON a.k = b.k "
                      "GROUP BY a.k", "OPERATOR_NOT_INCREMENTALIZABLE"),
        "rolled_up": ("SELECT k, count(*) AS n FROM bronze GROUP BY ROLLUP (k)",
                      "OPERATOR_NOT_INCREMENTALIZABLE"),
    }
    project.write("transformations/v.sql", "\n".join(
        f"CREATE MATERIALIZED VIEW {name} AS {query};" for name, (query, _) in views.items()))
    assert project.run().state == UpdateState.COMPLETED
    append(spark, landing, [("a", None, 2, None, None, None)])
    ran = techniques(project.run())
    for name, (_, issue) in views.items():
        assert ran[name] == "COMPLETE_RECOMPUTE", name
        _, information = last_planning(project, name)
        assert issues(information, "GROUP_AGGREGATE") == [issue], name
    assert project.rows("having_sum") == [{"k": "a", "s": 3}]


IN_VIEW_SCHEMA_CHANGE = """
from pyspark import pipelines as dp
from pyspark.sql import functions as F

@dp.table
def bronze():
    return spark.readStream.format("delta").load("{landing}")

@dp.materialized_view
def tags():
    return spark.read.format("delta").load("{tags}")

@dp.materialized_view
def tagged():
    orders = spark.read.table("bronze").groupBy("k").agg(F.sum("amount").alias("s"))
    return orders.join(spark.read.table("tags"), "k", "left")
"""


def test_a_view_holding_its_aggregation_follows_the_other_sides_schema(
        project: Any, spark: Any, tmp_path: Any) -> None:
    """The view as its aggregation's backing table: merged into without asking its result's
    schema while its inputs' schemas are those recorded (its rows replaced, its schema kept);
    when the other side of the join gains a column, merged all the same, with the new column
    (the view rewritten with the query's schema). Exact rows every time, a key tagged twice
    included."""
    landing, tags = tmp_path / "landing", tmp_path / "tags"
    monkey = pytest.MonkeyPatch()
    monkey.setattr("lakesmith.runtime.refresh.planner.BACKING_TABLE_MIN_RATIO", 0)
    from lakesmith.runtime.flows import materialized_view

    compared: list[bool] = []  # the result's schema asked and compared with the view's
    compare = materialized_view.same_columns
    monkey.setattr(materialized_view, "same_columns",
                   lambda *a: compared.append(compare(*a)) or compared[-1])
    try:
        spark.createDataFrame([("a", 1), ("a", 2), ("b", 3)], "k STRING, tag INT") \
            .write.format("delta").save(str(tags))
        project.write_spec()
        project.write("transformations/t.py",
                      IN_VIEW_SCHEMA_CHANGE.format(landing=landing, tags=tags))
        amounts = [("a", 5), ("b", 7), (None, 1), ("c", 2)]
        append(spark, landing, [(k, None, a, None, None, None) for k, a in amounts])
        assert techniques(project.run())["tagged"] == "COMPLETE_RECOMPUTE"
        tag_rows: dict[Any, list[tuple[Any, ...]]] = {"a": [(1,), (2,)], "b": [(3,)]}
        for round_, new in enumerate(([("a", 10), ("d", 4)], [("b", 1), (None, 3)])):
            if round_ == 1:  # the other side gains a column
                spark.createDataFrame([("d", 9, "x")], "k STRING, tag INT, note STRING") \
                    .write.format("delta").mode("append").option("mergeSchema", "true") \
                    .save(str(tags))
                tag_rows = {k: [(*r, None) for r in v] for k, v in tag_rows.items()}
                tag_rows["d"] = [(9, "x")]
            append(spark, landing, [(k, None, a, None, None, None) for k, a in new])
            amounts += new
            compared.clear()
            result = project.run()
            assert result.state == UpdateState.COMPLETED
            assert techniques(result)["tagged"] == "GROUP_AGGREGATE"
            sums: dict[Any, int] = {}
            for k, a in amounts:
                sums[k] = sums.get(k, 0) + a
            names = ["tag"] if round_ == 0 else ["tag", "note"]
            want = sorted(json.dumps({"k": k, "s": s, **dict(zip(names, tag, strict=True))},
                                     sort_keys=True)
                          for k, s in sums.items() for tag in tag_rows.get(k, [(None,) * len(
                              names)]))
            assert canonical(project.rows("tagged")) == want, round_
            assert [f[0] for f in columns(project, "tagged")] == ["k", "s", *names]
            # known the same (no request), then asked: another column, a new schema
            assert compared == ([] if round_ == 0 else [False])
    finally:
        monkey.undo()
