"""Persisted views (SQL `CREATE VIEW`) published where a session finds them by name.

The engine has no persistent catalog: each session starts empty, and `lakesmith.session()` /
`lakesmith sql` register the pipeline's tables from their Delta folders. A view has no folder, so
each update records the pipeline's persisted views in its storage (`views.json`: name, SQL,
comment, column comments, properties), and a session creates them with `CREATE OR REPLACE VIEW
schema.name [(columns)] [COMMENT] [TBLPROPERTIES] AS query` after the tables, in the order the
graph reads them (DESCRIBE TABLE EXTENDED, the catalog and SHOW TBLPROPERTIES then show what was
declared). Why a file of SQL: the definition is the user's query, which the session's own SQL
path (semantics rewrites included) then analyses like any query the user types, and the whole
file is rewritten by each update, so a view whose definition left the pipeline is gone from the
next session. Names of pipeline datasets in the query are written as the engine names the
session registers (`schema`.`table`), so `LIVE.x` and catalog-qualified names resolve there.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from lakesmith.errors import GraphProblem, LakesmithError
from lakesmith.files import store_for
from lakesmith.graph.datasets import DatasetKind, PersistedView
from lakesmith.graph.flows import SqlQuery
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import quote_part
from lakesmith.locations import Location
from lakesmith.sql_literal import sql_string
from lakesmith.tables.catalog import TableCatalog

logger = logging.getLogger(__name__)

VIEWS_FILE = "views.json"


@dataclass(frozen=True)
class PublishedView:
    """A persisted view as a session creates it."""

    engine_name: str  # `schema`.`view`
    sql: str  # the query, pipeline datasets named by their engine names
    comment: str | None
    defined_at: str  # file:line, for messages when the session cannot create it
    # its column list: [name, comment or None] each (empty: the query's columns as they are)
    columns: list[list[str | None]] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)  # TBLPROPERTIES

    def statement(self) -> str:
        parts = [f"CREATE OR REPLACE VIEW {self.engine_name}"]
        if self.columns:
            parts.append("(" + ", ".join(
                quote_part(str(name)) + ("" if comment is None else f" COMMENT {sql_string(comment)}")
                for name, comment in self.columns) + ")")
        if self.comment is not None:
            parts.append(f"COMMENT {sql_string(self.comment)}")
        if self.properties:
            parts.append("TBLPROPERTIES (" + ", ".join(
                f"{sql_string(k)} = {sql_string(v)}" for k, v in self.properties.items()) + ")")
        return " ".join([*parts, "AS", self.sql])


def view_name_conflicts(graph: DataflowGraph, catalog: TableCatalog) -> list[GraphProblem]:
    """Persisted views whose name a Delta table already has in the pipeline's catalog and
    schema. Databricks requires a view's name to be unique there; here the session would find
    both (the table registered from its folder, the view created over it), so the view is
    refused at analysis (`dry-run` and every update) instead."""
    problems = []
    for name, dataset in graph.datasets.items():
        if dataset.kind != DatasetKind.PERSISTED_VIEW or not catalog.exists(name):
            continue
        problems.append(GraphProblem(
            f"persisted view '{dataset.name}': a table of that name already exists in schema "
            f"'{name.schema}' ({catalog.location(name)}); a view's name must be unique in the "
            "pipeline's catalog and schema. Rename the view, or delete the table's folder if "
            "nothing needs it (an earlier definition of the name as a table left it).",
            dataset.location))
    return problems


def views_file(storage: Location) -> Location:
    return storage.join(VIEWS_FILE)


def published_views(graph: DataflowGraph) -> list[PublishedView]:
    """The graph's persisted views, each after the views it reads."""
    views: list[PublishedView] = []
    for flow in graph.topological_flows():
        dataset = graph.dataset(flow.target)
        if dataset.kind != DatasetKind.PERSISTED_VIEW:
            continue
        assert isinstance(dataset, PersistedView)
        views.append(PublishedView(TableCatalog.engine_name(flow.target),
                                   _engine_sql(flow, graph), dataset.comment,
                                   str(dataset.location),
                                   columns=[[name, comment] for name, comment in dataset.columns],
                                   properties=dict(dataset.table_properties)))
    return views


def record_views(storage: Location, views: list[PublishedView]) -> None:
    """Replace the recorded views with `views` (written only when it changes)."""
    target = views_file(storage)
    store = store_for(target)
    text = json.dumps([vars(v) for v in views], indent=1).encode()
    if (store.read(target) or b"[]") != text:
        store.write(target, text)


def recorded_views(storage: Location) -> list[PublishedView]:
    data = store_for(views_file(storage)).read(views_file(storage))
    return [PublishedView(**entry) for entry in json.loads(data or b"[]")]


def register_views(spark: Any, storage: Location) -> list[PublishedView]:
    """Create the recorded views in the session; a view the engine cannot create (a table it
    reads was dropped since) is left out with a warning naming it and where it is defined.
    Returns the views created."""
    created: list[PublishedView] = []
    for view in recorded_views(storage):
        try:
            spark.sql(view.statement())
        except Exception as e:  # the session stays usable; the view's problem is reported
            logger.warning("view %s (defined at %s) is not available in this session: %s",
                           view.engine_name, view.defined_at, str(e).splitlines()[0])
            continue
        created.append(view)
    return created


def _engine_sql(flow: ResolvedFlow, graph: DataflowGraph) -> str:
    query = flow.query_flow.query
    if not isinstance(query, SqlQuery):
        raise LakesmithError(f"persisted view '{graph.dataset(flow.target).name}' has no SQL "
                             "query; persisted views are defined with CREATE VIEW in SQL.")
    from lakesmith.engine.sql_refs import SqlTableRef, find_table_refs  # sqlglot: SQL views only

    text = query.text
    for ref in sorted((r for r in find_table_refs(text) if isinstance(r, SqlTableRef)),
                      key=lambda r: r.start, reverse=True):
        if ref.path_format is not None:
            continue
        name = graph.names.qualify(".".join(quote_part(p) for p in ref.parts))
        if name in graph.datasets:
            text = text[:ref.start] + TableCatalog.engine_name(name) + text[ref.end:]
    return text
