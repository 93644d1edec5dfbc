"""`DESCRIBE HISTORY table [LIMIT n]`: the table's commits, newest first, Databricks' columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakesmith.tables import operations
from lakesmith.tables.commands.statement import DeltaContext, TableRef, Tokens


@dataclass(frozen=True)
class DescribeHistory:
    table: TableRef
    limit: int | None = None

    def run(self, context: DeltaContext) -> Any:
        rows = operations.history(context.resolve(self.table), self.table.display, self.limit)
        return context.dataframe(rows, operations.HISTORY_SCHEMA)


def parse(tokens: Tokens) -> DescribeHistory | None:
    if not (tokens.take_words("DESCRIBE", "HISTORY") or tokens.take_words("DESC", "HISTORY")):
        return None
    table = tokens.table()
    limit = int(tokens.number()) if tokens.take_words("LIMIT") else None
    tokens.expect_end("DESCRIBE HISTORY")
    return DescribeHistory(table, limit)
