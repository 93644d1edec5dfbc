-- Silver: paid orders with their customer's country, checked on the way in.
CREATE OR REFRESH STREAMING TABLE silver_orders (
  CONSTRAINT paid EXPECT (status IS NOT NULL) ON VIOLATION DROP ROW,
  CONSTRAINT positive_amount EXPECT (amount > 0)
)
COMMENT 'Paid orders with their customer country.'
TBLPROPERTIES ('lakesmith.quarantine' = 'true')
AS SELECT o.order_id, o.customer_id, c.country, o.amount, o.status, o.ordered_at
FROM STREAM(bronze_orders) o
JOIN bronze_customers c ON o.customer_id = c.customer_id;
