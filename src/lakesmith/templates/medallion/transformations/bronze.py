"""Bronze: raw data as it arrives.

Orders stream in from the Delta table data/orders (append to it and run again: only the new rows
are processed). Customers come from a CSV file, recomputed on each run.
"""

from pyspark import pipelines as dp
from pyspark.sql import DataFrame


@dp.table(comment="Raw orders, as received.")
def bronze_orders() -> DataFrame:
    return spark.readStream.format("delta").load("data/orders")


@dp.materialized_view(comment="Customers, loaded from data/customers.csv.")
def bronze_customers() -> DataFrame:
    return spark.read.option("header", "true").schema(
        "customer_id BIGINT, name STRING, country STRING"
    ).csv("data/customers.csv")
