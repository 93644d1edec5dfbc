"""Bronze: raw data as it arrives. Orders are generated here; customers come from a CSV file."""

from pyspark import pipelines as dp
from pyspark.sql import DataFrame


@dp.materialized_view(comment="Raw orders, as received.")
def bronze_orders() -> DataFrame:
    return spark.range(0, 1000).selectExpr(
        "id AS order_id",
        "id % 5 AS customer_id",
        "CAST(id % 97 AS DOUBLE) + 0.5 AS amount",
        "CASE WHEN id % 50 = 0 THEN NULL ELSE 'PAID' END AS status",
    )


@dp.materialized_view(comment="Customers, loaded from data/customers.csv.")
def bronze_customers() -> DataFrame:
    return spark.read.option("header", "true").schema(
        "customer_id BIGINT, name STRING, country STRING"
    ).csv("data/customers.csv")
