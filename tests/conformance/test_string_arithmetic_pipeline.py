"""Arithmetic on a bronze table's text columns in a real pipeline: Auto Loader-style STRING
values in `+ - * / %` give Spark's ANSI answers (BIGINT beside an integer, DOUBLE beside a
decimal or double), from SQL and from DataFrame code, where the engine alone fails to plan; a
value that is not a number fails the flow, and two STRING operands are refused as Spark refuses
them, naming the flow, with nothing written."""

from __future__ import annotations

import pytest

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

BRONZE = """
    CREATE MATERIALIZED VIEW bronze AS
    SELECT * FROM VALUES ('1', '3', '2.50'), ('2', ' 7 ', '0.25'), ('3', NULL, '1') AS t(id, qty, price);
"""


def test_text_columns_in_arithmetic_land_sparks_values(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", BRONZE + """
        CREATE MATERIALIZED VIEW silver_sql AS
        SELECT CAST(id AS INT) AS id, qty + 1 AS next_qty, qty % 2 AS odd, price * 2.0D AS doubled
        FROM bronze;
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def silver_py():
            return spark.read.table("bronze").select(
                F.col("id").cast("int").alias("id"), (F.col("qty") * 10).alias("qty10"),
                (F.col("price") * F.lit(4.0)).alias("price4"), (F.col("qty") / 2).alias("half"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("silver_sql", order_by="id") == [
        {"id": 1, "next_qty": 4, "odd": 1, "doubled": 5.0},
        {"id": 2, "next_qty": 8, "odd": 1, "doubled": 0.5},
        {"id": 3, "next_qty": None, "odd": None, "doubled": 2.0},
    ]
    assert project.rows("silver_py", order_by="id") == [
        {"id": 1, "qty10": 30, "price4": 10.0, "half": 1.5},
        {"id": 2, "qty10": 70, "price4": 1.0, "half": 3.5},
        {"id": 3, "qty10": None, "price4": 4.0, "half": None},
    ]


def test_a_price_that_is_not_an_integer_fails_its_flow(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", BRONZE + """
        CREATE MATERIALIZED VIEW wrong AS SELECT price + 1 AS v FROM bronze;
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    (failed,) = result.failed_flows
    assert failed.planned.name == "wrong"
    assert "'2.50'" in str(failed.error)  # Spark: CAST_INVALID_INPUT, '2.50' is not a BIGINT
    assert not project.table_path("wrong").exists()


def test_two_text_operands_are_refused_naming_the_flow(project) -> None:
    project.write_spec()
    path = project.write("transformations/a.sql", BRONZE + """
        CREATE MATERIALIZED VIEW ratio AS SELECT qty / price AS v FROM bronze;
    """)
    with pytest.raises(GraphValidationError) as info:  # before anything runs
        project.run()
    assert f"{path}:4: flow 'ratio': `/` of two STRING values" in str(info.value)
    assert "DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE" in str(info.value)
    assert not project.table_path("bronze").exists()


def test_averages_of_text_are_sparks_doubles(project) -> None:
    """avg/try_avg of STRING values: Spark 4.3 averages them as DOUBLE (avg('3', '2.5') is
    2.75, checked on Spark); the engine fails to plan them."""
    project.write_spec()
    project.write("transformations/a.sql", BRONZE + """
        CREATE MATERIALIZED VIEW averages AS
        SELECT avg(price) AS a, try_avg(qty) AS t, avg(DISTINCT price) AS d FROM bronze;
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def averages_py():
            return spark.read.table("bronze").groupBy().agg(
                F.avg("price").alias("a"), F.try_avg("qty").alias("t"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("averages") == [{"a": 1.25, "t": 5.0, "d": 1.25}]
    assert project.rows("averages_py") == [{"a": 1.25, "t": 5.0}]
