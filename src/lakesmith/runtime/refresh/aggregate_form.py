"""Whether a materialized view's query has the form GROUP_AGGREGATE maintains: an aggregation
at the top of the plan (grouping keys; `count`, `count(*)`, `sum` of integers or decimals,
`min` / `max` of non-floating-point values), over filters and projections of one table read.

Each such aggregate of all rows equals the same aggregate of its values over the old rows and
over the new rows (a sum adds, a count adds, a minimum is the smaller): the view's stored row of a
group is its aggregate over the old rows, so the new result is the stored rows merged with the
aggregation of the new rows alone. Floating-point sums are left out (their value depends on the
order of the additions), as are `avg`, DISTINCT aggregates, HAVING (a filter above the
aggregate drops groups whose stored values would be needed later) and anything else.

The view's columns are the aggregation's outputs in order (keys, then aggregates), as Spark
names them: their names and types are read from the view's stored schema, so recognising the
form asks the engine nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from pyspark.sql.connect import proto
from pyspark.sql.types import (
    DataType,
    DecimalType,
    LongType,
    StructField,
    StructType,
)

from lakesmith.engine.plans import PlanRead, nested_messages, plan_read
from lakesmith.engine.semantics.float_keys import is_floating
from lakesmith.runtime.refresh.planning import Issue

KEY = "key"
MERGEABLE = frozenset({"count", "sum", "min", "max"})
# Relations between the aggregate and the read that keep each row or drop it, row by row.
ROW_BY_ROW = frozenset({"filter", "project", "with_columns", "with_columns_renamed", "drop",
                        "subquery_alias"})

# Spark's aggregate functions: one in a projection below the aggregation makes it another
# aggregation.
AGGREGATE_FUNCTIONS = frozenset({
    "any", "any_value", "approx_count_distinct", "approx_percentile", "array_agg", "avg",
    "bit_and", "bit_or", "bit_xor", "bitmap_construct_agg", "bitmap_or_agg", "bool_and",
    "bool_or", "collect_list", "collect_set", "corr", "count", "count_if", "count_min_sketch",
    "covar_pop", "covar_samp", "every", "first", "first_value", "grouping", "grouping_id",
    "histogram_numeric", "hll_sketch_agg", "hll_union_agg", "kurtosis", "last", "last_value",
    "listagg", "max", "max_by", "mean", "median", "min", "min_by", "mode", "percentile",
    "percentile_approx", "product", "regr_avgx", "regr_avgy", "regr_count", "regr_intercept",
    "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy", "skewness", "some", "std",
    "stddev", "stddev_pop", "stddev_samp", "string_agg", "sum", "try_avg", "try_sum",
    "var_pop", "var_samp", "variance"})
_EXPRESSION = proto.Expression.DESCRIPTOR.full_name
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")

OPERATOR = "OPERATOR_NOT_INCREMENTALIZABLE"
NOT_TOP = "AGGREGATE_NOT_TOP_NODE"
FUNCTION = "AGGREGATE_FUNCTION_NOT_INCREMENTALIZABLE"


@dataclass(frozen=True)
class AggregateForm:
    """The view's columns with what each one is (`key`, or the aggregate function), and the
    one table the aggregation reads."""

    columns: tuple[tuple[str, str], ...]
    read: PlanRead

    @property
    def keys(self) -> list[str]:
        return [name for name, function in self.columns if function == KEY]


def aggregate_form(relation: proto.Relation, view: StructType,
                   partitioned: bool = False) -> AggregateForm | Issue:
    """The form of `relation`, its outputs named and typed by the view's stored schema:
    matched by position, or, in a partitioned view (the engine stores its partition columns
    last), by name."""
    kind = relation.WhichOneof("rel_type")
    if kind == "sql":
        from lakesmith.runtime.refresh.sql_aggregate_form import sql_aggregate_form

        return sql_aggregate_form(relation.sql, view, partitioned)
    if kind != "aggregate":
        return Issue(NOT_TOP, f"the top of its query is a {kind}, not an aggregation",
                     {"operator_name": kind})
    aggregate = relation.aggregate
    if aggregate.group_type != proto.Aggregate.GroupType.GROUP_TYPE_GROUPBY \
            or aggregate.HasField("pivot"):
        name = proto.Aggregate.GroupType.Name(aggregate.group_type)
        return Issue(OPERATOR, f"it aggregates with {name}", {"operator_name": name})
    outputs = [*aggregate.grouping_expressions, *aggregate.aggregate_expressions]
    fields = in_query_order(view, [output_name(e) for e in outputs], partitioned)
    if fields is None:
        return Issue(NOT_TOP, "its columns are not the aggregation's outputs" + (
            " (a partitioned view's are matched by name: name each aggregate with an alias)"
            if partitioned else ""))
    columns = [(f.name, KEY) for f in fields[:len(aggregate.grouping_expressions)]]
    for expression, stored in zip(aggregate.aggregate_expressions,
                                  fields[len(aggregate.grouping_expressions):], strict=True):
        function = _function(expression)
        issue = _mergeable(function, stored.dataType)
        if issue is not None:
            return issue
        assert function is not None
        columns.append((stored.name, function.function_name.lower()))
    read = _single_read(aggregate.input)
    if isinstance(read, Issue):
        return read
    return AggregateForm(tuple(columns), read)


def in_query_order(view: StructType, names: list[str | None],
                   by_name: bool) -> list[StructField] | None:
    """The view's stored columns in the order of the query's outputs (their `names` where the
    plan says them): as stored, or (`by_name`: a partitioned view, whose partition columns the
    engine stores last) found by name; None when they are not the same columns."""
    if len(names) != len(view.fields):
        return None
    if not by_name:
        return list(view.fields)
    fields = {f.name.lower(): f for f in view.fields}
    if any(n is None for n in names) or \
            len({n.lower() for n in names if n is not None}) != len(names):
        return None
    found = [fields.get(n.lower()) for n in names if n is not None]
    return None if any(f is None for f in found) else [f for f in found if f is not None]


def output_name(expression: proto.Expression) -> str | None:
    """The name of an aggregation's output when the plan says it: an alias, or a column
    grouped by (`c`, `t.c`, `` `c` ``); None for anything the engine names."""
    kind = expression.WhichOneof("expr_type")
    if kind == "alias" and len(expression.alias.name) == 1:
        return str(expression.alias.name[0])
    if kind == "unresolved_attribute":
        identifier = expression.unresolved_attribute.unparsed_identifier
        if "`" in identifier:
            inner = identifier.strip("`")
            return None if "`" in inner or "." in inner else inner
        return str(identifier.rsplit(".", 1)[-1])
    return None


def mergeable_shape(relation: proto.Relation) -> Issue | None:
    """What `aggregate_form` checks of an aggregation without its output types: the grouping,
    the functions' names, the one table read. Checked before asking the engine for those
    types (an aggregation that has no backing table yet)."""
    if relation.WhichOneof("rel_type") == "sql":
        from lakesmith.runtime.refresh.sql_aggregate_form import sql_mergeable_shape

        return sql_mergeable_shape(relation.sql)
    aggregate = relation.aggregate
    if aggregate.group_type != proto.Aggregate.GroupType.GROUP_TYPE_GROUPBY \
            or aggregate.HasField("pivot"):
        name = proto.Aggregate.GroupType.Name(aggregate.group_type)
        return Issue(OPERATOR, f"it aggregates with {name}", {"operator_name": name})
    for expression in aggregate.aggregate_expressions:
        function = _function(expression)
        if function is None or function.function_name.lower() not in MERGEABLE \
                or function.is_distinct:
            return _mergeable(function, LongType())
    read = _single_read(aggregate.input)
    return read if isinstance(read, Issue) else None


def aggregated_read(relation: proto.Relation) -> PlanRead | Issue:
    """The one table an aggregation reads (below filters and projections)."""
    if relation.WhichOneof("rel_type") == "sql":
        from lakesmith.runtime.refresh.sql_aggregate_form import sql_aggregation

        found = sql_aggregation(relation.sql)
        return found if isinstance(found, Issue) else found.read
    return _single_read(relation.aggregate.input)


def _function(expression: proto.Expression) -> proto.Expression.UnresolvedFunction | None:
    while expression.WhichOneof("expr_type") == "alias":
        expression = expression.alias.expr
    if expression.WhichOneof("expr_type") != "unresolved_function":
        return None
    return expression.unresolved_function


def _mergeable(function: Any, stored: DataType) -> Issue | None:
    if function is None:
        return Issue(FUNCTION, "an aggregate column is an expression, not one aggregate "
                     "function")
    return mergeable_call(function.function_name.lower(), function.is_distinct or
                          function.is_user_defined_function, len(function.arguments), stored)


def mergeable_call(name: str, distinct: bool, arguments: int, stored: DataType) -> Issue | None:
    """Whether the aggregate `name` of `arguments` arguments (DISTINCT or not), stored as
    `stored`, merges from the aggregates of old and new rows."""
    fields = {"function_name": name}
    if name not in MERGEABLE or distinct:
        shown = "DISTINCT " if distinct else ""
        return Issue(FUNCTION, f"it computes {name}({shown}...), which cannot be merged from "
                     "the aggregates of old and new rows", fields)
    if name == "sum" and not isinstance(stored, (LongType, DecimalType)):
        return Issue(FUNCTION, f"it sums {stored.simpleString()} values (only integer and "
                     "decimal sums do not depend on the order of the additions)", fields)
    if name in ("min", "max") and is_floating(stored):  # (a MAP is not orderable)
        return Issue(FUNCTION, f"it takes the {name} of {stored.simpleString()} values "
                     "(floating-point -0.0 and NaN have no order both engines share)", fields)
    if name != "count" and arguments != 1:
        return Issue(FUNCTION, f"{name} has {arguments} arguments", fields)
    return None


def _single_read(relation: proto.Relation) -> PlanRead | Issue:
    """The one table read below row-by-row relations."""
    while True:
        kind = relation.WhichOneof("rel_type")
        if kind == "read":
            read = plan_read(relation.read)
            if read.name is None or read.streaming:
                return Issue("INPUT_NOT_IN_DELTA", f"it aggregates a {read.describe()}, not a "
                             "pipeline table")
            return read
        if kind not in ROW_BY_ROW:
            return Issue(OPERATOR, f"it aggregates the result of a {kind}",
                         {"operator_name": kind})
        node = getattr(relation, kind)
        issue = _row_by_row(node, kind)
        if issue is not None:
            return issue
        relation = node.input


def _row_by_row(node: Message, kind: str) -> Issue | None:
    """A projection or filter whose expressions look at other rows (a window, an aggregate
    function, a subquery) is not row by row."""
    for field, value in node.ListFields():
        if field.name == "input" or field.message_type is None:
            continue
        for item in (value if field.is_repeated else [value]):
            for expression in nested_messages(item, _EXPRESSION):
                found = _across_rows(expression)
                if found is not None:
                    return Issue(OPERATOR, f"its {kind} computes {found}, which looks at other "
                                 "rows", {"operator_name": found})
    return None


def _across_rows(expression: Any) -> str | None:
    kind = str(expression.WhichOneof("expr_type"))
    if kind in ("window", "subquery_expression"):
        return kind
    if kind == "unresolved_function":
        name = str(expression.unresolved_function.function_name).lower()
        return name if name in AGGREGATE_FUNCTIONS else None
    if kind == "expression_string":
        words = {w.lower() for w in _WORD.findall(expression.expression_string.expression)}
        if "over" in words or "select" in words:
            return "a window or a subquery"
        called = AGGREGATE_FUNCTIONS & {m.lower() for m in _CALL.findall(
            expression.expression_string.expression)}
        if called:
            return min(called)
    return None
