"""Spark's answers from the embedded engine: rewrites of SQL text and Connect plans where the
engine computes something else, and clear refusals where lakesmith cannot rewrite."""

from lakesmith.engine.semantics.plan_rewrite import spark_semantics

__all__ = ["spark_semantics"]
