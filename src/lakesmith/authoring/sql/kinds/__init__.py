"""The statement kinds a pipeline SQL file may contain, one module each.

To support another statement, write a module with a `StatementKind` subclass and list it in
`STATEMENT_KINDS`. A statement no kind matches is refused with a message naming it.
"""

from __future__ import annotations

from lakesmith.authoring.sql.kinds.auto_cdc import AutoCdcInto
from lakesmith.authoring.sql.kinds.base import Definition, Lead, StatementKind
from lakesmith.authoring.sql.kinds.create_flow import CreateFlow
from lakesmith.authoring.sql.kinds.materialized_view import MaterializedView
from lakesmith.authoring.sql.kinds.persisted_view import CreateView
from lakesmith.authoring.sql.kinds.set_configuration import SetConfiguration
from lakesmith.authoring.sql.kinds.streaming_table import StreamingTable
from lakesmith.authoring.sql.kinds.temporary_view import TemporaryView
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.errors import SqlDefinitionError

__all__ = ["Definition", "Lead", "STATEMENT_KINDS", "StatementKind", "kind_of"]

STATEMENT_KINDS: tuple[StatementKind, ...] = (
    MaterializedView(),
    StreamingTable(),
    TemporaryView(),
    CreateView(),
    CreateFlow(),
    AutoCdcInto(),
    SetConfiguration(),
)

# What to write instead, for statements people often put in pipeline files; by spelling
# (`CREATE TABLE`) or first word (`INSERT`).
_HINTS: dict[str, str] = {
    "CREATE TABLE": "define a dataset with CREATE MATERIALIZED VIEW or CREATE STREAMING TABLE",
    "INSERT": "append with a flow: CREATE FLOW name AS INSERT INTO target BY NAME query",
    "SELECT": "a query on its own defines nothing: CREATE MATERIALIZED VIEW name AS query",
    "WITH": "a query on its own defines nothing: CREATE MATERIALIZED VIEW name AS query",
    "USE": "USE is not supported yet: qualify the dataset names instead",
    "CREATE OR REPLACE STREAMING TABLE": "write CREATE OR REFRESH STREAMING TABLE",
}


def kind_of(stream: TokenStream) -> StatementKind:
    """The kind of the statement `stream` is at; a SqlDefinitionError if none matches."""
    lead = Lead.read(stream)
    for kind in STATEMENT_KINDS:
        if kind.matches(lead):
            return kind
    raise _unsupported(stream, lead)


def _unsupported(stream: TokenStream, lead: Lead) -> SqlDefinitionError:
    spelling = lead.spelling
    supported = "; ".join(kind.title for kind in STATEMENT_KINDS)
    hint = _HINTS.get(spelling) or _HINTS.get(_without_or_clause(lead)) or _HINTS.get(
        lead.words[0] or "")
    return stream.error(
        f"{spelling} is not supported in a pipeline SQL file; supported statements: {supported}",
        hint=hint,
    )


def _without_or_clause(lead: Lead) -> str:
    return " ".join(["CREATE", *lead.create.words]) if lead.create is not None else ""
