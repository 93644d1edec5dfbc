"""FLOAT/DOUBLE keys in a pipeline's Python and SQL flows are compared as Spark compares them
(-0.0 = 0.0, every NaN one value): grouped, joined, partitioned and deduplicated, with exact rows
in the Delta tables; a join on such a column by name is refused at analysis, naming the flow."""

from __future__ import annotations

import math

import pytest

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

SOURCE = """
    CREATE MATERIALIZED VIEW src AS SELECT * FROM VALUES
      (-CAST('NaN' AS DOUBLE), 1), (CAST('NaN' AS DOUBLE), 2), (-0.0D, 3), (0.0D, 4), (1.5D, 5)
    AS t(d, o);
"""


def analysis_error(project) -> str:
    """The message of the error the pipeline's analysis refuses it with."""
    with pytest.raises(GraphValidationError) as info:
        with project.open() as pipeline:
            pipeline.analyze()
    return str(info.value)

FLOWS = """
    from pyspark import pipelines as dp
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    @dp.materialized_view
    def grouped():
        return spark.read.table("src").groupBy("d").agg(F.count("*").alias("n"),
                                                         F.min("o").alias("o"))

    @dp.materialized_view
    def joined():
        a, b = spark.read.table("src").alias("a"), spark.read.table("src").alias("b")
        return a.join(b, F.col("a.d") == F.col("b.d")).select(
            F.col("a.o").alias("a"), F.col("b.o").alias("b"), F.col("a.d").alias("d"))

    @dp.materialized_view
    def partitioned():
        return spark.read.table("src").select(
            "o", F.count("*").over(Window.partitionBy("d")).alias("n"))

    @dp.materialized_view
    def deduplicated():
        return spark.read.table("src").dropDuplicates(["d"])
"""


def _key(value: float) -> str:
    """A float as its sign and value: -0.0 and 0.0 (and NaN's) told apart in assertions."""
    if math.isnan(value):
        return "NaN"
    return ("-" if math.copysign(1.0, value) < 0 else "+") + str(abs(value))


def test_float_keys_give_sparks_groups_joins_partitions_and_first_rows(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE)
    project.write("transformations/b.py", FLOWS)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    grouped = sorted((_key(r["d"]), r["n"], r["o"]) for r in project.rows("grouped"))
    assert grouped == [("+0.0", 2, 3), ("+1.5", 1, 5), ("NaN", 2, 1)]  # the key output normalized
    joined = sorted((r["a"], r["b"], _key(r["d"])) for r in project.rows("joined"))
    assert joined == [(1, 1, "NaN"), (1, 2, "NaN"), (2, 1, "NaN"), (2, 2, "NaN"),
                      (3, 3, "-0.0"), (3, 4, "-0.0"), (4, 3, "+0.0"), (4, 4, "+0.0"),
                      (5, 5, "+1.5")]  # the joined rows keep their values, as in Spark
    assert project.rows("partitioned", order_by="o") == [
        {"o": 1, "n": 2}, {"o": 2, "n": 2}, {"o": 3, "n": 2}, {"o": 4, "n": 2}, {"o": 5, "n": 1}]
    deduplicated = sorted((_key(r["d"]), r["o"]) for r in project.rows("deduplicated"))
    assert deduplicated == [("+0.0", 3), ("+1.5", 5), ("NaN", 1)]


def test_join_on_a_double_column_by_name_is_refused_at_analysis(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def by_name():
            return spark.read.table("src").join(
                spark.read.table("src").withColumnRenamed("o", "p"), "d")
    """)
    message = analysis_error(project)
    assert "by_name" in message and "'d'" in message and "DOUBLE" in message, message


def test_sql_flows_group_and_join_on_double_keys_as_spark_does(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW grouped AS
        SELECT d, count(*) AS n, min(o) AS o FROM src GROUP BY d;

        CREATE MATERIALIZED VIEW joined AS
        SELECT a.o AS a, b.o AS b, a.d AS d FROM src a JOIN src b ON a.d = b.d;

        CREATE MATERIALIZED VIEW partitioned AS
        SELECT o, count(*) OVER (PARTITION BY d) AS n FROM src;
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    grouped = sorted((_key(r["d"]), r["n"], r["o"]) for r in project.rows("grouped"))
    assert grouped == [("+0.0", 2, 3), ("+1.5", 1, 5), ("NaN", 2, 1)]
    joined = sorted((r["a"], r["b"], _key(r["d"])) for r in project.rows("joined"))
    assert joined == [(1, 1, "NaN"), (1, 2, "NaN"), (2, 1, "NaN"), (2, 2, "NaN"),
                      (3, 3, "-0.0"), (3, 4, "-0.0"), (4, 3, "+0.0"), (4, 4, "+0.0"),
                      (5, 5, "+1.5")]
    assert project.rows("partitioned", order_by="o") == [
        {"o": 1, "n": 2}, {"o": 2, "n": 2}, {"o": 3, "n": 2}, {"o": 4, "n": 2}, {"o": 5, "n": 1}]


def test_sql_join_using_a_double_column_is_refused_with_file_and_line(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW using_d AS
        SELECT a.o AS a, b.o AS b FROM src a JOIN src b USING (d);
    """)
    message = analysis_error(project)
    assert "using_d" in message and "a.sql:" in message and "USING (d)" in message, message


def test_sql_rollup_and_cube_on_double_keys_as_spark_does(project) -> None:
    """ROLLUP / CUBE groups (Spark 4.3's rows: tests/golden, float_keys/rollup and cube)."""
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW rolled AS
        SELECT d, grouping(d) AS g, count(*) AS n FROM src GROUP BY ROLLUP (d);
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, result
    rolled = sorted(((_key(r["d"]) if r["d"] is not None else "total"), r["g"], r["n"])
                    for r in project.rows("rolled"))
    assert rolled == [("+0.0", 0, 2), ("+1.5", 0, 1), ("NaN", 0, 2), ("total", 1, 5)]


def test_sql_natural_join_on_a_double_column_is_refused_with_file_and_line(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", SOURCE + """
        CREATE MATERIALIZED VIEW natural_d AS
        SELECT a.o AS a, b.p AS b FROM src a NATURAL JOIN (SELECT d, o AS p FROM src) b;
    """)
    message = analysis_error(project)
    assert "natural_d" in message and "a.sql:" in message and "NATURAL JOIN" in message \
        and "DOUBLE column d" in message, message
