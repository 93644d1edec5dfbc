"""`aggregate_form.py` for a query given as SQL text (`CREATE MATERIALIZED VIEW v AS SELECT ...`,
`spark.sql(...)`): one SELECT of one pipeline table, with WHERE if any, grouped by keys that
are all columns of the view (named again, by alias or by position), every other column one
`count` / `sum` / `min` / `max`; nothing else (no DISTINCT, HAVING, QUALIFY, ORDER BY, LIMIT,
join, subquery, window, CTE, GROUPING SETS / ROLLUP / CUBE / GROUP BY ALL, query parameters).
Read with sqlglot; the view's columns are the SELECT list's, in order."""

from __future__ import annotations

from pyspark.sql.connect import proto
from pyspark.sql.types import StructType
from sqlglot import exp

from lakesmith.engine.plans import sql_read
from lakesmith.engine.sql_refs import SqlTableRef, parse_sql_query
from lakesmith.errors import SqlRefError
from lakesmith.runtime.refresh.aggregate_form import (
    FUNCTION,
    KEY,
    NOT_TOP,
    OPERATOR,
    AggregateForm,
    in_query_order,
    mergeable_call,
)
from lakesmith.runtime.refresh.planning import Issue

FUNCTIONS: dict[type[exp.Expression], str] = {exp.Count: "count", exp.Sum: "sum",
                                               exp.Min: "min", exp.Max: "max"}
# SELECT clauses that change which rows or groups the view holds.
CLAUSES = ("with", "with_", "distinct", "having", "qualify", "order", "limit", "offset",
           "joins", "laterals", "windows", "cluster", "distribute", "sort", "into")


def sql_aggregate_form(sql: proto.SQL, view: StructType,
                       partitioned: bool = False) -> AggregateForm | Issue:
    if sql.args or sql.pos_args or sql.named_arguments or sql.pos_arguments:
        return _operator("its SQL text has parameters", "parameters")
    try:
        parsed = parse_sql_query(sql.query)
    except SqlRefError:
        return _operator("its SQL text could not be read", "sql")
    if len(parsed.statements) != 1 or not isinstance(parsed.statements[0], exp.Select):
        return _operator("its SQL text is not one SELECT", "sql")
    select = parsed.statements[0]
    for clause in CLAUSES:
        if select.args.get(clause):
            return _operator(f"its SELECT has {clause.strip('_').upper()}", clause.strip("_"))
    if any(True for _ in select.find_all(exp.Window)):
        return _operator("its SELECT computes a window", "window")
    if any(node is not select for node in select.find_all(exp.Select)):
        return _operator("its SELECT has a subquery", "subquery")
    if len(parsed.tables) != 1:
        return _operator("its SELECT reads more than one table", "join")
    ((_, ref),) = parsed.tables
    if not isinstance(ref, SqlTableRef) or ref.streaming or ref.path_format:
        return Issue("INPUT_NOT_IN_DELTA", "its SELECT reads a stream, files or a path, not a "
                     "pipeline table")
    group = select.args.get("group")
    keys = list(group.expressions) if group is not None else []
    if group is not None and (any(group.args.get(k) for k in
                                  ("rollup", "cube", "grouping_sets", "totals", "all"))
                              or any(isinstance(k, (exp.Rollup, exp.Cube, exp.GroupingSets))
                                     for k in keys)):
        return _operator("it groups with ROLLUP, CUBE, GROUPING SETS or ALL", "group")
    items = list(select.expressions)
    fields = in_query_order(view, [item.alias_or_name or None for item in items], partitioned)
    if fields is None:
        return Issue(NOT_TOP, "its columns are not the SELECT list's" + (
            " (a partitioned view's are matched by name: name each aggregate with AS)"
            if partitioned else ""))
    columns: list[tuple[str, str]] = []
    grouped: set[int] = set()
    for position, (item, field) in enumerate(zip(items, fields, strict=True)):
        inner = item.this if isinstance(item, exp.Alias) else item
        function = FUNCTIONS.get(type(inner))
        if function is not None:
            distinct = isinstance(inner.this, exp.Distinct)
            arguments = len(inner.expressions) + (inner.this is not None)
            issue = mergeable_call(function, distinct, arguments, field.dataType)
            if issue is not None:
                return issue
            columns.append((field.name, function))
            continue
        if any(isinstance(node, exp.AggFunc) for node in inner.walk()):
            return Issue(FUNCTION, f"its column {field.name} is an expression over aggregates "
                         "or another aggregate function", {"column": field.name})
        key = _key(item, inner, position, keys)
        if key is None:
            return Issue(NOT_TOP, f"its column {field.name} is neither a grouping key nor an "
                         "aggregate", {"column": field.name})
        grouped.add(key)
        columns.append((field.name, KEY))
    if len(grouped) != len(keys):
        return Issue(NOT_TOP, "a grouping key is not a column of the view")
    return AggregateForm(tuple(columns), sql_read(ref))


def _key(item: exp.Expression, inner: exp.Expression, position: int,
         keys: list[exp.Expression]) -> int | None:
    """Which GROUP BY expression the SELECT item is: the same expression, its alias, or its
    position (`GROUP BY 1`)."""
    alias = item.alias if isinstance(item, exp.Alias) else None
    for index, key in enumerate(keys):
        if key == inner:
            return index
        if alias and isinstance(key, exp.Column) and not key.table and key.name == alias:
            return index
        if isinstance(key, exp.Literal) and not key.is_string and key.this == str(position + 1):
            return index
    return None


def _operator(explanation: str, operator: str) -> Issue:
    return Issue(OPERATOR, explanation, {"operator_name": operator})
