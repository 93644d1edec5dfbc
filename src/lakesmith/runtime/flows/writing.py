"""Writing a flow's result to its Delta table: one commit, carrying the flow's marker."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lakesmith.errors import NotSupportedYet
from lakesmith.graph.model import Dataset


def require_delta(dataset: Dataset) -> None:
    if dataset.format not in (None, "delta"):
        raise NotSupportedYet(
            f"'{dataset.name}' asks for format '{dataset.format}'; lakesmith writes Delta tables "
            "only.")


def write_delta(df: Any, location: Path, *, mode: str, marker: str,
                partition_cols: Sequence[str] = ()) -> None:
    """Append (new columns are added to the table) or overwrite (the schema is replaced)."""
    writer = df.write.format("delta").mode(mode).option("userMetadata", marker)
    writer = writer.option("overwriteSchema" if mode == "overwrite" else "mergeSchema", "true")
    if partition_cols:
        writer = writer.partitionBy(*partition_cols)
    writer.save(str(location))
