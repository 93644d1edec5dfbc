"""Where each pipeline table lives and under which name the engine knows it.

Tables are Delta tables under the warehouse root, one folder per catalog/schema/table. The engine
(Sail has no multi-catalog support) sees each as an external table `schema.table` registered over
that folder, so SQL and DataFrame reads by name work in flows and in `lakesmith sql`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lakesmith.graph.identifiers import TableName
from lakesmith.tables.delta import is_delta_table


class TableCatalog:
    def __init__(self, warehouse: Path, spark: Any) -> None:
        self.warehouse = warehouse
        self.spark = spark
        self._schemas: set[str] = set()
        self._registered: set[TableName] = set()

    def location(self, name: TableName) -> Path:
        return self.warehouse.joinpath(*(p.lower() for p in name.parts))

    @staticmethod
    def engine_name(name: TableName) -> str:
        return f"{quote_always(name.schema)}.{quote_always(name.table)}"

    def exists(self, name: TableName) -> bool:
        return is_delta_table(self.location(name))

    def register(self, name: TableName) -> None:
        """Make `schema.table` resolve in the engine to the Delta table's folder (once a session;
        the engine reads the Delta log on each query, so later commits need no re-registration)."""
        if name in self._registered:
            return
        self._ensure_schema(name.schema)
        location = str(self.location(name)).replace("'", "\\'")
        self.spark.sql(
            f"CREATE TABLE IF NOT EXISTS {self.engine_name(name)} USING delta LOCATION '{location}'"
        )
        self._registered.add(name)

    def register_warehouse(self) -> list[TableName]:
        """Register every Delta table under the warehouse (catalog/schema/table folders), without
        the pipeline's sources: what `lakesmith sql` can query."""
        found: list[TableName] = []
        for table_dir in sorted(self.warehouse.glob("*/*/*")):
            if is_delta_table(table_dir):
                catalog, schema, table = table_dir.relative_to(self.warehouse).parts
                name = TableName(catalog, schema, table)
                self.register(name)
                found.append(name)
        return found

    def register_path(self, engine_name: str, location: Path) -> None:
        """Make a Delta folder outside the warehouse (the event log) queryable by name."""
        path = str(location).replace("'", "\\'")
        self.spark.sql(f"CREATE TABLE IF NOT EXISTS {engine_name} USING delta LOCATION '{path}'")

    def _ensure_schema(self, schema: str) -> None:
        if schema.lower() not in self._schemas:
            self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {quote_always(schema)}")
            self._schemas.add(schema.lower())


def quote_always(part: str) -> str:
    return "`" + part.replace("`", "``") + "`"

