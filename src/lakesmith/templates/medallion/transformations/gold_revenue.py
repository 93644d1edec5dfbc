"""Gold: revenue per country, ready for a dashboard."""

from pyspark import pipelines as dp
from pyspark.sql import DataFrame
from pyspark.sql import functions as F


@dp.materialized_view(comment="Revenue and order count per country.")
def gold_revenue_by_country() -> DataFrame:
    return (
        spark.read.table("silver_orders")
        .groupBy("country")
        .agg(F.count("*").alias("orders"), F.round(F.sum("amount"), 2).alias("revenue"))
    )
