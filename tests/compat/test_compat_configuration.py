"""The spec's `configuration` reaches sources as on Databricks: `spark.conf.get` (with and without a
default), `dbutils.widgets.get`, `${key}` and `SET` in SQL; an undefined key names file and line."""

from __future__ import annotations

from pathlib import Path

from compat_helpers import completed, load_error

from lakesmith.errors import GraphValidationError, SourceLoadError, SqlDefinitionError


def test_configuration_through_spark_conf_widgets_and_sql(project, spark, tmp_path: Path) -> None:
    source = tmp_path / "customers"
    spark.createDataFrame([(1, "ann", "eu"), (2, "bob", "us"), (3, "cid", "eu")],
                          "id BIGINT, name STRING, region STRING"
                          ).write.format("delta").save(str(source))
    project.write_spec(configuration={"source.path": str(source), "region": "eu",
                                      "target.suffix": "eu"})
    project.write("transformations/customers.py", """
        import dlt

        path = spark.conf.get("source.path")
        region = dbutils.widgets.get("region")
        label = spark.conf.get("label", "default label")

        @dlt.table(name=f"customers_{spark.conf.get('target.suffix')}")
        def customers():
            return (spark.read.format("delta").load(path).where(f"region = '{region}'")
                    .selectExpr("id", "name", f"'{label}' AS label"))
    """)
    project.write("transformations/names.sql", """
        SET min.id = 2;
        SET shown.key;
        CREATE LIVE TABLE names_${target.suffix} AS
        SELECT name FROM LIVE.customers_${target.suffix} WHERE id >= ${min.id}
    """)
    completed(project.run())
    assert project.rows("customers_eu", order_by="id") == [
        {"id": 1, "name": "ann", "label": "default label"},
        {"id": 3, "name": "cid", "label": "default label"}]
    assert project.rows("names_eu") == [{"name": "cid"}]


def test_undefined_sql_variable_names_file_line_and_key(project) -> None:
    project.write_spec(configuration={"known": "1"})
    path = project.write("transformations/t.sql", """
        -- Databricks notebook source
        CREATE LIVE TABLE t AS SELECT ${known} AS a

        -- COMMAND ----------

        CREATE LIVE TABLE u AS
        SELECT * FROM ${source.table}
    """)
    error = load_error(project, SqlDefinitionError)
    assert error.message == (
        f"{path}:7: ${{source.table}} is not defined: 'source.table' is neither in the pipeline "
        "configuration nor SET earlier in this file")
    assert error.hint == ("add it under `configuration:` in the pipeline spec, or SET it "
                                "before use.")


def test_spark_conf_get_without_default_names_file_line_and_key(project) -> None:
    project.write_spec()
    path = project.write("transformations/t.py", """
        import dlt

        landing = spark.conf.get("landing.path")
    """)
    error = load_error(project, SourceLoadError)
    assert error.message == (
        f"{path}:3: spark.conf.get('landing.path'): 'landing.path' is not in the pipeline "
        "configuration and no default was given; add `landing.path: ...` under `configuration:` "
        "in the spec, or pass a default: spark.conf.get('landing.path', 'value').")


def test_spark_conf_get_inside_a_query_function_names_its_line(project) -> None:
    project.write_spec()
    path = project.write("transformations/t.py", """
        import dlt

        @dlt.table
        def t():
            return spark.range(int(spark.conf.get("rows")))
    """)
    error = load_error(project, GraphValidationError)
    (problem,) = error.problems
    assert str(problem).startswith(f"{path}:5: spark.conf.get('rows'): 'rows' is not in the "
                                   "pipeline configuration")


def test_widget_that_is_not_configured_names_file_and_line(project) -> None:
    project.write_spec()
    path = project.write("transformations/t.py", """
        import dlt

        env = dbutils.widgets.get("env")
    """)
    error = load_error(project, SourceLoadError)
    assert error.message == (
        f"{path}:3: dbutils.widgets.get('env'): 'env' is not in the pipeline configuration.")
