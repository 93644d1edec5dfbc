"""`DESC[RIBE] [EXTENDED | FORMATTED] name`: a table's or view's columns (with their comments),
as Spark answers it. The engine's parser wants `DESCRIBE TABLE name` and refuses the short form
Databricks users type; the statement is given to the engine in its long form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lakesmith.tables.commands.statement import DeltaContext, TableRef, Tokens

# Words after DESCRIBE that make another statement (left to other modules or the engine).
_OTHER_STATEMENTS = ("TABLE", "HISTORY", "DETAIL", "QUERY", "FUNCTION", "SCHEMA", "DATABASE",
                     "CATALOG", "NAMESPACE", "SELECT", "WITH", "FROM", "VALUES")


@dataclass(frozen=True)
class DescribeTable:
    table: TableRef
    extended: bool

    def run(self, context: DeltaContext) -> Any:
        extended = "EXTENDED " if self.extended else ""
        return context.engine_sql(f"DESCRIBE TABLE {extended}{self.table.engine_name()}")


def parse(tokens: Tokens) -> DescribeTable | None:
    if not (tokens.take_words("DESCRIBE") or tokens.take_words("DESC")):
        return None
    extended = tokens.take_words("EXTENDED") or tokens.take_words("FORMATTED")
    if any(tokens.is_word(word) for word in _OTHER_STATEMENTS) or tokens.at_end():
        return None
    table = tokens.table()
    if not tokens.at_end():  # a column (`DESCRIBE t col`): the engine's answer or refusal
        return None
    return DescribeTable(table, extended)
