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


def test_exp_pow_and_trigonometric_inverses_land_strict_maths_values(project) -> None:
    """exp, pow, atan2, log1p, expm1, cbrt, hypot as Spark computes them (StrictMath): the
    engine alone differs in the last bit (or fails: pow(0, -1))."""
    project.write_spec()
    project.write("transformations/a.sql", NUMBERS + """
        CREATE MATERIALIZED VIEW curves AS
        SELECT id, exp(x) AS e, pow(b, x) AS p, power(x, b) AS q, atan2(b, x) AS a,
               log1p(x) AS l, expm1(x) AS m, cbrt(x) AS c, hypot(x, b) AS h, pow(0, -1) AS inf
        FROM numbers WHERE id IN (1, 2, 7);
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def curves_py():
            return spark.read.table("numbers").where("id IN (1, 2, 7)").select(
                "id", F.exp("x").alias("e"), F.pow("b", "x").alias("p"),
                F.atan2("b", "x").alias("a"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    _same(project.rows("curves", order_by="id"), [
        {"id": 1, "e": 20.085536923187668, "p": 1000.0, "q": 59049.0, "a": 1.2793395323170296,
         "l": 1.3862943611198906, "m": 19.085536923187668, "c": 1.4422495703074083,
         "h": 10.44030650891055, "inf": math.inf},
        {"id": 2, "e": 3.328452460881245, "p": 0.43451941049687004, "q": 1.0965890157718405,
         "a": 0.39405058343938704, "l": 0.7895964702010866, "m": 2.328452460881245,
         "c": 1.0633982164550067, "h": 1.302314944332146, "inf": math.inf},
        {"id": 7, "e": 1.000000660585622, "p": 1.000000267844368, "q": 5.369000693358347e-10,
         "a": 1.5707958864046274, "l": 6.605851856327328e-07, "m": 6.605856220057605e-07,
         "c": 0.008709161107080528, "h": 1.5000000000001454, "inf": math.inf},
    ])
    _same(project.rows("curves_py", order_by="id"), [
        {"id": r["id"], "e": r["e"], "p": r["p"], "a": r["a"]}
        for r in project.rows("curves", order_by="id")])


def test_a_streaming_table_of_landed_text_gets_sparks_values_per_batch(project, tmp_path) -> None:
    """Two batches of JSON files whose amounts are text: each batch's ln / pow / ceil are
    Spark's (ln('3') 1.0986122886681096, the engine alone ...098)."""
    import json
    import os

    landing = tmp_path / "landing"
    landing.mkdir()

    def land(name: str, rows: list[dict], mtime: int) -> None:
        path = landing / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        os.utime(path, (mtime, mtime))

    land("a.json", [{"id": 1, "amount": "3"}], 1_700_000_000)
    project.write_spec()
    project.write("transformations/orders.sql", f"""
        CREATE OR REFRESH STREAMING TABLE orders AS
        SELECT CAST(id AS INT) AS id, ln(amount) AS ln, pow(amount, 0.3) AS p,
               ceil(amount) AS c
        FROM STREAM read_files('{landing}', format => 'json', schemaHints => 'amount STRING');
    """)
    first = project.run()
    assert first.state == UpdateState.COMPLETED, [str(f.error) for f in first.failed_flows]
    land("b.json", [{"id": 2, "amount": "1.2025074695114542"}], 1_700_000_100)
    second = project.run()
    assert second.state == UpdateState.COMPLETED, [str(f.error) for f in second.failed_flows]
    _same(project.rows("orders", order_by="id"), [
        {"id": 1, "ln": 1.0986122886681096, "p": 1.3903891703159093, "c": 3},
        {"id": 2, "ln": 0.1844089346304239, "p": 1.0568815946229788, "c": 2},
    ])


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
