"""lakesmith: declarative lakehouse pipelines (Spark Declarative Pipelines, Databricks DLT) on Delta
Lake, run locally on an embedded Sail engine or on any Spark Connect endpoint."""

__version__ = "0.1.0"
