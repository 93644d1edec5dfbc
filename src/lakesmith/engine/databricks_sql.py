"""Databricks SQL people paste into `lakesmith sql`: the `:` JSON path operator
(`details:flow_progress.metrics.num_output_rows`) and the `event_log(...)` table function, turned
into the Spark SQL the engine runs (`get_json_object`, the `event_log` table)."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

EVENT_LOG_TABLE = "event_log"


def to_engine_sql(query: str) -> str:
    """The query in Spark SQL; unchanged when it needs no translation or cannot be parsed."""
    try:
        statements = sqlglot.parse(query, dialect="databricks")
    except (ParseError, TokenError):
        return query
    if len(statements) != 1 or statements[0] is None:
        return query
    tree = statements[0]
    needs = tree.find(exp.JSONExtract) is not None or any(
        _is_event_log_function(t) for t in tree.find_all(exp.Table))
    if not needs:
        return query
    tree = tree.transform(_event_log_table)
    return tree.sql(dialect="spark")


def _is_event_log_function(table: exp.Table) -> bool:
    return isinstance(table.this, exp.Anonymous) and table.this.name.lower() == EVENT_LOG_TABLE


def _event_log_table(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Table) and _is_event_log_function(node):
        replacement = exp.to_table(EVENT_LOG_TABLE)
        alias = node.args.get("alias")
        if alias is not None:
            replacement.set("alias", alias)
        return replacement
    return node
