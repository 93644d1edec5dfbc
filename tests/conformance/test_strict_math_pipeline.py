"""Logarithms, STRING operands of math functions and aggregates, and GROUP BY ALL in a real
pipeline: the Delta rows equal Apache Spark 4.3's (the values below were recorded on Spark,
`tests/golden/conformance.json`: `strict_math/*`, `string_operands/*`, `group_by_all/*`), from SQL
and from DataFrame code; text that is not a number fails its flow, and a GROUP BY ALL Spark
cannot infer is refused naming the flow, with nothing written."""

from __future__ import annotations

import math

import pytest

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

NUMBERS = """
    CREATE MATERIALIZED VIEW numbers AS
    SELECT * FROM VALUES (1, 3.0D, 10.0D), (2, 1.2025074695114542D, 0.5D),
      (7, 6.605854038191745e-07D, 1.5D), (8, 8.0D, -2.0D), (9, 4.9e-324D, 1.0D), (11, 0.0D, 2.0D),
      (13, CAST('NaN' AS DOUBLE), 2.0D), (15, NULL, 2.0D)
    AS t(id, x, b);
"""
TEXTS = """
    CREATE MATERIALIZED VIEW texts AS
    SELECT * FROM VALUES ('a', '2.5'), ('a', '-3'), ('b', ' 4 '), ('b', '4'), ('b', NULL) AS t(k, s);
"""


def _same(actual: list[dict], expected: list[dict]) -> None:
    """Rows equal bit for bit (NaN equal to NaN)."""
    assert len(actual) == len(expected), actual
    for got, want in zip(actual, expected, strict=True):
        assert got.keys() == want.keys()
        for key, value in want.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(got[key]), (key, got)
            else:
                assert got[key] == value and repr(got[key]) == repr(value), (key, got, want)


def test_logarithms_land_strict_maths_values(project) -> None:
    """ln(3) is 1.0986122886681096 in Spark (StrictMath); the engine alone gives ...098."""
    project.write_spec()
    project.write("transformations/a.sql", NUMBERS + """
        CREATE MATERIALIZED VIEW logs_sql AS
        SELECT id, ln(x) AS ln, log2(x) AS log2, log10(x) AS log10, log(b, x) AS log_b,
               log(10, x) AS log_10
        FROM numbers;
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def logs_py():
            return spark.read.table("numbers").select(
                "id", F.ln("x").alias("ln"), F.log(F.col("b"), F.col("x")).alias("log_b"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    nan = float("nan")
    _same(project.rows("logs_sql", order_by="id"), [
        {"id": 1, "ln": 1.0986122886681096, "log2": 1.584962500721156,
         "log10": 0.47712125471966244, "log_b": 0.4771212547196623, "log_10": 0.4771212547196623},
        {"id": 2, "ln": 0.1844089346304239, "log2": 0.2660458554869296,
         "log10": 0.08008778272365058, "log_b": -0.2660458554869296,
         "log_10": 0.08008778272365058},
        {"id": 7, "ln": -14.230139419572648, "log2": -20.52975157177601,
         "log10": -6.180071026634344, "log_b": -35.09584212059137,
         "log_10": -6.1800710266343435},
        {"id": 8, "ln": 2.0794415416798357, "log2": 3.0, "log10": 0.9030899869919435,
         "log_b": None, "log_10": 0.9030899869919434},
        {"id": 9, "ln": -744.4400719213812, "log2": -1074.0, "log10": -323.3062153431158,
         "log_b": -math.inf, "log_10": -323.30621534311575},
        {"id": 11, "ln": None, "log2": None, "log10": None, "log_b": None, "log_10": None},
        {"id": 13, "ln": nan, "log2": nan, "log10": nan, "log_b": nan, "log_10": nan},
        {"id": 15, "ln": None, "log2": None, "log10": None, "log_b": None, "log_10": None},
    ])
    _same(project.rows("logs_py", order_by="id"), [
        {"id": row["id"], "ln": row["ln"], "log_b": row["log_b"]}
        for row in project.rows("logs_sql", order_by="id")])


def test_a_logarithm_of_text_that_is_not_a_number_fails_its_flow(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", TEXTS + """
        CREATE MATERIALIZED VIEW wrong AS SELECT ln(k) AS v FROM texts;
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    (failed,) = result.failed_flows
    assert failed.planned.name == "wrong"
    assert "'a'" in str(failed.error)  # Spark: CAST_INVALID_INPUT, 'a' is not a DOUBLE
    assert not project.table_path("wrong").exists()


def test_text_operands_of_math_and_aggregates_land_sparks_values(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", TEXTS + """
        CREATE MATERIALIZED VIEW rounded AS
        SELECT s, ceil(s) AS c, floor(s) AS f, ceil(s, 1) AS c1, power(s, 2) AS p, sign(s) AS g,
               positive(s) AS pos
        FROM texts;
        CREATE MATERIALIZED VIEW spread AS
        SELECT k, try_sum(s) AS total, stddev_pop(s) AS sd, var_pop(s) AS var, median(s) AS med
        FROM texts GROUP BY k;
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        @dp.materialized_view
        def windowed():
            return spark.read.table("texts").select(
                "k", "s", F.avg("s").over(Window.partitionBy("k")).alias("mean"),
                F.stddev_pop("s").over(Window.partitionBy("k")).alias("sd"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    from decimal import Decimal

    _same(project.rows("rounded", order_by="s"), [
        {"s": " 4 ", "c": 4, "f": 4, "c1": Decimal("4.0"), "p": 16.0, "g": 1.0, "pos": 4.0},
        {"s": "-3", "c": -3, "f": -3, "c1": Decimal("-3.0"), "p": 9.0, "g": -1.0, "pos": -3.0},
        {"s": "2.5", "c": 3, "f": 2, "c1": Decimal("2.5"), "p": 6.25, "g": 1.0, "pos": 2.5},
        {"s": "4", "c": 4, "f": 4, "c1": Decimal("4.0"), "p": 16.0, "g": 1.0, "pos": 4.0},
        {"s": None, "c": None, "f": None, "c1": None, "p": None, "g": None, "pos": None},
    ])
    _same(project.rows("spread", order_by="k"), [
        {"k": "a", "total": -0.5, "sd": 2.75, "var": 7.5625, "med": -0.25},
        {"k": "b", "total": 8.0, "sd": 0.0, "var": 0.0, "med": 4.0},
    ])
    _same(project.rows("windowed", order_by=["k", "s"]), [
        {"k": "a", "s": "-3", "mean": -0.25, "sd": 2.75},
        {"k": "a", "s": "2.5", "mean": -0.25, "sd": 2.75},
        {"k": "b", "s": " 4 ", "mean": 4.0, "sd": 0.0},
        {"k": "b", "s": "4", "mean": 4.0, "sd": 0.0},
        {"k": "b", "s": None, "mean": 4.0, "sd": 0.0},
    ])


def test_group_by_all_groups_as_spark_infers(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", """
        CREATE MATERIALIZED VIEW orders AS
        SELECT * FROM VALUES ('a', 1), ('a', 2), ('b', 3), (NULL, 4) AS t(region, qty);
        CREATE MATERIALIZED VIEW by_region AS
        SELECT upper(region) AS region, 'all' AS scope, sum(qty) AS qty, count(*) AS n
        FROM orders GROUP BY ALL ORDER BY ALL;
        CREATE MATERIALIZED VIEW totals AS SELECT sum(qty) AS qty FROM orders GROUP BY ALL;
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("by_region", order_by=["qty", "n"]) == [
        {"region": "B", "scope": "all", "qty": 3, "n": 1},
        {"region": "A", "scope": "all", "qty": 3, "n": 2},
        {"region": None, "scope": "all", "qty": 4, "n": 1},
    ]
    assert project.rows("totals") == [{"qty": 10}]


def test_a_group_by_all_spark_cannot_infer_is_refused_naming_the_flow(project) -> None:
    project.write_spec()
    path = project.write("transformations/a.sql", """
        CREATE MATERIALIZED VIEW orders AS SELECT * FROM VALUES ('a', 1) AS t(region, qty);
        CREATE MATERIALIZED VIEW wrong AS SELECT qty + sum(qty) AS v FROM orders GROUP BY ALL;
    """)
    with pytest.raises(GraphValidationError) as info:  # before anything runs
        project.run()
    assert "flow 'wrong'" in str(info.value) and str(path) in str(info.value)
    assert "UNRESOLVED_ALL_IN_GROUP_BY" in str(info.value)
    assert not project.table_path("orders").exists()
