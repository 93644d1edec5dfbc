"""The medallion example written for Apache Spark 4.3's `spark-pipelines` (`pyspark.pipelines`),
for the benchmark. Differences from `examples/medallion`, each forced by what open-source Spark has:

- bronze reads the landing folders with Spark's streaming JSON source (no Auto Loader), its schema
  inferred by Spark (`spark.sql.streaming.schemaInference`), the file from `_metadata.file_path`;
- no expectations in `pyspark.pipelines`: silver filters the same rows out with `where`;
- AUTO CDC needs a table format with MERGE (Delta or Iceberg jars cannot be installed here, so the
  tables are Parquet): `silver_customers` is the same SCD type 2 history computed as a
  materialized view from all customer changes with window functions (the engine floor's query).
"""

from pyspark import pipelines as dp
from pyspark.sql import Window
from pyspark.sql import functions as F

LANDING = spark.conf.get("medallion.landing")


def landing_files(folder: str):
    return (spark.readStream.format("json").load(f"{LANDING}/{folder}")
            .select("*", F.col("_metadata.file_path").alias("_source_file"),
                    F.current_timestamp().alias("_ingested_at")))


@dp.table
def bronze_orders():
    return landing_files("orders")


@dp.table
def bronze_customers():
    return landing_files("customers")


@dp.table
def silver_orders():
    return (spark.readStream.table("bronze_orders")
            .select(F.col("order_id").cast("bigint").alias("order_id"),
                    F.col("customer_id").cast("bigint").alias("customer_id"),
                    F.col("amount").cast("decimal(10,2)").alias("amount"),
                    F.col("currency"),
                    F.col("order_timestamp").cast("timestamp").alias("order_timestamp"),
                    F.to_date("order_timestamp").alias("order_date"),
                    F.col("channel"))
            .dropDuplicates(["order_id"])
            .where("amount > 0 AND customer_id IS NOT NULL"))


@dp.materialized_view
def silver_customers():
    changes = spark.read.table("bronze_customers").select(
        F.col("customer_id").cast("bigint").alias("customer_id"), "name", "email", "country",
        "operation", F.col("sequence_num").cast("bigint").alias("sequence_num"))
    by_key = Window.partitionBy("customer_id").orderBy("sequence_num")
    values = F.struct("name", "email", "country")
    boundaries = (changes
                  .withColumn("_previous_operation", F.lag("operation").over(by_key))
                  .withColumn("_previous_values", F.lag(values).over(by_key))
                  .where("operation = 'DELETE' OR _previous_operation IS NULL "
                         "OR _previous_operation = 'DELETE' "
                         "OR _previous_values != struct(name, email, country)"))
    return (boundaries
            .withColumn("__END_AT", F.lead("sequence_num").over(by_key))
            .where("operation != 'DELETE'")
            .select("customer_id", "name", "email", "country",
                    F.col("sequence_num").alias("__START_AT"), "__END_AT"))


@dp.materialized_view
def gold_daily_revenue():
    return (spark.read.table("silver_orders").groupBy("order_date")
            .agg(F.sum("amount").alias("revenue"), F.count("order_id").alias("orders")))


@dp.materialized_view
def gold_current_customers():
    return (spark.read.table("silver_customers").where("__END_AT IS NULL")
            .select("customer_id", "name", "email", "country"))


@dp.materialized_view
def gold_customer_orders():
    orders = (spark.read.table("silver_orders").groupBy("customer_id")
              .agg(F.count("order_id").alias("orders"), F.sum("amount").alias("revenue"),
                   F.max("order_date").alias("last_order_date")))
    customers = spark.read.table("gold_current_customers").select("customer_id", "name", "country")
    return orders.join(customers, "customer_id", "left")
