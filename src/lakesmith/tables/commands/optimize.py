"""`OPTIMIZE table [WHERE partition predicate] [ZORDER BY (columns)]`: compaction, Z-ordering, or
clustering of a clustered table's files not yet clustered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from lakesmith.tables import operations
from lakesmith.tables.commands.statement import (
    DeltaContext,
    DeltaStatementError,
    TableRef,
    Tokens,
)

_OPERATORS: dict[type[exp.Expression], str] = {
    exp.EQ: "=", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}


@dataclass(frozen=True)
class Optimize:
    table: TableRef
    where: tuple[operations.PartitionFilter, ...] = ()
    zorder_by: tuple[str, ...] = ()

    def run(self, context: DeltaContext) -> Any:
        result = operations.optimize(context.resolve(self.table), self.table.display,
                                     where=self.where, zorder_by=self.zorder_by,
                                     spark=context.spark)
        return context.dataframe([result.row], operations.OPTIMIZE_SCHEMA)


def parse(tokens: Tokens) -> Optimize | None:
    if not tokens.take_words("OPTIMIZE"):
        return None
    table = tokens.table()
    where: tuple[operations.PartitionFilter, ...] = ()
    if tokens.take_words("WHERE"):
        start = tokens.i
        while not tokens.at_end() and not tokens.is_word("ZORDER", "BY") \
                and not tokens.is_word("FULL"):
            tokens.i += 1
        end = tokens.tokens[tokens.i - 1].end + 1
        where = partition_filters(tokens.text[tokens.tokens[start].start:end])
    zorder: tuple[str, ...] = ()
    if tokens.take_words("ZORDER", "BY"):
        zorder = tuple(tokens.column_list())
    tokens.take_words("FULL")
    tokens.expect_end("OPTIMIZE")
    return Optimize(table, where, zorder)


def partition_filters(predicate: str) -> tuple[operations.PartitionFilter, ...]:
    """`a = 1 AND b IN ('x', 'y')` as delta-rs partition filters; anything else is refused (the
    WHERE of OPTIMIZE selects partitions)."""
    try:
        tree = sqlglot.parse_one(predicate, dialect="databricks")
    except ParseError as e:
        raise DeltaStatementError(f"OPTIMIZE: cannot read the WHERE clause {predicate!r}: "
                                  f"{e}") from e
    filters = []
    parts: list[Any] = list(tree.flatten()) if isinstance(tree, exp.And) else [tree]
    for part in parts:
        filters.append(_filter(part, predicate))
    return tuple(filters)


def _filter(node: Any, predicate: str) -> operations.PartitionFilter:
    if isinstance(node, exp.Paren):
        return _filter(node.this, predicate)
    if isinstance(node, exp.In) and isinstance(node.this, exp.Column):
        return (node.this.name, "in", [_literal(v, predicate) for v in node.expressions])
    if isinstance(node, exp.Not) and isinstance(node.this, exp.In):
        inner = _filter(node.this, predicate)
        return (inner[0], "not in", inner[2])
    operator = _OPERATORS.get(type(node))
    if operator is not None:
        left, right = node.this, node.expression
        if isinstance(left, exp.Column):
            return (left.name, operator, _literal(right, predicate))
    raise DeltaStatementError(
        f"OPTIMIZE: the WHERE clause must compare partition columns with values "
        f"(column = value, column IN (...), joined by AND); cannot use {node.sql()!r} of "
        f"{predicate!r}.")


def _literal(node: Any, predicate: str) -> str:
    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return f"-{node.this.this}"
    raise DeltaStatementError(f"OPTIMIZE: {node.sql()!r} in the WHERE clause {predicate!r} is "
                              "not a literal value.")
