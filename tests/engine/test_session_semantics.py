"""Every way a `lakesmith.session()` user runs a DataFrame gets Spark's answer: the rewrite sits
in the client (execute and analyze requests), not in particular DataFrame methods. Each test
uses a value where the engine alone answers differently (round(1.005D, 2): engine 1.0, Spark
1.01; weekday(Sunday): engine -1, Spark 6) and checks the rows that land."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from deltalake import DeltaTable
from pyspark.sql.connect import functions as F

import lakesmith
from conftest import Project, read_rows
from lakesmith.errors import NotSupportedYet


@pytest.fixture
def spark(project: Project) -> Iterator[Any]:
    project.write_spec()
    session = lakesmith.session(project.root, remote=project.sail_url)
    session.createDataFrame([(1, 1.005), (2, 0.285), (3, 2.675)], "id int, x double") \
        .createOrReplaceTempView("doubles")
    yield session
    session.stop()


def _rounded(spark: Any) -> Any:
    return spark.table("doubles").select("id", F.round("x", 2).alias("r"))


SPARK_ROWS = [{"id": 1, "r": 1.01}, {"id": 2, "r": 0.29}, {"id": 3, "r": 2.68}]


def test_collect_count_topandas_toarrow_and_show(spark: Any, capsys: Any) -> None:
    assert [r.asDict() for r in _rounded(spark).orderBy("id").collect()] == SPARK_ROWS
    assert _rounded(spark).where(F.col("r") == 1.01).count() == 1
    assert _rounded(spark).orderBy("id").toPandas().to_dict("records") == SPARK_ROWS
    assert _rounded(spark).orderBy("id").toArrow().to_pylist() == SPARK_ROWS
    assert _rounded(spark).orderBy("id").first().r == 1.01
    spark.table("doubles").orderBy("id").select(F.round("x", 2)).show()
    shown = capsys.readouterr().out
    assert "|round(x, 2)|" in shown and "|       1.01|" in shown


def test_schema_and_column_names_are_sparks(spark: Any) -> None:
    df = spark.table("doubles").select(F.percentile_approx("id", 0.5), F.datediff(
        F.lit("2024-03-01").cast("date"), F.lit("2024-02-01").cast("date")))
    # Spark: percentile_approx of INT is INT (the engine: DOUBLE), datediff INT (engine BIGINT)
    assert [(f.name, f.dataType.simpleString()) for f in df.schema.fields] == [
        ("percentile_approx(id, 0.5, 10000)", "int"),
        ("datediff(CAST(2024-03-01 AS DATE), CAST(2024-02-01 AS DATE))", "int")]
    assert df.collect()[0][0] == 2


def test_writes_and_temp_views_store_sparks_answers(spark: Any, project: Project) -> None:
    spark.sql("CREATE TABLE rounded AS SELECT id, round(x, 2) AS r FROM doubles")
    assert read_rows(project.table_path("rounded"), order_by="id") == SPARK_ROWS
    spark.sql("INSERT INTO rounded SELECT id + 10, round(x, 2) FROM doubles WHERE id = 1")
    _rounded(spark).where("id = 2").withColumn("id", F.col("id") + 20) \
        .write.format("delta").mode("append").insertInto("rounded")
    assert read_rows(project.table_path("rounded"), order_by="id") == [
        *SPARK_ROWS, {"id": 11, "r": 1.01}, {"id": 22, "r": 0.29}]
    _rounded(spark).write.format("delta").mode("overwrite").save(str(project.root / "by_path"))
    assert sorted(DeltaTable(str(project.root / "by_path")).to_pyarrow_table().to_pylist(),
                  key=lambda r: r["id"]) == SPARK_ROWS
    _rounded(spark).createOrReplaceTempView("rounded_view")
    assert [r.asDict() for r in spark.sql("SELECT * FROM rounded_view ORDER BY id").collect()] \
        == SPARK_ROWS


def test_sql_text_and_dataframes_on_top_of_it(spark: Any) -> None:
    df = spark.sql("SELECT id, round(x, 2) AS r, weekday(DATE'2024-01-07') AS wd FROM doubles")
    assert [r.asDict() for r in df.orderBy("id").collect()] == [
        {**row, "wd": 6} for row in SPARK_ROWS]
    # a DataFrame built on a SQL result: the SQL is rewritten once, the DataFrame's call too
    on_top = df.select("id", F.round(F.col("r") * 1.005, 2).alias("v")).orderBy("id")
    assert [r.v for r in on_top.collect()] == [1.02, 0.29, 2.69]
    spark.sql("CREATE OR REPLACE TEMP VIEW sql_view AS SELECT id, round(x, 2) AS r FROM doubles")
    assert [r.asDict() for r in spark.table("sql_view").orderBy("id").collect()] == SPARK_ROWS
    with_df = spark.sql("SELECT id, round(x, 2) AS r FROM {t} ORDER BY id",
                        t=spark.table("doubles"))
    assert [r.asDict() for r in with_df.collect()] == SPARK_ROWS


def test_sql_runs_with_the_types_of_the_moment(spark: Any) -> None:
    """A DataFrame over SQL text runs the text as written each time: a temporary view
    redefined with another type in between is typed anew (as Spark analyses it again)."""
    spark.createDataFrame([(1, 1)], "id int, x int").createOrReplaceTempView("changing")
    df = spark.sql("SELECT round(x, 2) AS r FROM changing")
    assert df.collect()[0].r == 1
    spark.createDataFrame([(1, 1.005)], "id int, x double").createOrReplaceTempView("changing")
    assert df.collect()[0].r == 1.01  # the engine alone: 1.0


def test_refusals_and_errors_reach_the_user(spark: Any) -> None:
    with pytest.raises(Exception, match="ARITHMETIC_OVERFLOW"):
        spark.range(1).select((F.lit(2147483647) + F.lit(1)).alias("v")).collect()
    # the engine's answer for round over an aggregate's lambda variable cannot be typed (an
    # array's element can: `transform(array(x), e -> round(e, 1))`): refused, not guessed
    with pytest.raises(NotSupportedYet, match=r"round\(e, 1\).*could not find the type"):
        spark.sql("SELECT aggregate(array(x), 0D, (acc, e) -> acc + round(e, 1)) AS v "
                  "FROM doubles").collect()
    # a mistyped column: the engine's own words are part of the refusal
    with pytest.raises(NotSupportedYet, match="(?s)could not find the type.*nope"):
        spark.sql("SELECT round(nope, 2) FROM doubles").collect()
    # and said as Spark says it where no rewrite is involved, for DataFrames and SQL
    from pyspark.errors import AnalysisException

    expected = (r"^\[UNRESOLVED_COLUMN.WITH_SUGGESTION\] A column, variable, or function "
                r"parameter with name `ix` cannot be resolved. Did you mean one of the "
                r"following\? \[`x`, `id`\].$")
    with pytest.raises(AnalysisException, match=expected) as info:
        spark.table("doubles").select("ix").collect()
    assert info.value.getCondition() == "UNRESOLVED_COLUMN.WITH_SUGGESTION"
    with pytest.raises(AnalysisException, match=expected):
        _ = spark.table("doubles").select(F.col("ix") + 1).columns
    with pytest.raises(AnalysisException, match=expected):
        spark.sql("SELECT ix FROM doubles WHERE id > 0").collect()


def test_rewrites_can_be_turned_off_to_see_the_engines_answer(spark: Any) -> None:
    spark.semantics.enabled = False
    try:
        assert [r.r for r in _rounded(spark).orderBy("id").collect()] == [1.0, 0.28, 2.68]
    finally:
        spark.semantics.enabled = True
    assert [r.r for r in _rounded(spark).orderBy("id").collect()] == [1.01, 0.29, 2.68]


def test_sql_parameters_are_typed_with_their_values(spark: Any) -> None:
    named = spark.sql("SELECT round(:x, 2) AS r", args={"x": 1.005})
    assert named.collect()[0].r == 1.01
    scoped = spark.sql("SELECT id, round(x * :f, 2) AS r FROM {t} WHERE id = :id",
                       args={"f": 1.0, "id": 1}, t=spark.table("doubles"))
    assert [r.asDict() for r in scoped.collect()] == [{"id": 1, "r": 1.01}]
    # a rewrite may repeat an argument: positional parameters would shift, so refused
    with pytest.raises(NotSupportedYet, match=r"positional parameters.*\n.*hint: pass the"):
        spark.sql("SELECT round(?, 2) AS r", args=[0.285]).collect()
    assert spark.sql("SELECT ? + 1 AS v", args=[1]).collect()[0].v == 2


def test_lakesmith_shell_gives_sparks_answers(project: Project) -> None:
    import subprocess
    import sys

    project.write_spec()
    typed = ("from pyspark.sql import functions as F\n"
             "df = spark.createDataFrame([(1.005,), (0.285,)], 'x double')\n"
             "print('ROUNDED', [r[0] for r in df.select(F.round('x', 2)).collect()])\n")
    shell = subprocess.run([sys.executable, "-m", "lakesmith", "shell", "--remote",
                            project.sail_url], cwd=project.root, input=typed, text=True,
                           capture_output=True, timeout=120)
    assert shell.returncode == 0, shell.stdout + shell.stderr
    assert "ROUNDED [1.01, 0.29]" in shell.stdout


def test_save_as_table_lands_in_the_project_warehouse_as_delta(spark: Any,
                                                               project: Project) -> None:
    _rounded(spark).write.saveAsTable("saved")  # no format: Delta, as on Databricks
    assert read_rows(project.table_path("saved"), order_by="id") == SPARK_ROWS
    _rounded(spark).where("id = 1").write.mode("append").saveAsTable("saved")
    assert [r.id for r in spark.table("saved").orderBy("id").collect()] == [1, 1, 2, 3]
    with pytest.raises(Exception, match="(?i)exist"):  # the default mode: the table exists
        _rounded(spark).write.saveAsTable("saved")
    _rounded(spark).where("id = 3").write.format("delta").mode("overwrite") \
        .saveAsTable("silver.kept")
    assert read_rows(project.table_path("kept", schema="silver")) == [{"id": 3, "r": 2.68}]
    later = lakesmith.session(project.root, remote=project.sail_url)  # found by name again
    try:
        assert later.table("silver.kept").collect()[0].r == 2.68
    finally:
        later.stop()

