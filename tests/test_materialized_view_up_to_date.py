"""A materialized view whose query, definition and inputs are those of its last refresh is up to
date: the run writes nothing. Anything that could change its rows without a new input version
(files, external tables, the clock, chance, UDFs) always recomputes."""

from __future__ import annotations

from deltalake import DeltaTable

from lakesmith.runtime.events import UpdateState


def described(result) -> dict[str, bool]:
    """Per flow: was it up to date (nothing run)?"""
    return {r.planned.flow.name: bool(r.metrics and r.metrics.details.get("up_to_date"))
            for r in result.flows}


def version(project, table: str) -> int:
    return DeltaTable(str(project.table_path(table))).version()


def append(spark, path, rows) -> None:
    spark.createDataFrame(rows, "id BIGINT, amount BIGINT").write.format("delta") \
        .mode("append").save(str(path))


PIPELINE = """
from pyspark import pipelines as dp
from pyspark.sql import functions as F

@dp.table
def bronze():
    return spark.readStream.format("delta").load("{landing}")

@dp.temporary_view
def big():
    return spark.read.table("bronze").where("amount >= 10")

@dp.materialized_view
def totals():
    return spark.read.table("big").agg(F.sum("amount").alias("total"), F.count("*").alias("n"))

@dp.materialized_view
def stamped():
    return spark.read.table("bronze").agg(F.count("*").alias("n"), F.current_timestamp().alias("at"))

@dp.materialized_view
def udf():
    plus_one = F.udf(lambda x: x + 1, "bigint")
    return spark.read.table("bronze").select(plus_one("id").alias("id"))

@dp.materialized_view
def external():
    return spark.read.format("delta").load("{landing}").agg(F.count("*").alias("n"))
"""


def test_unchanged_inputs_skip_changed_inputs_recompute(project, spark, tmp_path) -> None:
    landing = tmp_path / "landing"
    append(spark, landing, [(1, 5), (2, 20)])
    project.write_spec()
    project.write("transformations/t.py", PIPELINE.format(landing=landing))
    first = project.run()
    assert first.state == UpdateState.COMPLETED
    assert project.rows("totals") == [{"total": 20, "n": 1}]
    versions = {t: version(project, t) for t in ("totals", "stamped", "external")}

    again = project.run()  # nothing new
    assert described(again)["totals"] is True
    assert described(again)["stamped"] is False  # current_timestamp(): always recomputed
    assert described(again)["external"] is True  # a Delta path: the same version
    assert described(again)["udf"] is False  # a Python UDF may not be deterministic
    assert version(project, "totals") == versions["totals"]
    assert version(project, "stamped") == versions["stamped"] + 1
    assert version(project, "external") == versions["external"]
    assert project.rows("totals") == [{"total": 20, "n": 1}]

    append(spark, landing, [(3, 30)])  # bronze gets a new version: totals recomputes
    third = project.run()
    assert described(third)["totals"] is False
    assert described(third)["external"] is False  # the path's table has a new version
    assert project.rows("totals") == [{"total": 50, "n": 2}]
    assert project.rows("external") == [{"n": 3}]


def test_a_changed_definition_or_table_or_full_refresh_recomputes(project, spark, tmp_path) -> None:
    landing = tmp_path / "landing"
    append(spark, landing, [(1, 5), (2, 20)])
    project.write_spec()
    project.write("transformations/t.py", PIPELINE.format(landing=landing))
    assert project.run().state == UpdateState.COMPLETED
    assert described(project.run())["totals"] is True

    # The query changes: recomputed with the new one.
    project.write("transformations/t.py", PIPELINE.format(landing=landing).replace(
        'where("amount >= 10")', 'where("amount >= 1")'))
    changed = project.run()
    assert described(changed)["totals"] is False
    assert project.rows("totals") == [{"total": 25, "n": 2}]
    assert described(project.run())["totals"] is True

    # Someone writes the table outside the pipeline: the next run replaces it again.
    spark.createDataFrame([(0, 0)], "total BIGINT, n BIGINT").write.format("delta") \
        .mode("overwrite").save(str(project.table_path("totals")))
    repaired = project.run()
    assert described(repaired)["totals"] is False
    assert project.rows("totals") == [{"total": 25, "n": 2}]

    # A full refresh always recomputes.
    with project.open() as pipeline:
        refreshed = pipeline.run(pipeline.plan(full_refresh=["totals"]))
    assert described(refreshed)["totals"] is False
    assert project.rows("totals") == [{"total": 25, "n": 2}]


def test_sql_text_with_a_volatile_function_always_recomputes(project) -> None:
    project.write_spec()
    project.write("transformations/t.sql", """
        CREATE MATERIALIZED VIEW fixed AS SELECT id FROM range(3);
        CREATE MATERIALIZED VIEW drawn AS SELECT id, rand() AS r FROM range(3);
    """)
    assert project.run().state == UpdateState.COMPLETED
    again = project.run()
    assert described(again) == {"fixed": True, "drawn": False}
    assert sorted(r["id"] for r in project.rows("fixed")) == [0, 1, 2]
