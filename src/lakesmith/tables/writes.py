"""Writing a DataFrame to a Delta table through the engine: one commit, carrying a marker."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lakesmith.engine.paths import engine_path
from lakesmith.locations import Location


def write_delta(df: Any, location: Location, *, mode: str, user_metadata: str,
                partition_cols: Sequence[str] = ()) -> None:
    """Append (new columns are added to the table) or overwrite (the schema is replaced)."""
    writer = df.write.format("delta").mode(mode).option("userMetadata", user_metadata)
    writer = writer.option("overwriteSchema" if mode == "overwrite" else "mergeSchema", "true")
    if partition_cols:
        writer = writer.partitionBy(*partition_cols)
    writer.save(engine_path(location))
