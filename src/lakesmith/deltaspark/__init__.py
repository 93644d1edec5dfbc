"""delta-spark's Python API (`delta.tables.DeltaTable`) for Spark Connect without a JVM; reached
as `delta` / `delta.tables` when delta-spark is absent (`finder.py`).

The classes are imported on first use: installing the finder (every `lakesmith run` does, before
loading sources) must not load the Delta SQL commands and sqlglot behind them."""

from __future__ import annotations

from typing import Any

__all__ = ["DeltaMergeBuilder", "DeltaOptimizeBuilder", "DeltaTable", "DeltaTableBuilder"]


def __getattr__(name: str) -> Any:
    value: Any
    if name == "DeltaTableBuilder":
        from lakesmith.deltaspark import builder

        value = builder.DeltaTableBuilder
    elif name in ("DeltaMergeBuilder", "DeltaOptimizeBuilder", "DeltaTable"):
        from lakesmith.deltaspark import tables

        value = getattr(tables, name)
    else:
        raise AttributeError(f"module 'lakesmith.deltaspark' has no attribute {name!r}")
    globals()[name] = value
    return value
