"""delta-spark's Python API (`delta.tables.DeltaTable`) for Spark Connect without a JVM; reached
as `delta` / `delta.tables` when delta-spark is absent (`finder.py`)."""

from __future__ import annotations

from lakesmith.deltaspark.builder import DeltaTableBuilder
from lakesmith.deltaspark.tables import DeltaMergeBuilder, DeltaOptimizeBuilder, DeltaTable

__all__ = ["DeltaMergeBuilder", "DeltaOptimizeBuilder", "DeltaTable", "DeltaTableBuilder"]
