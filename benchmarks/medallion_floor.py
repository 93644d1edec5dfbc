"""The engine floor of the medallion example: the same transformations hand-written as plain
PySpark, no lakesmith, in one cold process. Runs on embedded Sail (the engine lakesmith uses,
Delta tables) or, with `--engine classic`, on Apache Spark in local mode (Parquet tables: Delta jars
cannot be installed here). Prints the time of each phase as JSON on its last line.

    python benchmarks/medallion_floor.py LANDING OUT [--engine sail|classic]

What a hand-written job skips that the pipeline does: no checkpoints, no event log, no
expectation counts, no `_source_file` (Sail has no `_metadata` column), no `_rescued_data`.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("RUST_LOG", "error")


def start(engine: str) -> tuple[object, object]:
    """A session on the engine, and what to stop after it (the embedded server, or None)."""
    if engine == "classic":
        from pyspark.sql import SparkSession

        spark = (SparkSession.builder.master("local[*]").appName("medallion-floor")
                 .config("spark.ui.enabled", "false").getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        return spark, None
    from pysail.spark import SparkConnectServer
    from pyspark.sql.connect.session import SparkSession as ConnectSession

    from lakesmith.engine.runtime_workers import give_engine_spare_workers

    give_engine_spare_workers()  # the engine as lakesmith sizes it (no effect on one query)
    server = SparkConnectServer(ip="127.0.0.1", port=0)
    server.start(background=True)
    host, port = server.listening_address
    return ConnectSession.builder.remote(f"sc://{host}:{port}").create(), server


def scd2(changes: object) -> object:
    """SCD type 2 history of all customer changes: a version opens at an upsert that follows
    nothing, a delete, or different values; it ends at the next such change or delete."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    by_key = Window.partitionBy("customer_id").orderBy("sequence_num")
    boundaries = (changes
                  .withColumn("_previous_operation", F.lag("operation").over(by_key))
                  .withColumn("_previous_values", F.lag(F.struct("name", "email", "country"))
                              .over(by_key))
                  .where("operation = 'DELETE' OR _previous_operation IS NULL "
                         "OR _previous_operation = 'DELETE' "
                         "OR _previous_values != struct(name, email, country)"))
    return (boundaries.withColumn("__END_AT", F.lead("sequence_num").over(by_key))
            .where("operation != 'DELETE'")
            .select("customer_id", "name", "email", "country",
                    F.col("sequence_num").alias("__START_AT"), "__END_AT"))


def run(spark: object, landing: str, out: str, table_format: str) -> None:
    from pyspark.sql import functions as F

    def write(frame: object, name: str) -> object:
        frame.write.format(table_format).mode("overwrite").save(f"{out}/{name}")
        return spark.read.format(table_format).load(f"{out}/{name}")

    bronze_orders = write(spark.read.json(f"{landing}/orders")
                          .withColumn("_ingested_at", F.current_timestamp()), "bronze_orders")
    bronze_customers = write(spark.read.json(f"{landing}/customers")
                             .withColumn("_ingested_at", F.current_timestamp()),
                             "bronze_customers")
    silver_orders = write(
        bronze_orders.select(F.col("order_id").cast("bigint").alias("order_id"),
                             F.col("customer_id").cast("bigint").alias("customer_id"),
                             F.col("amount").cast("decimal(10,2)").alias("amount"),
                             F.col("currency"),
                             F.col("order_timestamp").cast("timestamp").alias("order_timestamp"),
                             F.to_date("order_timestamp").alias("order_date"),
                             F.col("channel"))
        .dropDuplicates(["order_id"])
        .where("amount > 0 AND customer_id IS NOT NULL"), "silver_orders")
    changes = bronze_customers.select(
        F.col("customer_id").cast("bigint").alias("customer_id"), "name", "email", "country",
        "operation", F.col("sequence_num").cast("bigint").alias("sequence_num"))
    silver_customers = write(scd2(changes), "silver_customers")
    write(silver_orders.groupBy("order_date")
          .agg(F.sum("amount").alias("revenue"), F.count("order_id").alias("orders")),
          "gold_daily_revenue")
    current = write(silver_customers.where("__END_AT IS NULL")
                    .select("customer_id", "name", "email", "country"), "gold_current_customers")
    write(silver_orders.groupBy("customer_id")
          .agg(F.count("order_id").alias("orders"), F.sum("amount").alias("revenue"),
               F.max("order_date").alias("last_order_date"))
          .join(current.select("customer_id", "name", "country"), "customer_id", "left"),
          "gold_customer_orders")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("landing")
    parser.add_argument("out")
    parser.add_argument("--engine", choices=("sail", "classic"), default="sail")
    args = parser.parse_args()
    began = time.perf_counter()
    spark, server = start(args.engine)
    started = time.perf_counter()
    run(spark, args.landing, args.out, "delta" if args.engine == "sail" else "parquet")
    done = time.perf_counter()
    spark.stop()  # type: ignore[attr-defined]
    if server is not None:
        server.stop()  # type: ignore[attr-defined]
    print(json.dumps({"engine_start_s": round(started - began, 3),
                      "work_s": round(done - started, 3)}))


if __name__ == "__main__":
    main()
