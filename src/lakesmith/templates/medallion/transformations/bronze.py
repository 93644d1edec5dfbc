"""Bronze: the landing files as they arrived, one row per JSON line, ingested once by Auto Loader.

The schema is inferred from the files (every column a string, as Auto Loader does for JSON) and
stored with the flow's checkpoint; values that do not fit it land in `_rescued_data`.
"""

import dlt
from pyspark.sql.functions import col, current_timestamp

LANDING = spark.conf.get("medallion.landing")


def landing_files(folder: str):
    """New JSON files in a landing folder, with the file each row came from and when it was read."""
    return (spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", "json")
            .load(f"{LANDING}/{folder}")
            .select("*", col("_metadata.file_path").alias("_source_file"),
                    current_timestamp().alias("_ingested_at")))


@dlt.table(comment="Raw order events from data/landing/orders, as received.")
def bronze_orders():
    return landing_files("orders")


@dlt.table(comment="Raw customer changes (upserts and deletes) from data/landing/customers.")
def bronze_customers():
    return landing_files("customers")
