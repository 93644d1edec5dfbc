"""Conditions and values of the DeltaTable API (a SQL string or a Column) as SQL text.

The merge, update and delete builders run as SQL statements in the engine, so a Column is
printed back as the SQL it stands for. Columns built from names, literals, operators, functions,
casts, CASE and `expr(...)` are printed; others (UDFs, lambdas) are refused by name."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

from lakesmith.errors import LakesmithError
from lakesmith.sql_literal import sql_string

_INFIX = {"==": "=", "<=>": "<=>", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
          "+": "+", "-": "-", "*": "*", "/": "/", "%": "%", "and": "AND", "or": "OR",
          "&": "&", "|": "|", "^": "^"}


def to_sql(value: Any, what: str = "expression") -> str:
    """SQL text for a condition or value given as a string (already SQL), Column or literal."""
    if isinstance(value, str):
        return value
    expr = getattr(value, "_expr", None)
    if expr is not None:
        return _expression(expr, what)
    return _literal(value, what)


def _expression(expr: Any, what: str) -> str:
    from pyspark.sql.connect import expressions as e

    if isinstance(expr, e.SQLExpression):
        return f"({expr._expr})"
    if isinstance(expr, e.ColumnReference):
        return ".".join(_quote(p) for p in _split(expr._unparsed_identifier))
    if isinstance(expr, e.LiteralExpression):
        return _literal(expr._value, what)
    if isinstance(expr, e.ColumnAlias):
        return _expression(expr._child, what)
    if isinstance(expr, e.CastExpression):
        target = expr._data_type if isinstance(expr._data_type, str) else \
            expr._data_type.simpleString()
        return f"CAST({_expression(expr._expr, what)} AS {target})"
    if isinstance(expr, e.CaseWhen):
        branches = " ".join(f"WHEN {_expression(c, what)} THEN {_expression(v, what)}"
                            for c, v in expr._branches)
        otherwise = "" if expr._else_value is None else \
            f" ELSE {_expression(expr._else_value, what)}"
        return f"CASE {branches}{otherwise} END"
    if isinstance(expr, e.UnresolvedFunction):
        args = [_expression(a, what) for a in expr._args]
        name = expr._name
        if name in _INFIX and len(args) == 2:
            return f"({args[0]} {_INFIX[name]} {args[1]})"
        if name == "not" and len(args) == 1:
            return f"(NOT {args[0]})"
        if name in ("isNull", "isNotNull") and len(args) == 1:
            return f"({args[0]} IS {'NOT ' if name == 'isNotNull' else ''}NULL)"
        if name == "negative" and len(args) == 1:
            return f"(- {args[0]})"
        distinct = "DISTINCT " if expr._is_distinct else ""
        return f"{name}({distinct}{', '.join(args)})"
    raise LakesmithError(
        f"The {what} {expr!r} cannot be written as SQL (it is a {type(expr).__name__}).",
        hint="pass the condition or value as a SQL string, e.g. \"t.id = s.id\".")


def _literal(value: Any, what: str) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | decimal.Decimal):
        return repr(value) if not isinstance(value, decimal.Decimal) else f"{value}BD"
    if isinstance(value, str):
        return sql_string(value)
    if isinstance(value, datetime.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, datetime.date):
        return f"DATE '{value.isoformat()}'"
    raise LakesmithError(f"The {what} {value!r} ({type(value).__name__}) cannot be written as "
                         "SQL.", hint="pass it as a SQL string or a Column.")


def _split(identifier: str) -> list[str]:
    from lakesmith.graph.identifiers import split_identifier

    return split_identifier(identifier)


def _quote(part: str) -> str:
    return part if part.isidentifier() or part == "*" else "`" + part.replace("`", "``") + "`"
