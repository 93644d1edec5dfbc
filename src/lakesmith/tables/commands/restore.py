"""`RESTORE [TABLE] t [TO] VERSION AS OF n | TIMESTAMP AS OF 'ts'`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakesmith.tables import operations
from lakesmith.tables.commands.statement import DeltaContext, TableRef, Tokens


@dataclass(frozen=True)
class Restore:
    table: TableRef
    version: int | None = None
    timestamp: str | None = None

    def run(self, context: DeltaContext) -> Any:
        row = operations.restore(context.resolve(self.table), self.table.display,
                                 version=self.version, timestamp=self.timestamp)
        return context.dataframe([row], operations.RESTORE_SCHEMA)


def parse(tokens: Tokens) -> Restore | None:
    if not tokens.take_words("RESTORE"):
        return None
    tokens.take_words("TABLE")
    table = tokens.table()
    tokens.take_words("TO")
    if tokens.take_words("VERSION", "AS", "OF"):
        version = tokens.number()
        tokens.expect_end("RESTORE")
        return Restore(table, version=int(version))
    tokens.expect_words("TIMESTAMP", "AS", "OF", statement="RESTORE")
    timestamp = tokens.string()
    tokens.expect_end("RESTORE")
    return Restore(table, timestamp=timestamp)
