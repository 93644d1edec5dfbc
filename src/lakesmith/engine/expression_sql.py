"""A Spark Connect expression written back as Spark SQL text, for the part of lakesmith that
reasons about conditions in SQL (`engine/join_time_bounds.py`).

A join condition built from Columns, `(p.paid_ts >= o.order_ts) & (p.paid_ts <= o.order_ts +
F.expr("INTERVAL 1 HOUR"))`, reaches the plan as a tree of functions, not as text; written as
`((p.paid_ts >= o.order_ts) AND (p.paid_ts <= (o.order_ts + (INTERVAL 1 HOUR))))` it is read like
a condition given as `expr(...)`. Only what conditions use is written (columns, literals,
operators, function calls, SQL text); anything else gives None, and the caller treats the
condition as having no time constraint (state kept, outer joins refused), never a wrong one.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql.connect import proto

from lakesmith.sql_literal import sql_string

_OPERATORS = {"and": "AND", "or": "OR", "==": "=", "<=>": "<=>", "!=": "!=", "<": "<",
              "<=": "<=", ">": ">", ">=": ">=", "+": "+", "-": "-", "*": "*", "/": "/"}


def expression_sql(expression: proto.Expression,
                   qualifiers: Mapping[int, str] | None = None) -> str | None:
    """`expression` as Spark SQL; `qualifiers` names the alias of the DataFrame a `df["col"]`
    reference (by its plan id) belongs to. None when some part cannot be written."""
    kind = expression.WhichOneof("expr_type")
    if kind == "unresolved_attribute":
        attribute = expression.unresolved_attribute
        name = attribute.unparsed_identifier
        if attribute.HasField("plan_id") and qualifiers and attribute.plan_id in qualifiers \
                and "." not in name:
            return f"{_quoted(qualifiers[attribute.plan_id])}.{name}"
        return name
    if kind == "expression_string":
        return f"({expression.expression_string.expression})"
    if kind == "alias":
        return expression_sql(expression.alias.expr, qualifiers)
    if kind == "literal":
        return _literal(expression.literal)
    if kind == "unresolved_function":
        function = expression.unresolved_function
        arguments = [expression_sql(a, qualifiers) for a in function.arguments]
        if any(a is None for a in arguments) or function.is_distinct:
            return None
        name = function.function_name.lower()
        if name in _OPERATORS and len(arguments) == 2:
            return f"({arguments[0]} {_OPERATORS[name]} {arguments[1]})"
        if name == "not" and len(arguments) == 1:
            return f"(NOT {arguments[0]})"
        if not name.replace("_", "").isalnum():
            return None
        return f"{name}({', '.join(a for a in arguments if a is not None)})"
    return None


def _literal(literal: proto.Expression.Literal) -> str | None:
    kind = literal.WhichOneof("literal_type")
    if kind in ("integer", "long", "short", "byte"):
        return str(getattr(literal, kind))
    if kind == "string":
        return sql_string(literal.string)
    if kind == "boolean":
        return "TRUE" if literal.boolean else "FALSE"
    if kind == "day_time_interval":
        return f"INTERVAL '{literal.day_time_interval}' MICROSECOND"
    if kind == "null":
        return "NULL"
    return None


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
