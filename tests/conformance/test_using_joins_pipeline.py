"""A qualified star over a USING or NATURAL join in real pipelines (`sql_using_stars`,
`using_stars`): the views land Apache Spark 4.3's columns — the starred side's own join
column first, NULL where that side has no row — and rows, on the first update and after more
rows arrive (twice): a DataFrame aggregation joined by name merges its changes, a SQL one is
recomputed and says why; a shape lakesmith does not expand is refused at analysis, naming the
flow and the file line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from deltalake import DeltaTable

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

SCHEMA = "k STRING, amount BIGINT"
LABELS = {"a": ["Alpha", "Again"], "c": ["Gamma"]}  # `b` has no label, `c` no row of its own

BRONZE = """
from pyspark import pipelines as dp

@dp.table
def bronze():
    return spark.readStream.format("delta").load({landing!r})

@dp.materialized_view
def py_full():  # a DataFrame join by column name, starred on the side that may be missing
    return (spark.read.table("bronze").alias("o")
            .join(spark.read.table("labels").alias("l"), "k", "full")
            .select("l.*", "o.amount"))

@dp.materialized_view
def py_totals():  # the aggregation below a join by column name, starred
    from pyspark.sql import functions as F

    totals = spark.read.table("bronze").groupBy("k").agg(F.count("*").alias("n"),
                                                         F.sum("amount").alias("s"))
    return (totals.alias("o").join(spark.read.table("labels").alias("l"), ["k"], "left")
            .select("o.*", "l.label"))
"""

SQL_VIEWS = """
CREATE MATERIALIZED VIEW labels AS
SELECT * FROM VALUES ('Alpha', 'a'), ('Again', 'a'), ('Gamma', 'c') AS t(label, k);

-- the aggregation below a LEFT JOIN ... USING: o.* is k, n, s
CREATE MATERIALIZED VIEW totals_labelled AS
SELECT o.*, l.label
FROM (SELECT k, count(*) AS n, sum(amount) AS s FROM bronze GROUP BY k) AS o
LEFT JOIN labels l USING (k);

-- l.* over a RIGHT JOIN: l's own k first, then its label
CREATE MATERIALIZED VIEW labels_with_amounts AS
SELECT l.*, o.amount FROM bronze o RIGHT JOIN labels AS l USING (k);

-- o.* over a NATURAL FULL JOIN: o's own k, NULL for a label with no row
CREATE MATERIALIZED VIEW rows_natural AS
SELECT o.*, l.label FROM bronze AS o NATURAL FULL JOIN labels AS l;
"""


def append(spark: Any, path: Any, rows: list[tuple[Any, ...]]) -> None:
    spark.createDataFrame(rows, SCHEMA).write.format("delta").mode("append").save(str(path))


def expected(rows: list[tuple[Any, ...]]) -> dict[str, list[dict[str, Any]]]:
    """Each view's rows as Spark computes them (a NULL key matches nothing)."""
    by_key: dict[Any, list[Any]] = {}
    for k, amount in rows:
        by_key.setdefault(k, []).append(amount)
    totals = [{"k": k, "n": len(a), "s": sum(a), "label": label}
              for k, a in by_key.items() for label in LABELS.get(k, [None])]
    matched = {k: [(k, a) for kk, a in rows if kk == k and k is not None] for k in LABELS}
    with_amounts = [{"label": label, "k": k, "amount": a}
                    for k, labels in LABELS.items() for label in labels
                    for _, a in (matched[k] or [(k, None)])]
    full = [{"k": k, "amount": a, "label": label}
            for k, a in rows for label in (LABELS.get(k, [None]) if k is not None else [None])]
    unmatched = [(k, label) for k, labels in LABELS.items() if not matched[k] for label in labels]
    full += [{"k": None, "amount": None, "label": label} for _, label in unmatched]
    # l.* is l's own k: NULL beside a row with no label, the label's key beside no row
    py_full = [{"k": r["k"] if r["label"] is not None else None, "label": r["label"],
                "amount": r["amount"]} for r in full if r["amount"] is not None or r["k"]]
    py_full += [{"k": k, "label": label, "amount": None} for k, label in unmatched]
    return {"totals_labelled": totals, "py_totals": totals, "labels_with_amounts": with_amounts,
            "rows_natural": full, "py_full": py_full}


def canonical(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in rows)


def columns(project: Any, table: str) -> list[str]:
    return [f.name for f in DeltaTable(str(project.table_path(table))).schema().fields]


def test_stars_over_using_joins_land_sparks_columns_and_rows(project) -> None:
    landing = project.root / "landing"
    project.write_spec()
    project.write("transformations/bronze.py", BRONZE.format(landing=str(landing)))
    project.write("transformations/views.sql", SQL_VIEWS)
    # enough rows per group that merging the aggregation's changes beats recomputing it
    rows = [(("a", "b", None)[i % 3], i) for i in range(60)]
    with project.open() as pipeline:
        append(pipeline.spark, landing, rows)
    assert project.run().state == UpdateState.COMPLETED
    assert columns(project, "totals_labelled") == ["k", "n", "s", "label"]
    assert columns(project, "labels_with_amounts") == ["k", "label", "amount"]
    assert columns(project, "rows_natural") == ["k", "amount", "label"]
    assert columns(project, "py_full") == ["k", "label", "amount"]
    assert columns(project, "py_totals") == ["k", "n", "s", "label"]
    want = expected(rows)
    for view in want:
        assert canonical(project.rows(view)) == canonical(want[view]), view

    more = [("c", 2), ("b", 4), (None, 1)]
    with project.open() as pipeline:
        append(pipeline.spark, landing, more)
    assert project.run().state == UpdateState.COMPLETED
    want = expected(rows + more)
    for view in want:
        assert canonical(project.rows(view)) == canonical(want[view]), view
    # the star over the aggregation is expanded to its columns: the view is recomputed (the
    # split of an aggregation below the top would read them from the relation standing in
    # for it), and says why
    technique, message = chosen(project.root, "totals_labelled")
    assert technique == "COMPLETE_RECOMPUTE"
    assert "qualified star over a USING or NATURAL join" in message, message

    last = [("a", 100), ("d", 1)]
    with project.open() as pipeline:
        append(pipeline.spark, landing, last)
    assert project.run().state == UpdateState.COMPLETED
    want = expected(rows + more + last)
    for view in want:
        assert canonical(project.rows(view)) == canonical(want[view]), view
    # the DataFrame form merges its aggregation's changes (a backing table, built by the
    # update before), the star expanded over the side as Spark does
    assert chosen(project.root, "py_totals")[0] == "GROUP_AGGREGATE"


@pytest.mark.parametrize(("query", "words"), [
    ("SELECT o.* FROM events o JOIN events l USING (id) JOIN events c USING (id)",
     "chain of USING joins"),
    ("SELECT struct(o.*) AS s FROM events o JOIN events l USING (id)", "inside an expression"),
])
def test_a_star_lakesmith_does_not_expand_is_refused_at_analysis(project, query: str,
                                                                   words: str) -> None:
    project.write_spec()
    project.write("transformations/a.sql", f"""
        CREATE MATERIALIZED VIEW events AS SELECT * FROM VALUES (1, 'x') AS t(id, v);
        CREATE MATERIALIZED VIEW bad AS
        {query};
    """)
    with pytest.raises(GraphValidationError) as info:
        with project.open() as pipeline:
            pipeline.analyze()
    message = str(info.value)
    assert "flow 'bad'" in message and "a.sql:" in message and words in message, message


def chosen(root: Any, flow: str) -> tuple[str, str]:
    """The maintenance technique the last update's planning_information chose for `flow`,
    and its message."""
    events = DeltaTable(str(root / "storage" / "system" / "events")).to_pyarrow_table() \
        .to_pylist()
    (*_, last) = sorted((e for e in events if e["event_type"] == "planning_information"
                         and e["origin"]["flow_name"] == flow),
                        key=lambda e: e["sequence"]["control_plane_seq_no"])
    information = json.loads(last["details"])["planning_information"]
    (technique,) = [t for t in information["technique_information"] if t["is_chosen"]]
    return str(technique["maintenance_type"]).removeprefix("MAINTENANCE_TYPE_"), last["message"]
