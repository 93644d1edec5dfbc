"""The Spark session lakesmith hands to users (`lakesmith.session()`, `lakesmith shell`, `lakesmith
sql`): a Spark Connect session whose `sql()` runs the Delta utility statements the engine lacks
(`tables/commands/`) before anything reaches the engine, and translates Databricks SQL (the event
log's `:` paths). Everything else is the engine's. It is a subclass, so `isinstance(spark,
SparkSession)` holds and DataFrames made from it carry it."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect.session import SparkSession

from lakesmith.tables.commands import DeltaContext, parse_delta_statement


class DeltaSession(SparkSession):
    """A Spark Connect session with Delta utility statements; `stop()` also stops the embedded
    engine lakesmith started for it."""

    delta_context: DeltaContext | None = None
    on_stop: Any = None

    def sql(self, sqlQuery: str, args: Any = None, **kwargs: Any) -> Any:  # noqa: N803
        from lakesmith.engine.databricks_sql import to_engine_sql

        if self.delta_context is not None and not args and not kwargs:
            statement = parse_delta_statement(sqlQuery)
            if statement is not None:
                return statement.run(self.delta_context)
        result = super().sql(to_engine_sql(sqlQuery), args, **kwargs)
        if self.delta_context is not None:
            self.delta_context.observe(sqlQuery)
        return result

    def engine_sql(self, sqlQuery: str) -> Any:  # noqa: N803
        """Run `sqlQuery` in the engine as it is."""
        return super().sql(sqlQuery)

    def stop(self) -> None:
        super().stop()
        on_stop, self.on_stop = self.on_stop, None
        if on_stop is not None:
            on_stop()
