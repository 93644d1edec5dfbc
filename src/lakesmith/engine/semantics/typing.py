"""The type of a call's argument, asked of the engine: a probe query that selects just that
argument, in the same FROM / WHERE / GROUP BY scope, analysed (never run) by the engine.

sqlglot finds the scope; it is not trusted with types (it reads `1.0` as DOUBLE, Spark as
DECIMAL, and gives `avg` of a DECIMAL the type DOUBLE)."""

from __future__ import annotations

from typing import Any

import sqlglot
from pyspark.sql.types import DataType
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.engine.semantics.sql_rewrite import Typer
from lakesmith.engine.semantics.sql_text import Call, find_calls

_DIALECT = "spark"
_PROBE = "__lakesmith_probe"


def sql_typer(spark: Any) -> Typer:
    """Types of call arguments in SQL query text (a query's scope found by sqlglot)."""
    trees: dict[str, exp.Expression | None] = {}

    def typer(whole: str, call: Call) -> DataType | None:
        if whole not in trees:
            trees[whole] = _parse(whole)
        tree = trees[whole]
        if tree is None:
            return None
        node = _node_of(tree, whole, call)
        if node is None:
            return None
        probe = _probe(node)
        if probe is None:
            return None
        return _analysed_type(lambda: spark.sql(probe))

    return typer


def expression_typer(input_df: Any) -> Typer:
    """Types of call arguments in a SQL expression string applied to `input_df`."""

    def typer(whole: str, call: Call) -> DataType | None:
        if input_df is None:
            return None
        argument = whole[call.args[0][0]:call.args[0][1]].strip()
        return _analysed_type(lambda: input_df.selectExpr(argument))

    return typer


def _analysed_type(dataframe: Any) -> DataType | None:
    try:
        fields = dataframe().schema.fields
    except Exception:  # the probe is not analysable here (e.g. a correlated reference)
        return None
    return fields[0].dataType if len(fields) == 1 else None


def _parse(text: str) -> exp.Expression | None:
    try:
        statements = sqlglot.parse(text, dialect=_DIALECT)
    except (ParseError, TokenError):
        return None
    tree = statements[0] if len(statements) == 1 else None
    return tree if isinstance(tree, exp.Expression) else None


def _node_of(tree: exp.Expression, whole: str, call: Call) -> exp.Func | None:
    """The parsed node of `call`: the k-th call of its name in text order is the k-th node of
    that function in the tree (checked by comparing the argument's text)."""
    same_name = [c for c in find_calls(whole, frozenset({call.name}))]
    nodes = [n for n in tree.walk(bfs=False)
             if isinstance(n, exp.Func) and _function_name(n) == call.name]
    if len(same_name) != len(nodes) or call not in same_name:
        return None
    node = nodes[same_name.index(call)]
    argument = node.this if isinstance(node.this, exp.Expression) else None
    if argument is None:
        return None
    try:
        written = sqlglot.parse_one(whole[call.args[0][0]:call.args[0][1]], dialect=_DIALECT)
    except (ParseError, TokenError):
        return None
    return node if written.sql(_DIALECT) == argument.sql(_DIALECT) else None


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()


def _probe(node: exp.Func) -> str | None:
    select = node.find_ancestor(exp.Select)
    if select is None:
        return None
    argument = node.this.copy()
    if _is_aggregate(select) and argument.find(exp.AggFunc) is None:
        argument = exp.Anonymous(this="first", expressions=[argument])
    probe = exp.Select(expressions=[exp.alias_(argument, _PROBE)])
    for key in ("from_", "joins", "laterals", "pivots", "where", "group"):
        value = select.args.get(key)
        if value:
            probe.set(key, value.copy() if isinstance(value, exp.Expression)
                      else [v.copy() for v in value])
    root = node.root()
    with_ = root.args.get("with_") if root is not select else None
    if with_ is not None:
        probe.set("with_", with_.copy())
    return probe.sql(_DIALECT)


def _is_aggregate(select: exp.Select) -> bool:
    if select.args.get("group"):
        return True
    for expression in select.expressions:
        for agg in expression.find_all(exp.AggFunc):
            if agg.find_ancestor(exp.Window) is None:
                return True
    return False
