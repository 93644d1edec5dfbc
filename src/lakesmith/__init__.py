"""lakesmith: declarative lakehouse pipelines (Spark Declarative Pipelines, Databricks DLT) on Delta
Lake, run locally on an embedded Sail engine or on any Spark Connect endpoint."""

__version__ = "0.1.0"

from lakesmith.authoring.expectations import (  # noqa: E402  (public API for pyspark.pipelines users)
    expect,
    expect_all,
    expect_all_or_drop,
    expect_all_or_fail,
    expect_or_drop,
    expect_or_fail,
)

__all__ = [
    "__version__",
    "expect",
    "expect_all",
    "expect_all_or_drop",
    "expect_all_or_fail",
    "expect_or_drop",
    "expect_or_fail",
]
