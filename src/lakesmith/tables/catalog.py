"""Where each pipeline table lives and under which name the engine knows it.

Tables are Delta tables under the warehouse, one folder per catalog/schema/table, named so that
every spelling of a name maps to the same folder and no name can leave the warehouse. The engine
(Sail has no multi-catalog support) sees each as an external table `schema.table` registered over
that folder, so SQL and DataFrame reads by name work in flows and in `lakesmith sql`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from lakesmith.engine.paths import engine_path
from lakesmith.files import store_for
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location, folder_name
from lakesmith.sql_literal import sql_string
from lakesmith.tables.delta import DELTA_LOG, is_delta_table


class TableCatalog:
    def __init__(self, warehouse: Location, spark: Any,
                 paths: Mapping[TableName, Location] | None = None) -> None:
        self.warehouse = warehouse
        self.spark = spark
        # Tables stored outside the warehouse (a definition's `path` / `LOCATION`).
        self.paths = dict(paths or {})
        self._schemas: set[str] = set()
        self._registered: set[TableName] = set()

    def location(self, name: TableName) -> Location:
        if name in self.paths:
            return self.paths[name]
        return self.warehouse.join(*(folder_name(part) for part in name.parts))

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
        self.register_path(self.engine_name(name), self.location(name))
        self._registered.add(name)

    def register_warehouse(self, *, catalogs: Collection[str] | None = None,
                           skip: Collection[TableName] = ()) -> list[TableName]:
        """Register every Delta table under the warehouse (catalog/schema/table folders), without
        the pipeline's sources: what `lakesmith sql` can query. `catalogs` limits the catalog
        folders looked at; tables in `skip` are left out."""
        found: list[TableName] = []
        store = store_for(self.warehouse)
        wanted = None if catalogs is None else {folder_name(c).lower() for c in catalogs}
        for catalog in _folders(store, self.warehouse):
            if wanted is not None and catalog.lower() not in wanted:
                continue
            for schema in _folders(store, self.warehouse.join(catalog)):
                for table in _folders(store, self.warehouse.join(catalog, schema)):
                    location = self.warehouse.join(catalog, schema, table)
                    if TableName(catalog, schema, table) in skip:
                        continue
                    if store.exists(location.join(DELTA_LOG)) and is_delta_table(location):
                        name = TableName(catalog, schema, table)
                        self.register(name)
                        found.append(name)
        return found

    def register_path(self, engine_name: str, location: Location) -> None:
        """Make a Delta folder queryable by name (pipeline tables, the event log)."""
        self.spark.sql(f"CREATE TABLE IF NOT EXISTS {engine_name} USING delta "
                       f"LOCATION {sql_string(engine_path(location))}")

    def _ensure_schema(self, schema: str) -> None:
        # `default` always exists (Spark's catalog cannot drop it): no round trip for it.
        if schema.lower() not in self._schemas and schema.lower() != "default":
            self.spark.sql(f"CREATE DATABASE IF NOT EXISTS {quote_always(schema)}")
            self._schemas.add(schema.lower())


def _folders(store: Any, location: Location) -> list[str]:
    return sorted(e.name for e in store.list(location) if e.is_dir and not e.name.startswith("."))


def quote_always(part: str) -> str:
    return "`" + part.replace("`", "``") + "`"


