-- Silver: cleaned orders joined with their customer.
CREATE MATERIALIZED VIEW silver_orders
COMMENT 'Paid orders with their customer country.'
AS SELECT o.order_id, o.customer_id, c.country, o.amount
FROM bronze_orders o
JOIN bronze_customers c ON o.customer_id = c.customer_id
WHERE o.status IS NOT NULL;
