"""`DESCRIBE DETAIL table`: one row on the table (files, size, properties, clustering)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakesmith.tables import operations
from lakesmith.tables.commands.statement import DeltaContext, TableRef, Tokens


@dataclass(frozen=True)
class DescribeDetail:
    table: TableRef

    def run(self, context: DeltaContext) -> Any:
        row = operations.detail(context.resolve(self.table), self.table.display)
        return context.dataframe([row], operations.DETAIL_SCHEMA)


def parse(tokens: Tokens) -> DescribeDetail | None:
    if not (tokens.take_words("DESCRIBE", "DETAIL") or tokens.take_words("DESC", "DETAIL")):
        return None
    table = tokens.table()
    tokens.expect_end("DESCRIBE DETAIL")
    return DescribeDetail(table)
