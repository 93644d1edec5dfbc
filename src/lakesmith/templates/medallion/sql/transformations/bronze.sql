-- Bronze: the landing files as they arrived, one row per JSON line, ingested once by Auto Loader.
-- The schema is inferred (every column a string) and stored with the flow's checkpoint.

CREATE OR REFRESH STREAMING TABLE bronze_orders
COMMENT 'Raw order events from data/landing/orders, as received.'
AS SELECT *, _metadata.file_path AS _source_file, current_timestamp() AS _ingested_at
FROM STREAM read_files('${medallion.landing}/orders', format => 'json');

CREATE OR REFRESH STREAMING TABLE bronze_customers
COMMENT 'Raw customer changes (upserts and deletes) from data/landing/customers.'
AS SELECT *, _metadata.file_path AS _source_file, current_timestamp() AS _ingested_at
FROM STREAM read_files('${medallion.landing}/customers', format => 'json');
