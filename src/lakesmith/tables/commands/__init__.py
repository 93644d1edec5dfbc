"""Delta utility statements the engine's SQL parser lacks (DESCRIBE HISTORY/DETAIL, RESTORE,
OPTIMIZE, VACUUM, CLUSTER BY, SHOW TBLPROPERTIES, `DESCRIBE name` without TABLE), one module per
statement, each with a `parse`
that returns None for statements it does not own. Anything else goes to the engine unchanged."""

from __future__ import annotations

from lakesmith.tables.commands import (
    clustering,
    create_table,
    describe_table,
    detail,
    history,
    optimize,
    properties,
    restore,
    vacuum,
)
from lakesmith.tables.commands.statement import (
    DeltaContext,
    DeltaStatement,
    DeltaStatementError,
    TableRef,
    Tokens,
)

STATEMENTS = (history, detail, restore, optimize, vacuum, clustering, create_table, properties,
              describe_table)

__all__ = ["DeltaContext", "DeltaStatement", "DeltaStatementError", "TableRef",
           "parse_delta_statement"]


def parse_delta_statement(text: str) -> DeltaStatement | None:
    """The Delta statement `text` is, or None when the engine should run it."""
    first = text.lstrip().split(None, 1)
    if not first or first[0].upper() not in {"DESCRIBE", "DESC", "RESTORE", "OPTIMIZE",
                                             "VACUUM", "ALTER", "CREATE", "SHOW"}:
        return None
    for module in STATEMENTS:
        tokens = Tokens(text)
        statement: DeltaStatement | None = module.parse(tokens)
        if statement is not None:
            return statement
    return None
