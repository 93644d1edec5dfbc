"""`aggregate_form.py` for a query given as SQL text (`CREATE MATERIALIZED VIEW v AS SELECT ...`,
`spark.sql(...)`), or for the aggregating subquery `sql_aggregate_below.py` cuts from one: one
SELECT of one pipeline table, with WHERE if any, grouped by keys that are all columns of the
view (named again, by alias or by position), every other column one `count` / `sum` / `min` /
`max`; nothing else (no DISTINCT, HAVING, QUALIFY, ORDER BY, LIMIT,
join, subquery, window, CTE, GROUPING SETS / ROLLUP / CUBE / GROUP BY ALL, query parameters).
Read with sqlglot; the view's columns are the SELECT list's, in order."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql.connect import proto
from pyspark.sql.types import DataType, LongType, StructType
from sqlglot import exp

from lakesmith.engine.plans import PlanRead, sql_read
from lakesmith.engine.sql_dialect import DIALECT
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


@dataclass(frozen=True)
class SqlAggregation:
    """The SELECT of an aggregation given as SQL text, read with sqlglot: its items (the view's
    columns, in order), each one's aggregate function (None: a grouping key), and the one
    table it reads."""

    items: tuple[exp.Expression, ...]
    functions: tuple[str | None, ...]
    read: PlanRead

    @property
    def outputs(self) -> list[str | None]:
        """Each item's name where Spark's naming is plain: an alias, or a column; None for
        one the engine names (`count(x)`, `CAST(k AS INT)`)."""
        return [plain_name(item) for item in self.items]


def sql_aggregation(sql: proto.SQL) -> SqlAggregation | Issue:
    """The text's aggregation, when it has the form: types aside (`sql_aggregate_form`)."""
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
    items = tuple(select.expressions)
    functions: list[str | None] = []
    grouped: set[int] = set()
    for position, item in enumerate(items):
        inner = item.this if isinstance(item, exp.Alias) else item
        function = FUNCTIONS.get(type(inner))
        if function is not None:
            functions.append(function)
            continue
        shown = plain_name(item) or item.sql(DIALECT)
        if isinstance(inner, exp.AggFunc):  # (`avg`, `count(DISTINCT x)` is a Count)
            issue = mergeable_call(inner.sql_name().lower(), False, 1, LongType())
            if issue is not None:
                return issue
        if any(isinstance(node, exp.AggFunc) for node in inner.walk()):
            return Issue(FUNCTION, f"its column {shown} is an expression over aggregates "
                         "or another aggregate function", {"column": shown})
        key = _key(item, inner, position, keys)
        if key is None:
            return Issue(NOT_TOP, f"its column {shown} is neither a grouping key nor an "
                         "aggregate", {"column": shown})
        grouped.add(key)
        functions.append(None)
    if len(grouped) != len(keys):
        return Issue(NOT_TOP, "a grouping key is not a column of the view")
    return SqlAggregation(items, tuple(functions), sql_read(ref))


def sql_mergeable_shape(sql: proto.SQL) -> Issue | None:
    """What `sql_aggregate_form` checks without the output types (`mergeable_shape`)."""
    found = sql_aggregation(sql)
    if isinstance(found, Issue):
        return found
    for item, function in zip(found.items, found.functions, strict=True):
        if function is not None:
            issue = _mergeable_item(item, function, LongType())
            if issue is not None:
                return issue
    return None


def sql_aggregate_form(sql: proto.SQL, view: StructType,
                       partitioned: bool = False) -> AggregateForm | Issue:
    found = sql_aggregation(sql)
    if isinstance(found, Issue):
        return found
    fields = in_query_order(view, [_item_name(item) for item in found.items], partitioned)
    if fields is None:
        return Issue(NOT_TOP, "its columns are not the SELECT list's" + (
            " (a partitioned view's are matched by name: name each aggregate with AS)"
            if partitioned else ""))
    columns: list[tuple[str, str]] = []
    for item, function, field in zip(found.items, found.functions, fields, strict=True):
        if function is not None:
            issue = _mergeable_item(item, function, field.dataType)
            if issue is not None:
                return issue
        columns.append((field.name, function or KEY))
    return AggregateForm(tuple(columns), found.read)


def _mergeable_item(item: exp.Expression, function: str, stored: DataType) -> Issue | None:
    inner = item.this if isinstance(item, exp.Alias) else item
    distinct = isinstance(inner.this, exp.Distinct)
    arguments = len(inner.expressions) + (inner.this is not None)
    return mergeable_call(function, distinct, arguments, stored)


def _item_name(item: exp.Expression) -> str | None:
    """The name sqlglot gives an item (a partitioned view's columns are matched by it)."""
    return item.alias_or_name or None


def plain_name(item: exp.Expression) -> str | None:
    """The item's name where Spark's naming of it is plain: an alias, or a column."""
    if isinstance(item, exp.Alias):
        return item.alias or None
    if isinstance(item, exp.Column) and not isinstance(item.this, exp.Star):
        return item.name or None
    return None


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
