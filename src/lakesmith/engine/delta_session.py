"""The Spark session lakesmith hands to users (`lakesmith.session()`, `lakesmith shell`, `lakesmith
sql`): a Spark Connect session whose `sql()` runs the Delta utility statements the engine lacks
(`tables/commands/`) before anything reaches the engine, and translates Databricks SQL (the event
log's `:` paths). Everything else is the engine's. It is a subclass, so `isinstance(spark,
SparkSession)` holds and DataFrames made from it carry it."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any, cast

from pyspark.sql.connect.session import SparkSession

from lakesmith.tables.commands import DeltaContext, parse_delta_statement


class _FilterHook(SparkSession.Hook):
    """Notes the filters of every DataFrame plan the session executes (`df.where(...)` on a
    table), for CLUSTER BY AUTO. Only noted here: looking tables up runs engine requests, which
    must not happen inside another request; the session records them at its next `sql()`."""

    def __init__(self, session: DeltaSession) -> None:
        self.session = session

    def on_execute_plan(self, request: Any) -> Any:
        from lakesmith.tables.query_filters import plan_filtered_columns

        if self.session.delta_context is not None and request.plan.HasField("root"):
            found = plan_filtered_columns(request.plan.root)
            if found:
                with self.session.pending_lock:
                    self.session.pending_filters.append(found)
        return request


class DeltaSession(SparkSession):
    """A Spark Connect session with Delta utility statements; `stop()` also stops the embedded
    engine lakesmith started for it."""

    delta_context: DeltaContext | None = None
    on_stop: Any = None

    def __init__(self, connection: Any, userId: str | None = None,  # noqa: N803
                 hook_factories: list[Any] | None = None) -> None:
        self.pending_filters: list[dict[tuple[str, ...], set[str]]] = []
        self.pending_lock = threading.Lock()
        super().__init__(connection, userId,
                         [*(hook_factories or []),
                          lambda session: _FilterHook(cast(DeltaSession, session))])

    def record_pending_filters(self) -> None:
        """Record the filters DataFrame queries used since the last time (see `_FilterHook`)."""
        with self.pending_lock:
            pending, self.pending_filters = self.pending_filters, []
        if self.delta_context is not None:
            for found in pending:
                self.delta_context.observe_filters(found)

    def sql(self, sqlQuery: str, args: Any = None, **kwargs: Any) -> Any:  # noqa: N803
        from lakesmith.engine.databricks_sql import to_engine_sql
        from lakesmith.engine.semantics.query_forms import rewrite_query_forms
        from lakesmith.engine.semantics.sql_rewrite import rewrite_sql
        from lakesmith.engine.semantics.sql_text import escape_doubled_quotes
        from lakesmith.engine.semantics.typing import sql_typer

        self.record_pending_filters()
        if self.delta_context is not None and not args and not kwargs:
            statement = parse_delta_statement(sqlQuery)
            if statement is not None:
                return statement.run(self.delta_context)
        # Spark's answers where the engine's differ (docs/compatibility.md).
        # Type probes go to the engine as they are (not back through this method).
        engine = SimpleNamespace(sql=self.engine_sql)
        engine_query = rewrite_sql(
            rewrite_query_forms(engine, escape_doubled_quotes(to_engine_sql(sqlQuery))),
            sql_typer(engine))
        result = super().sql(engine_query, args, **kwargs)
        if self.delta_context is not None:
            self.delta_context.observe(sqlQuery)
        return result

    def engine_sql(self, sqlQuery: str) -> Any:  # noqa: N803
        """Run `sqlQuery` in the engine as it is."""
        return super().sql(sqlQuery)

    def stop(self) -> None:
        if not self.is_stopped:
            self.record_pending_filters()
        super().stop()
        on_stop, self.on_stop = self.on_stop, None
        if on_stop is not None:
            on_stop()
