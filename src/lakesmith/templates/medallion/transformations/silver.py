"""Silver: typed, checked and deduplicated orders; customers with their history (SCD type 2)."""

import dlt
from pyspark.sql.functions import col, expr, to_date


@dlt.table(comment="Orders with types, each order_id once; no orders without a customer or amount.")
@dlt.expect_or_drop("positive_amount", "amount > 0")
@dlt.expect_or_drop("known_customer", "customer_id IS NOT NULL")
def silver_orders():
    return (dlt.read_stream("bronze_orders")
            .select(col("order_id").cast("bigint").alias("order_id"),
                    col("customer_id").cast("bigint").alias("customer_id"),
                    col("amount").cast("decimal(10,2)").alias("amount"),
                    col("currency"),
                    col("order_timestamp").cast("timestamp").alias("order_timestamp"),
                    to_date("order_timestamp").alias("order_date"),
                    col("channel"))
            .dropDuplicates(["order_id"]))


@dlt.view(comment="Customer changes with types, for AUTO CDC.")
def customer_changes():
    return dlt.read_stream("bronze_customers").select(
        col("customer_id").cast("bigint").alias("customer_id"), "name", "email", "country",
        "operation", col("sequence_num").cast("bigint").alias("sequence_num"))


dlt.create_streaming_table("silver_customers",
                           comment="Every version of every customer (SCD type 2).")
dlt.create_auto_cdc_flow(
    target="silver_customers",
    source="customer_changes",
    keys=["customer_id"],
    sequence_by=col("sequence_num"),
    apply_as_deletes=expr("operation = 'DELETE'"),
    except_column_list=["operation", "sequence_num"],
    stored_as_scd_type=2,
)
