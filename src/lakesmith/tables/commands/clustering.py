"""`ALTER TABLE t CLUSTER BY (columns) | CLUSTER BY AUTO | CLUSTER BY NONE`: record the clustering
columns (see `tables/clustering.py`); files are clustered by the next OPTIMIZE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakesmith.tables import clustering, operations
from lakesmith.tables.commands.statement import DeltaContext, TableRef, Tokens


@dataclass(frozen=True)
class AlterClusterBy:
    table: TableRef
    columns: tuple[str, ...]  # empty: NONE or AUTO
    auto: bool = False

    def run(self, context: DeltaContext) -> Any:
        location = context.resolve(self.table)
        table = operations.require_table(location, self.table.display)
        clustering.check_columns(table, self.table.display, self.columns)
        operations.set_properties(location, self.table.display,
                                  clustering.properties(self.columns, auto=self.auto))
        return context.dataframe([], "result STRING")


def parse(tokens: Tokens) -> AlterClusterBy | None:
    if not tokens.take_words("ALTER", "TABLE"):
        return None
    table = tokens.table()
    if not tokens.take_words("CLUSTER", "BY"):
        return None  # another ALTER TABLE: the engine's
    if tokens.take_words("NONE"):
        statement = AlterClusterBy(table, ())
    elif tokens.take_words("AUTO"):
        statement = AlterClusterBy(table, (), auto=True)
    else:
        statement = AlterClusterBy(table, tuple(tokens.column_list()))
    tokens.expect_end("ALTER TABLE ... CLUSTER BY")
    return statement
