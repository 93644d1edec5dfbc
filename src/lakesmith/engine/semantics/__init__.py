"""Spark's answers from the embedded engine: rewrites of SQL text and Connect plans where the
engine computes something else, and clear refusals where lakesmith cannot rewrite.

The rules load with `spark_semantics`, on first use: an update with nothing new rewrites no
plan, and importing one helper module of this package does not load them all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakesmith.engine.semantics.plan_rewrite import spark_semantics

__all__ = ["spark_semantics"]


def __getattr__(name: str) -> Any:
    if name == "spark_semantics":
        from lakesmith.engine.semantics.plan_rewrite import spark_semantics

        return spark_semantics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
