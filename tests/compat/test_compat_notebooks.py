"""Databricks notebooks exported as source files load unchanged: cells, `# MAGIC` lines, SQL
statements that end at a cell boundary, comments anywhere, names with spaces."""

from __future__ import annotations

from pathlib import Path

import pytest
from compat_helpers import completed, landing_file, load_error, source_warnings

from lakesmith.authoring.source_warnings import SourceWarning
from lakesmith.errors import SourceLoadError, SqlDefinitionError
from lakesmith.locations import folder_name

PYTHON_NOTEBOOK = '''
# Databricks notebook source
# MAGIC %md
# MAGIC # Orders pipeline
# MAGIC Bronze from the landing folder, silver cleaned, gold per customer.

# COMMAND ----------

# MAGIC %pip install some-package==1.0

# COMMAND ----------

import dlt
from pyspark.sql.functions import col, sum as sum_

landing = spark.conf.get("orders.landing")
min_qty = int(spark.conf.get("orders.min_qty", "1"))

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT * FROM somewhere_else

# COMMAND ----------

@dlt.table(comment="raw orders")
def bronze_orders():
    return (spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", "json")
            .option("cloudFiles.inferColumnTypes", "true")
            .load(landing))

# COMMAND ----------

@dlt.table
@dlt.expect_or_drop("enough", f"qty >= {min_qty}")
def silver_orders():
    return dlt.read_stream("bronze_orders").select("id", "customer", "qty")

# COMMAND ----------

# MAGIC %run ./shared/helpers

# COMMAND ----------

@dlt.table
def gold_customers():
    return (dlt.read("silver_orders").groupBy("customer")
            .agg(sum_(col("qty")).alias("total_qty")))
'''


def test_python_notebook_with_cells_and_magic_runs(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing zone"
    landing_file(landing, "a.json", [{"id": 1, "customer": "ann", "qty": 2},
                                     {"id": 2, "customer": "bob", "qty": 0},
                                     {"id": 3, "customer": "ann", "qty": 5}], 1_700_000_000)
    project.write_spec(configuration={"orders.landing": str(landing)})
    notebook = project.write("transformations/My Notebooks/Orders Pipeline.py", PYTHON_NOTEBOOK)
    with pytest.warns(SourceWarning) as record:
        result = project.run()
    completed(result)
    assert project.rows("silver_orders", order_by="id") == [
        {"id": 1, "customer": "ann", "qty": 2}, {"id": 3, "customer": "ann", "qty": 5}]
    assert project.rows("gold_customers") == [{"customer": "ann", "total_qty": 7}]
    # %pip and %run do nothing here: each is reported once with its line; %md and %sql cells are
    # ignored as on Databricks.
    assert source_warnings(record) == [
        f"{notebook}:8: `%pip install some-package==1.0` is not run in a pipeline: it installs "
        "Python packages on Databricks; install them in lakesmith's environment instead (e.g. "
        "`pip install ...`).",
        f"{notebook}:41: `%run ./shared/helpers` is not run in a pipeline: it runs another "
        "notebook on Databricks; list that file in the spec's `libraries` instead, or import it "
        "as a Python module.",
    ]


SQL_NOTEBOOK = """
-- Databricks notebook source
-- MAGIC %md
-- MAGIC ## Sales, in SQL cells without semicolons

-- COMMAND ----------

SET sales.min_amount = 10

-- COMMAND ----------

/* Bronze: Auto Loader
   over the configured landing folder */
CREATE OR REFRESH STREAMING LIVE TABLE bronze_sales
COMMENT "raw sales"   -- comment at the end of a line
AS SELECT * FROM cloud_files("${sales.landing}", "json",
                             map("cloudFiles.inferColumnTypes", "true"))

-- COMMAND ----------

-- Silver, with an expectation
CREATE OR REFRESH STREAMING LIVE TABLE silver_sales (
  CONSTRAINT big_enough EXPECT (amount >= ${sales.min_amount}) ON VIOLATION DROP ROW
)
AS SELECT id, store, amount FROM STREAM(LIVE.bronze_sales)

-- COMMAND ----------

CREATE TEMPORARY LIVE VIEW sales_by_store AS
SELECT store, sum(amount) AS total
FROM LIVE.silver_sales
GROUP BY store;

CREATE LIVE TABLE store_totals AS SELECT * FROM LIVE.sales_by_store

-- COMMAND ----------

-- MAGIC %python
-- MAGIC display(spark.table("store_totals"))

-- COMMAND ----------

CREATE INCREMENTAL LIVE TABLE `silver sales copy`
AS SELECT id FROM STREAM LIVE.silver_sales
"""


def test_sql_notebook_statements_end_at_cells(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1, "store": "north", "amount": 50},
                                     {"id": 2, "store": "south", "amount": 5},
                                     {"id": 3, "store": "north", "amount": 20},
                                     {"id": 4, "store": "south", "amount": 30}], 1_700_000_000)
    project.write_spec(configuration={"sales.landing": str(landing)})
    project.write("transformations/sql notebooks/Sales Pipeline.sql", SQL_NOTEBOOK)
    completed(project.run())
    assert project.rows("silver_sales", order_by="id") == [
        {"id": 1, "store": "north", "amount": 50}, {"id": 3, "store": "north", "amount": 20},
        {"id": 4, "store": "south", "amount": 30}]
    assert project.rows("store_totals", order_by="store") == [
        {"store": "north", "total": 70}, {"store": "south", "total": 30}]
    # A name with a space is stored in a safe folder name.
    assert project.rows(folder_name("silver sales copy"), order_by="id") == [
        {"id": 1}, {"id": 3}, {"id": 4}]


def test_python_cell_that_does_not_parse_names_file_line_and_cell(project) -> None:
    project.write_spec()
    path = project.write("transformations/nb.py", """
        # Databricks notebook source
        import dlt

        # COMMAND ----------

        @dlt.table
        def ok():
            return spark.range(1)

        # COMMAND ----------

        @dlt.table
        def broken(:
            return spark.range(1)
    """)
    error = load_error(project, SourceLoadError)
    assert error.message.startswith(f"{path}:13: syntax error (notebook cell 3):")


def test_sql_cell_that_does_not_parse_names_file_and_line(project) -> None:
    project.write_spec()
    path = project.write("transformations/nb.sql", """
        -- Databricks notebook source
        CREATE LIVE TABLE a AS SELECT 1 AS id

        -- COMMAND ----------

        CREATE LIVE TABLE b
        SELECT * FROM LIVE.a
    """)
    error = load_error(project, SqlDefinitionError)
    assert error.message == (
        f"{path}:7: expected AS after the materialized view name, found 'SELECT'")


def test_sql_notebook_cell_boundary_ends_a_statement_without_semicolon(project) -> None:
    # Without the notebook header the same text is one statement, and does not parse.
    project.write_spec()
    project.write("transformations/nb.sql", """
        -- Databricks notebook source
        CREATE LIVE TABLE a AS SELECT 1 AS id
        -- COMMAND ----------
        CREATE LIVE TABLE b AS SELECT id + 1 AS id FROM LIVE.a
    """)
    completed(project.run())
    assert project.rows("b") == [{"id": 2}]
    project.write("transformations/nb.sql", """
        CREATE LIVE TABLE a AS SELECT 1 AS id
        -- COMMAND ----------
        CREATE LIVE TABLE b AS SELECT id + 1 AS id FROM LIVE.a
    """)
    with pytest.raises(Exception, match="nb.sql"):
        with project.open():
            pass
