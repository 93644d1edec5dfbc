"""The analysis round trips the FLOAT/DOUBLE key pass (`engine/semantics/float_keys.py`) makes
in the medallion example's update with new data: none where lakesmith knows the key types
without asking the engine (its own deduplication plans; reads of Delta tables whose schema the
Delta log holds), so Spark's key semantics costs its flows nothing there."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import Project
from lakesmith.runtime.events import UpdateState
from lakesmith.templates import create_project, load_generator


@pytest.fixture
def float_key_probes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The analysis requests sent while the float-key passes run (plans and SQL text), by the
    thread running them: one entry per request, naming the pass."""
    from pyspark.sql.connect.client.core import SparkConnectClient

    from lakesmith.engine.semantics import plan_rewrite

    inside = threading.local()
    sent: list[str] = []
    lock = threading.Lock()
    analyze = SparkConnectClient._analyze

    def counted(self: Any, method: str, **kwargs: Any) -> Any:
        name = getattr(inside, "name", None)
        if name is not None:
            with lock:
                sent.append(name)
        return analyze(self, method, **kwargs)

    def tracked(name: str) -> None:
        original = getattr(plan_rewrite, name)

        def run(*args: Any) -> Any:
            inside.name = name
            try:
                return original(*args)
            finally:
                inside.name = None

        monkeypatch.setattr(plan_rewrite, name, run)

    monkeypatch.setattr(SparkConnectClient, "_analyze", counted)
    tracked("normalize_float_keys_plan")
    tracked("normalize_float_keys_sql")
    return sent


@pytest.mark.parametrize("variant", ["python", "sql"])
def test_the_medallion_update_with_new_data_probes_few_key_types(
        tmp_path: Path, sail_url: str, float_key_probes: list[str], variant: str) -> None:
    root = create_project(tmp_path, "shop")
    project = Project(root if variant == "python" else root / "sql", sail_url)
    assert project.run().state == UpdateState.COMPLETED
    load_generator(root / "generate.py").generate(root / "data" / "landing", more=True)
    float_key_probes.clear()
    assert project.run().state == UpdateState.COMPLETED
    if variant == "python":
        # Before: 8 (silver_orders 4: its deduplication's anti-join and first-row plans;
        # gold_customer_orders 3, gold_daily_revenue 1: their reads of silver_orders, the
        # aggregate and the projection joined; the last, gold_daily_revenue's GROUP_AGGREGATE
        # refresh grouping the appended rows of silver_orders: a relation whose schema is the
        # table's, known since from its Delta log)
        assert float_key_probes == []
    else:
        # Before: 3. Left: gold_customer_orders' JOIN ... ON keys (a subquery joined to a
        # table); gold_daily_revenue's GROUP BY over the appended rows asks nothing (as above)
        assert float_key_probes == ["normalize_float_keys_sql"]


def test_known_schemas_are_the_engines(spark: Any, tmp_path: Path) -> None:
    """The schemas told without the engine (`known_schemas`) are the ones it analyses: a table
    read by name, renamed and kept columns, a GROUP BY with count, sum and max."""
    from pyspark.sql.connect import functions as F

    from lakesmith.engine.plans import relation_of
    from lakesmith.engine.semantics.known_schemas import known_schema, known_sql_schema

    spark.sql("SELECT CAST(id AS INT) AS k, CAST(id AS DOUBLE) AS d, CAST(id AS DECIMAL(10,2)) "
              "AS m, CAST(id AS STRING) AS s FROM range(3)").write.format("delta") \
        .save(str(tmp_path / "t"))
    spark.sql(f"CREATE TABLE known_t USING delta LOCATION '{tmp_path / 't'}'")
    table = spark.table("known_t")
    tables = {"known_t": table.schema}.get
    plans = [table, table.alias("x").select("x.k", F.col("d").alias("e"), "*"),
             table.where("k > 0").groupBy("k", "s").agg(
                 F.count("d").alias("n"), F.sum("m").alias("total"), F.sum("k").alias("ks"),
                 F.sum("d").alias("ds"), F.max("m").alias("top"))]
    for df in plans:  # names and types (what the key pass reads), not nullability
        known = known_schema(relation_of(df), tables)
        assert known is not None
        assert [(f.name, f.dataType) for f in known.fields] == \
            [(f.name, f.dataType) for f in df.schema.fields]
    assert known_schema(relation_of(table.select((F.col("k") / 2).alias("h"))), tables) is None
    by_engine_name = {"`default`.`known_t`": table.schema}.get
    text = "SELECT k, x.d, m FROM `default`.`known_t` AS x"
    known = known_sql_schema(text, by_engine_name)
    assert known is not None
    assert [(f.name, f.dataType) for f in known.fields] == \
        [(f.name, f.dataType) for f in spark.sql(text).schema.fields]
    for other in ("SELECT k / 2 FROM `default`.`known_t`", "SELECT K FROM `default`.`known_t`",
                  "SELECT k FROM `default`.`known_t` a JOIN `default`.`known_t` b ON true"):
        assert known_sql_schema(other, by_engine_name) is None


def test_known_drops_struct_fields_and_fixed_functions_are_the_engines(spark: Any) -> None:
    """A bronze batch's plan (`select("*", col("_metadata.file_path").alias(...),
    current_timestamp().alias(...)).drop("_metadata")`) is known over its slice's columns, as
    the engine analyses it: the write asks no schema."""
    from pyspark.sql.connect import functions as F

    from lakesmith.engine.plans import relation_of
    from lakesmith.engine.semantics.known_schemas import known_schema, relation_key

    base = spark.sql("SELECT 'a' AS v, named_struct('file_path', 'p', 'file_size', 3L, "
                     "'inner', named_struct('d', DATE'2024-01-02')) AS _metadata")
    tables = {relation_key(relation_of(base).common.plan_id): base.schema}.get
    plans = [
        base.select("*", F.col("_metadata.file_path").alias("_source_file"),
                    F.current_timestamp().alias("_ingested_at")).drop("_metadata"),
        base.select(F.col("_METADATA.Inner.d").alias("d"), F.current_date().alias("today"),
                    F.col("_metadata").alias("m")).drop("nothing", "M"),
        base.drop(F.col("v")),
    ]
    for df in plans:
        known = known_schema(relation_of(df), tables)
        assert known is not None
        assert [(f.name, f.dataType) for f in known.fields] == \
            [(f.name, f.dataType) for f in df.schema.fields]
    for unknown in (base.select(F.col("_metadata.missing").alias("x")),
                    base.select(F.col("v.x").alias("x")),
                    base.select(F.col("_metadata.file_path")),  # its name is the engine's
                    base.select(F.current_timestamp())):
        assert known_schema(relation_of(unknown), tables) is None


def test_a_relation_of_known_schema_is_known_by_its_plan_id(spark: Any, tmp_path: Path) -> None:
    """Rows bound in place of a table's read (GROUP_AGGREGATE's appended rows) are known by
    the plan id of their root, and as the temporary view SQL text reads them by: the
    aggregation over them is typed as the engine types it, with no round trip."""
    from pyspark.sql.connect import functions as F

    from lakesmith.engine.plans import relation_of
    from lakesmith.engine.semantics.known_schemas import (
        known_schema,
        known_sql_schema,
        relation_key,
    )

    spark.sql("SELECT CAST(id AS DOUBLE) AS d, CAST(id AS INT) AS k FROM range(3)") \
        .write.format("delta").save(str(tmp_path / "t"))
    rows = spark.read.format("delta").load(str(tmp_path / "t")).where("k > 0")
    tables = {relation_key(relation_of(rows).common.plan_id): rows.schema}.get
    grouped = rows.groupBy("d").agg(F.count("k").alias("n"), F.sum("k").alias("s"))
    known = known_schema(relation_of(grouped), tables)
    assert known is not None
    assert [(f.name, f.dataType) for f in known.fields] == \
        [(f.name, f.dataType) for f in grouped.schema.fields]
    assert known_schema(relation_of(grouped), {}.get) is None  # a Delta path: not known
    rows.createOrReplaceTempView("known_rows")
    text = "SELECT d, k FROM `known_rows` AS t"
    known = known_sql_schema(text, {"`known_rows`": rows.schema}.get)
    assert known is not None
    assert [(f.name, f.dataType) for f in known.fields] == \
        [(f.name, f.dataType) for f in spark.sql(text).schema.fields]
    assert known_sql_schema(text, {}.get) is None


def test_argument_types_of_known_columns_are_not_probed(spark: Any, tmp_path: Path,
                                                        schema_requests: list[str]) -> None:
    """A rule that needs an argument's type (a BIGINT `sum`, Spark's overflow) reads it from
    the input's known schema when the argument is a column of it: no analysis round trip. The
    rewrite is the one a probe gives."""
    from pyspark.sql.connect import functions as F

    from lakesmith.engine.plans import relation_of
    from lakesmith.engine.semantics import spark_semantics

    spark.sql("SELECT CAST(id AS BIGINT) AS n, CAST(id % 2 AS STRING) AS k FROM range(4)") \
        .write.format("delta").save(str(tmp_path / "t"))
    spark.sql(f"CREATE TABLE known_n USING delta LOCATION '{tmp_path / 't'}'")
    table = spark.table("known_n")
    query = relation_of(table.groupBy("k").agg(F.sum("n").alias("s")))
    tables = {"known_n": table.schema}.get
    schema_requests.clear()
    known = spark_semantics(spark, query, tables=tables)
    assert schema_requests == []
    probed = spark_semantics(spark, query)
    assert schema_requests  # the same plan without known schemas: probed
    assert known == probed  # (the sum computed exactly, as Spark fails on overflow)
    assert known != query


def test_a_struct_field_is_not_taken_for_the_column_of_its_name() -> None:
    """`a.b` reads the field `b` of the struct column `a`, not a column `b`: its type is not
    known from the schema (a probe finds it), while `t.b` (a qualifier) is the column `b`."""
    from pyspark.sql.connect import proto
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    from lakesmith.engine.semantics.known_schemas import column_field

    schema = StructType([StructField("a", StructType([StructField("b", StringType())])),
                         StructField("b", IntegerType())])

    def column(identifier: str) -> proto.Expression:
        expression = proto.Expression()
        expression.unresolved_attribute.unparsed_identifier = identifier
        return expression

    assert column_field(column("a.b"), schema) is None
    assert column_field(column("A.b"), schema) is None
    found = column_field(column("t.b"), schema)
    assert found is not None and found.dataType == IntegerType()
    assert column_field(column("b"), schema).dataType == IntegerType()  # type: ignore[union-attr]


def test_a_parquet_read_with_a_declared_schema_is_known(spark: Any, tmp_path: Path) -> None:
    """A Delta stream's slice is a Parquet read of its files with the table's schema: its
    columns' types are the declared ones (the engine agrees), so casts over them are typed
    without a probe; a CHAR/VARCHAR schema, or no schema, is left to the engine."""
    from pyspark.sql.connect import functions as F
    from pyspark.sql.types import StructField, StructType, VarcharType

    from lakesmith.engine.plans import relation_of
    from lakesmith.engine.semantics.known_schemas import column_field, known_schema

    spark.sql("SELECT CAST(id AS STRING) AS s, CAST(id AS DECIMAL(10,2)) AS m, "
              "named_struct('a', id) AS st FROM range(3)").write.parquet(str(tmp_path / "p"))
    declared = StructType.fromDDL("s STRING, m DECIMAL(10,2), st STRUCT<a: BIGINT>")
    read = spark.read.schema(declared).parquet(str(tmp_path / "p"))
    plan = read.select("s", F.col("m").alias("n"), "st").where("s IS NOT NULL")
    known = known_schema(relation_of(plan), {}.get)
    assert known is not None
    assert [(f.name, f.dataType) for f in known.fields] == \
        [(f.name, f.dataType) for f in plan.schema.fields]
    column = F.col("n")._expr.to_plan(None)
    found = column_field(column, known)
    assert found is not None and found.dataType == plan.select("n").schema.fields[0].dataType
    assert column_field(F.col("st.a")._expr.to_plan(None), known) is None  # a field
    for other in (spark.read.schema(StructType([StructField("s", VarcharType(3))])).parquet(
                      str(tmp_path / "p")),
                  spark.read.parquet(str(tmp_path / "p"))):
        assert known_schema(relation_of(other), {}.get) is None


def test_casts_of_a_streams_columns_are_typed_without_probes(
        tmp_path: Path, sail_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """silver_orders casts the columns of bronze_orders' batch slice (a Parquet read with the
    table's schema): no argument-type probe is sent for them in the update with new data
    (there were two per batch)."""
    from lakesmith.engine.semantics import plan_rewrite

    probed: list[str] = []
    argument_type = plan_rewrite._argument_type

    def recorded(input_df: Any, column: Any) -> Any:
        known = input_df.known_type(column._expr.to_plan(None))
        if known is None:
            probed.append(str(column))
        return argument_type(input_df, column)

    root = create_project(tmp_path, "shop")
    project = Project(root, sail_url)
    assert project.run().state == UpdateState.COMPLETED
    load_generator(root / "generate.py").generate(root / "data" / "landing", more=True)
    monkeypatch.setattr(plan_rewrite, "_argument_type", recorded)
    assert project.run().state == UpdateState.COMPLETED
    assert not [p for p in probed if "order_id" in p or "amount" in p or "customer_id" in p]


def test_named_casts_are_known_as_the_engine_types_them(spark: Any, tmp_path: Path) -> None:
    """A projection of columns cast and named (an AUTO CDC source view typing its change feed:
    `col("id").cast("bigint").alias("id")`) is known without the engine, with the engine's
    types; a cast the engine names itself, a `try_cast`, a TIMESTAMP by name (the session's
    `spark.sql.timestampType` says which) or a computed value are not."""
    from pyspark.sql.connect import functions as F
    from pyspark.sql.types import DecimalType, IntegerType

    from lakesmith.engine.plans import relation_of
    from lakesmith.engine.semantics.known_schemas import known_schema

    spark.sql("SELECT CAST(id AS STRING) AS s, id AS n, current_date() AS d FROM range(3)") \
        .write.format("delta").save(str(tmp_path / "t"))
    spark.sql(f"CREATE TABLE known_c USING delta LOCATION '{tmp_path / 't'}'")
    table = spark.table("known_c")
    tables = {"known_c": table.schema}.get
    cast = table.select(F.col("s").cast("bigint").alias("s"), "n",
                        F.col("n").cast("decimal(12, 3)").alias("m"),
                        F.col("s").cast(IntegerType()).alias("i"),
                        F.col("n").cast(DecimalType(20, 2)).alias("p"),
                        F.col("n").cast("string").alias("t"), F.col("d").cast("date").alias("e"),
                        F.col("n").cast("double").alias("f"), F.col("n").cast("boolean").alias("b"))
    known = known_schema(relation_of(cast), tables)
    assert known is not None
    assert [(f.name, f.dataType) for f in known.fields] == \
        [(f.name, f.dataType) for f in cast.schema.fields]
    for other in (table.select(F.col("s").cast("bigint")),
                  table.select(F.col("s").try_cast("bigint").alias("s")),
                  table.select(F.col("s").cast("timestamp").alias("s")),
                  table.select((F.col("n") + 1).cast("bigint").alias("n"))):
        assert known_schema(relation_of(other), tables) is None
