"""`CREATE TABLE ... CLUSTER BY (columns) | AUTO`, and CREATE TABLE in a lakesmith session in
general: the engine creates the table (it rejects CLUSTER BY, so the clause is cut out and recorded
afterwards), as Delta (Databricks' default format; the engine's is Parquet) in the project's
warehouse when no LOCATION is given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlglot import TokenType

from lakesmith.engine.paths import engine_path
from lakesmith.sql_literal import sql_string
from lakesmith.tables import clustering, operations
from lakesmith.tables.commands.statement import DeltaContext, TableRef, Tokens


@dataclass(frozen=True)
class CreateTable:
    table: TableRef
    engine_sql: str  # without CLUSTER BY; LOCATION and USING added by `run` when missing
    insert_at: int  # where LOCATION goes: before `AS query`, else the end
    using_at: int  # where USING goes: right after the name and column list (the engine wants it)
    has_using: bool
    has_location: bool
    cluster_by: tuple[str, ...] | None = None  # None: no CLUSTER BY clause
    auto: bool = False

    def run(self, context: DeltaContext) -> Any:
        text = self.engine_sql
        default = None if self.has_location else context.default_location(self.table)
        if default is not None:
            clause = f"LOCATION {sql_string(engine_path(default))}"
            text = f"{text[:self.insert_at].rstrip()} {clause} {text[self.insert_at:]}"
        if not self.has_using:
            text = f"{text[:self.using_at].rstrip()} USING delta {text[self.using_at:]}"
        result = context.engine_sql(text.strip())
        if self.cluster_by is not None:
            location = context.resolve(self.table)
            table = operations.require_table(location, self.table.display)
            clustering.check_columns(table, self.table.display, self.cluster_by)
            operations.set_properties(location, self.table.display,
                                      clustering.properties(self.cluster_by, auto=self.auto))
        return result


def parse(tokens: Tokens) -> CreateTable | None:
    if not tokens.take_words("CREATE"):
        return None
    tokens.take_words("OR", "REPLACE")
    tokens.take_words("EXTERNAL")
    if not tokens.take_words("TABLE"):
        return None
    tokens.take_words("IF", "NOT", "EXISTS")
    table = tokens.table()
    text = tokens.text.strip().rstrip(";").rstrip()
    using_at = tokens.tokens[tokens.i - 1].end + 1
    column_list = tokens.peek() is not None and tokens.peek().token_type == TokenType.L_PAREN  # type: ignore[union-attr]
    cut: tuple[int, int] | None = None
    cluster_by: tuple[str, ...] | None = None
    auto = has_using = has_location = False
    insert_at = len(text)
    depth = 0
    while not tokens.at_end():
        token = tokens.peek()
        assert token is not None
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
            if depth == 0 and column_list:
                using_at, column_list = token.end + 1, False
        elif depth == 0 and tokens.take_words("CLUSTER", "BY"):
            start = token.start
            if tokens.take_words("AUTO"):
                auto, cluster_by = True, ()
            elif tokens.take_words("NONE"):
                cluster_by = ()
            else:
                cluster_by = tuple(tokens.column_list())
            cut = (start, tokens.tokens[tokens.i - 1].end + 1)
            continue
        elif depth == 0 and tokens.is_word("USING"):
            has_using = True
        elif depth == 0 and tokens.is_word("LOCATION"):
            has_location = True
        elif depth == 0 and tokens.is_word("AS"):
            insert_at = token.start
            break
        tokens.i += 1
    if cut is not None:
        width = cut[1] - cut[0]
        text = text[:cut[0]] + " " * width + text[cut[1]:]  # keep the offsets found above
    return CreateTable(table, text, insert_at, using_at, has_using, has_location, cluster_by,
                       auto)
