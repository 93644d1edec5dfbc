"""The Spark session lakesmith hands to users (`lakesmith.session()`, `lakesmith shell`, `lakesmith
sql`): a Spark Connect session whose `sql()` runs the Delta utility statements the engine lacks
(`tables/commands/`) before anything reaches the engine, and translates Databricks SQL (the event
log's `:` paths). Every plan it sends, SQL or DataFrame, is rewritten for Apache Spark's answers
where the engine's differ (`engine/semantics/session_plans.py`). It is a subclass, so
`isinstance(spark, SparkSession)` holds and DataFrames made from it carry it."""

from __future__ import annotations

import threading
from typing import Any, cast

from pyspark.sql.connect.conf import RuntimeConf
from pyspark.sql.connect.session import SparkSession

from lakesmith.engine import session_tables
from lakesmith.engine.semantics.session_plans import SessionSemantics
from lakesmith.engine.session_settings import (
    SessionSettings,
    check_setting,
    parse_setting_statement,
)
from lakesmith.engine.sql_variables import session_sql, session_variables
from lakesmith.tables.commands import DeltaContext, parse_delta_statement
from lakesmith.variable_substitution import Variables


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


class _CheckedConf(RuntimeConf):
    """`spark.conf`, refusing what Spark refuses and settings that change Spark's answers
    (`session_settings.check_setting`), and noting the settings before the first change (for
    RESET)."""

    def __init__(self, client: Any, settings: SessionSettings) -> None:
        super().__init__(client)
        self._settings = settings

    def set(self, key: str, value: str | int | bool) -> None:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        check_setting(key, text)
        self._settings.before_change(self)
        super().set(key, text)


class DeltaSession(SparkSession):
    """A Spark Connect session with Delta utility statements and Spark's answers; `stop()` also
    stops the embedded engine lakesmith started for it. `semantics.enabled = False` sends plans
    as they are (what the engine itself answers)."""

    delta_context: DeltaContext | None = None
    on_stop: Any = None

    def __init__(self, connection: Any, userId: str | None = None,  # noqa: N803
                 hook_factories: list[Any] | None = None) -> None:
        self.pending_filters: list[dict[tuple[str, ...], set[str]]] = []
        self.pending_lock = threading.Lock()
        self.semantics = SessionSemantics(self)
        self.settings = SessionSettings(self)
        # The filter hook sees the user's plan; the rewrite comes last, just before sending.
        super().__init__(connection, userId,
                         [*(hook_factories or []),
                          lambda session: _FilterHook(cast(DeltaSession, session)),
                          lambda session: cast(DeltaSession, session).semantics])
        self.semantics.install(self._client)
        session_tables.install(self, self._client)

    def record_pending_filters(self) -> None:
        """Record the filters DataFrame queries used since the last time (see `_FilterHook`)."""
        with self.pending_lock:
            pending, self.pending_filters = self.pending_filters, []
        if self.delta_context is not None:
            for found in pending:
                self.delta_context.observe_filters(found)

    def sql(self, sqlQuery: str, args: Any = None, **kwargs: Any) -> Any:  # noqa: N803
        from lakesmith.engine.databricks_sql import to_engine_sql

        if self.semantics.busy:
            # lakesmith's own request while it rewrites one (a type probe): to the engine.
            return super().sql(sqlQuery, args, **kwargs)
        self.record_pending_filters()
        # Spark's parser substitutes `${...}` in every statement, SET included
        sqlQuery = session_sql(sqlQuery, lambda: self.conf.getAll)  # noqa: N806
        setting = parse_setting_statement(sqlQuery)
        if setting is not None:  # the engine's parser lacks SET/RESET
            return self.settings.run(setting, self.conf)
        if self.delta_context is not None and not args and not kwargs:
            statement = parse_delta_statement(sqlQuery)
            if statement is not None:
                return statement.run(self.delta_context)
        # The text reaches the engine rewritten for Spark's answers (`self.semantics`).
        result = super().sql(to_engine_sql(sqlQuery), args, **kwargs)
        if self.delta_context is not None:
            self.delta_context.observe(sqlQuery)
        return result

    def sql_variables(self) -> Variables | None:
        """`${...}` values of expression strings (`F.expr`, `selectExpr`): the settings."""
        return session_variables(self.conf.getAll)

    @property
    def conf(self) -> RuntimeConf:
        return _CheckedConf(self.client, self.settings)

    def engine_sql(self, sqlQuery: str) -> Any:  # noqa: N803
        """Run `sqlQuery` in the engine, not as a Delta statement: a statement lakesmith
        composed around the user's SQL (`CREATE TABLE ... AS query`), whose query still gets
        Spark's answers."""
        return super().sql(sqlQuery)

    def stop(self) -> None:
        if not self.is_stopped:
            self.record_pending_filters()
        super().stop()
        on_stop, self.on_stop = self.on_stop, None
        if on_stop is not None:
            on_stop()
