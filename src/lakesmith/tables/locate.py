"""Where a table a statement names lives: a `delta.`/path`` is its path; a name is asked of the
engine's catalog (pipeline tables are registered there over their warehouse folders), so the same
answer holds for tables the user registered and for a remote engine's catalog."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.tables.commands.statement import TableRef


def locate_table(spark: Any, ref: TableRef, options: Mapping[str, str] | None = None) -> Location:
    if ref.path is not None:
        return Location.parse(ref.path, options=options)
    try:
        rows = spark.sql(f"DESCRIBE TABLE EXTENDED {ref.engine_name()}").collect()
    except Exception as e:  # the engine's "table not found"
        raise LakesmithError(
            f"[TABLE_OR_VIEW_NOT_FOUND] The table {ref.display} cannot be found.",
            hint="check the name (SHOW TABLES lists them), or name the table by path: "
            "delta.`/path/to/table`.") from e
    details = {row[0]: row[1] for row in rows}
    provider = (details.get("Provider") or "").lower()
    location = details.get("Location")
    if provider != "delta" or not location:
        raise LakesmithError(
            f"[DELTA_TABLE_ONLY_OPERATION] {ref.display} is not a Delta table (provider: "
            f"{provider or 'unknown'}).")
    return Location.parse(location, options=options)
