"""lakesmith: declarative lakehouse pipelines (Spark Declarative Pipelines, Databricks DLT) on Delta
Lake, run locally on an embedded Sail engine or on any Spark Connect endpoint."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# The expectation decorators for `pyspark.pipelines` users, imported on first use: the command
# line imports this package first and must not wait for pyspark to set up its Ctrl-C handling.
_EXPECTATIONS = ("expect", "expect_all", "expect_all_or_drop", "expect_all_or_fail",
                 "expect_or_drop", "expect_or_fail")

__all__ = ["__version__", "session", *_EXPECTATIONS]


def __getattr__(name: str) -> Any:
    if name == "session":  # lakesmith.session(): a Spark session on the project's engine
        from lakesmith.user_session import session

        return session
    if name in _EXPECTATIONS:
        from lakesmith.authoring import expectations

        return getattr(expectations, name)
    raise AttributeError(f"module 'lakesmith' has no attribute {name!r}")
