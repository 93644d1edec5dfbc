"""Loading pipeline sources (pyspark.pipelines, Databricks dlt, SQL) into graph definitions."""
