"""Gold: revenue per day, orders per customer, and the customers as they are now."""

import dlt
from pyspark.sql import functions as F


@dlt.table(comment="Revenue and number of orders per order date.")
def gold_daily_revenue():
    return (dlt.read("silver_orders")
            .groupBy("order_date")
            .agg(F.sum("amount").alias("revenue"), F.count("order_id").alias("orders")))


@dlt.table(comment="The current version of each customer that is not deleted.")
def gold_current_customers():
    return (dlt.read("silver_customers")
            .where("__END_AT IS NULL")
            .select("customer_id", "name", "email", "country"))


@dlt.table(comment="Orders and revenue per customer, with the customer's current country.")
def gold_customer_orders():
    orders = (dlt.read("silver_orders")
              .groupBy("customer_id")
              .agg(F.count("order_id").alias("orders"), F.sum("amount").alias("revenue"),
                   F.max("order_date").alias("last_order_date")))
    customers = dlt.read("gold_current_customers").select("customer_id", "name", "country")
    return orders.join(customers, "customer_id", "left")
