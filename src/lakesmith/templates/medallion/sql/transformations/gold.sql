-- Gold: revenue per day, orders per customer, and the customers as they are now.

CREATE OR REFRESH MATERIALIZED VIEW gold_daily_revenue
COMMENT 'Revenue and number of orders per order date.'
AS SELECT order_date, sum(amount) AS revenue, count(order_id) AS orders
FROM silver_orders
GROUP BY order_date;

CREATE OR REFRESH MATERIALIZED VIEW gold_current_customers
COMMENT 'The current version of each customer that is not deleted.'
AS SELECT customer_id, name, email, country
FROM silver_customers
WHERE __END_AT IS NULL;

CREATE OR REFRESH MATERIALIZED VIEW gold_customer_orders
COMMENT 'Orders and revenue per customer, with the customer''s current country.'
AS SELECT o.customer_id, o.orders, o.revenue, o.last_order_date, c.name, c.country
FROM (
  SELECT customer_id, count(order_id) AS orders, sum(amount) AS revenue,
    max(order_date) AS last_order_date
  FROM silver_orders
  GROUP BY customer_id
) o
LEFT JOIN gold_current_customers c ON o.customer_id = c.customer_id;
