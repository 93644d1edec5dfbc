-- Silver: typed, checked and deduplicated orders; customers with their history (SCD type 2).

-- Typed and checked order events. Kept as a table (not a view) because AUTO CDC below takes its
-- expectations from an intermediate table, as Databricks documents for AUTO CDC sources.
CREATE OR REFRESH STREAMING TABLE silver_order_events (
  CONSTRAINT positive_amount EXPECT (amount > 0) ON VIOLATION DROP ROW,
  CONSTRAINT known_customer EXPECT (customer_id IS NOT NULL) ON VIOLATION DROP ROW
)
COMMENT 'Order events with types; no events without a customer or a positive amount.'
AS SELECT
  CAST(order_id AS BIGINT) AS order_id,
  CAST(customer_id AS BIGINT) AS customer_id,
  CAST(amount AS DECIMAL(10, 2)) AS amount,
  currency,
  CAST(order_timestamp AS TIMESTAMP) AS order_timestamp,
  to_date(order_timestamp) AS order_date,
  channel
FROM STREAM(bronze_orders);

-- SQL has no dropDuplicates (and a stream's SELECT DISTINCT is refused, as in Spark): AUTO CDC
-- keyed by order_id keeps each order once, across runs. A re-sent event is an exact copy of the
-- original, so which copy is kept does not matter.
CREATE OR REFRESH STREAMING TABLE silver_orders
COMMENT 'Orders with types, each order_id once; no orders without a customer or amount.';

CREATE FLOW silver_orders_dedup AS AUTO CDC INTO silver_orders
FROM STREAM(silver_order_events)
KEYS (order_id)
SEQUENCE BY order_timestamp
STORED AS SCD TYPE 1;

CREATE TEMPORARY VIEW customer_changes
COMMENT 'Customer changes with types, for AUTO CDC.'
AS SELECT CAST(customer_id AS BIGINT) AS customer_id, name, email, country, operation,
  CAST(sequence_num AS BIGINT) AS sequence_num
FROM STREAM(bronze_customers);

CREATE OR REFRESH STREAMING TABLE silver_customers
COMMENT 'Every version of every customer (SCD type 2).';

CREATE FLOW silver_customers_cdc AS AUTO CDC INTO silver_customers
FROM STREAM(customer_changes)
KEYS (customer_id)
APPLY AS DELETE WHEN operation = 'DELETE'
SEQUENCE BY sequence_num
COLUMNS * EXCEPT (operation, sequence_num)
STORED AS SCD TYPE 2;
