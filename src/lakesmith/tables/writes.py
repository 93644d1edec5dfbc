"""Writing a DataFrame to a Delta table through the engine: one commit, carrying a marker."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lakesmith.engine.paths import engine_path
from lakesmith.locations import Location
from lakesmith.tables.delta import DeltaLog, open_table

if TYPE_CHECKING:
    from deltalake import DeltaTable


def write_delta(df: Any, location: Location, *, mode: str, user_metadata: str,
                partition_cols: Sequence[str] = (), columns: Sequence[str] | None = None,
                log: DeltaLog | None = None) -> None:
    """Append (new columns are added to the table) or overwrite (the schema is replaced).
    `columns`: the DataFrame's column names when the caller knows them without asking the
    engine (a state table's fixed columns). `log`: the table's log as the update keeps it
    loaded (advanced to its newest commit, not loaded afresh for each batch's append)."""
    if mode == "append":
        add_new_columns(df, location, columns, table=log.table() if log is not None else None)
    writer = df.write.format("delta").mode(mode).option("userMetadata", user_metadata)
    writer = writer.option("overwriteSchema" if mode == "overwrite" else "mergeSchema", "true")
    if partition_cols:
        writer = writer.partitionBy(*partition_cols)
    writer.save(engine_path(location))


def replace_rows(df: Any, location: Location, *, user_metadata: str) -> None:
    """Overwrite the table's rows with the DataFrame's, in one commit that keeps its schema,
    partitioning and properties: without `overwriteSchema` the engine writes no metadata action
    (the DataFrame's columns must be the table's)."""
    df.write.format("delta").mode("overwrite").option("userMetadata", user_metadata) \
        .save(engine_path(location))


def add_new_columns(df: Any, location: Location, columns: Sequence[str] | None = None, *,
                    table: DeltaTable | None = None) -> None:
    """Add the DataFrame's columns the table lacks (nullable, at the end) with delta-rs, before
    the engine appends: the engine's own `mergeSchema` drops new columns, and their values, that
    come before a NOT NULL column of the table (docs/engine-gaps.md). The added columns commit on
    their own; a batch that then fails leaves them empty, and its rerun fills them. When the
    caller gives the `columns` and the table has them all, the engine is not asked for the
    DataFrame's schema (a round trip per write). `table`: the table at its newest version,
    when the caller has it loaded."""
    if table is None:
        table = open_table(location)
    if table is None:
        return
    from deltalake import Field

    known = {field.name.lower() for field in table.schema().fields}
    if columns is not None and all(c.lower() in known for c in columns):
        return
    new = [Field.from_json(json.dumps({**field.jsonValue(), "nullable": True}))
           for field in df.schema.fields if field.name.lower() not in known]
    if new:
        table.alter.add_columns(new)
