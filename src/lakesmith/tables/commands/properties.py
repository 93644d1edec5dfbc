"""`SHOW TBLPROPERTIES table [(key)]`: the Delta table's properties as key/value rows (a view
the session published: its TBLPROPERTIES)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakesmith.tables import operations
from lakesmith.tables.commands.statement import DeltaContext, TableRef, Tokens


@dataclass(frozen=True)
class ShowTableProperties:
    table: TableRef
    key: str | None = None

    def run(self, context: DeltaContext) -> Any:
        properties = context.view_properties(self.table)
        if properties is None:
            location = context.resolve(self.table)
            table = operations.require_table(location, self.table.display)
            properties = dict(table.metadata().configuration)
        rows = [{"key": k, "value": v} for k, v in sorted(properties.items())
                if self.key is None or k == self.key]
        if self.key is not None and not rows:
            rows = [{"key": self.key, "value": f"Table {self.table.display} does not have "
                     f"property: {self.key}"}]
        return context.dataframe(rows, "key STRING, value STRING")


def parse(tokens: Tokens) -> ShowTableProperties | None:
    if not tokens.take_words("SHOW", "TBLPROPERTIES"):
        return None
    table = tokens.table()
    key = None
    if not tokens.at_end():
        parts = tokens.rest().strip("()").strip()
        key = parts.strip("'\"`")
        tokens.i = len(tokens.tokens)
    return ShowTableProperties(table, key)
