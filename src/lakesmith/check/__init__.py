"""`lakesmith check --against spark`: the user's pipeline computed by the embedded engine and by
Apache Spark, dataset by dataset, on the same input snapshot."""
