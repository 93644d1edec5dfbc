"""On Apache Spark the plan goes out as written: the rewrites that make Sail give Spark's answers
(StrictMath UDFs, regex translations, refusals of what Sail cannot do) are skipped, only the
pipeline's `${...}` are substituted; on Sail they stay (engine/engine_kind.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import functions as F

from lakesmith.check.spark_server import (
    LocalSparkConnect,
    SparkUnavailable,
    find_java,
    find_spark_home,
)
from lakesmith.engine.engine_kind import is_apache_spark
from lakesmith.engine.plans import dataframe_of
from lakesmith.engine.semantics.plan_rewrite import spark_semantics
from lakesmith.engine.session import start_engine
from lakesmith.errors import NotSupportedYet
from lakesmith.variable_substitution import Variables


def _queries(spark):  # type: ignore[no-untyped-def]
    """Plans every engine is asked: logarithms (StrictMath UDFs on Sail), a tangent (refused on
    Sail: lakesmith has no port of HotSpot's tan) and a regex with a final `$`."""
    df = spark.createDataFrame([(3.0, "ab\n")], "x double, s string")
    logarithm = df.select(F.ln("x").alias("ln"), F.expr("log(10, x)").alias("log10"))
    tangent = df.select(F.tan("x").alias("tan"))
    regex = df.select(F.regexp_extract("s", "b$", 0).alias("m"))
    return [q._plan.to_proto(spark.client).root for q in (logarithm, tangent, regex)]


def test_sail_keeps_the_rewrites(spark) -> None:
    assert not is_apache_spark(spark)
    logarithm, tangent, _ = _queries(spark)
    sent = str(spark_semantics(spark, logarithm))
    assert "common_inline_user_defined_function" in sent  # F.ln: fdlibm's log as a UDF
    assert "lakesmith_strict_log(" in sent  # log(10, x) in an expression string
    with pytest.raises(NotSupportedYet, match="tan"):
        spark_semantics(spark, tangent)


def test_an_engine_lakesmith_starts_is_known_without_asking_it() -> None:
    engine = start_engine(lazy=True)
    try:
        assert not is_apache_spark(engine.spark)
        assert not engine.started  # the question did not start the engine
    finally:
        engine.stop()


def _spark_home() -> Path | None:
    try:
        find_java()
        return find_spark_home()
    except SparkUnavailable:
        found = sorted(Path("/work/spark-ref/venv/lib").glob("python3*/site-packages/pyspark"))
        return found[0] if found and (found[0] / "jars").is_dir() else None


@pytest.mark.slow
def test_apache_spark_gets_the_plan_as_written(tmp_path: Path) -> None:
    home = _spark_home()
    if home is None:
        pytest.skip("needs Java and Apache Spark 4.3 (SPARK_HOME)")
    server = LocalSparkConnect.start(tmp_path / "spark.log", home=home)
    try:
        engine = start_engine(server.url)
        spark = engine.spark
        assert is_apache_spark(spark)
        for plan in _queries(spark):
            assert spark_semantics(spark, plan) == plan  # no UDF, no translation, no refusal
        logarithm, tangent, regex = (dataframe_of(spark, p).collect()[0] for p in _queries(spark))
        # Spark's own answers (StrictMath's ln(3); Sail alone gives ...098)
        assert (logarithm.ln, logarithm.log10) == (1.0986122886681096, 0.4771212547196623)
        assert regex.m == "b"
        assert isinstance(tangent.tan, float)
        # `${...}`: Spark substitutes its own settings; a pipeline's configuration (the
        # session's `sql_variables`) is lakesmith's to substitute.
        spark.conf.set("spark.lakesmith.test.v", "hello")
        plan = spark.range(1).selectExpr("'${spark.lakesmith.test.v}' AS v") \
            ._plan.to_proto(spark.client).root
        assert spark_semantics(spark, plan) == plan
        assert dataframe_of(spark, plan).collect()[0].v == "hello"
        spark.sql_variables = lambda: Variables.of({"n": "41"})
        plan = spark.range(1).selectExpr("${n} + 1 AS v")._plan.to_proto(spark.client).root
        assert dataframe_of(spark, spark_semantics(spark, plan)).collect()[0].v == 42
        engine.stop()
    finally:
        server.stop()
