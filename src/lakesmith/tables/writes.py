"""Writing a DataFrame to a Delta table through the engine: one commit, carrying a marker."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lakesmith.engine.paths import engine_path
from lakesmith.locations import Location
from lakesmith.tables.delta import open_table


def write_delta(df: Any, location: Location, *, mode: str, user_metadata: str,
                partition_cols: Sequence[str] = ()) -> None:
    """Append (new columns are added to the table) or overwrite (the schema is replaced)."""
    if mode == "append":
        add_new_columns(df, location)
    writer = df.write.format("delta").mode(mode).option("userMetadata", user_metadata)
    writer = writer.option("overwriteSchema" if mode == "overwrite" else "mergeSchema", "true")
    if partition_cols:
        writer = writer.partitionBy(*partition_cols)
    writer.save(engine_path(location))


def add_new_columns(df: Any, location: Location) -> None:
    """Add the DataFrame's columns the table lacks (nullable, at the end) with delta-rs, before
    the engine appends: the engine's own `mergeSchema` drops new columns, and their values, that
    come before a NOT NULL column of the table (docs/engine-gaps.md). The added columns commit on
    their own; a batch that then fails leaves them empty, and its rerun fills them."""
    table = open_table(location)
    if table is None:
        return
    from deltalake import Field

    known = {field.name.lower() for field in table.schema().fields}
    new = [Field.from_json(json.dumps({**field.jsonValue(), "nullable": True}))
           for field in df.schema.fields if field.name.lower() not in known]
    if new:
        table.alter.add_columns(new)
