"""`CREATE FLOW name [COMMENT '…'] AS INSERT INTO … | AUTO CDC INTO … | APPLY CHANGES INTO …`

A named flow into a dataset defined elsewhere: an append flow (`INSERT INTO`) or a change data
capture flow (`AUTO CDC INTO`, legacy `APPLY CHANGES INTO`).
"""

from __future__ import annotations

from collections.abc import Callable

from lakesmith.authoring.sql.cdc import parse_auto_cdc
from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.grammar import parse_identifier, parse_string
from lakesmith.authoring.sql.insert_into import parse_insert_into
from lakesmith.authoring.sql.kinds.base import CreateStatementKind, Definition
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.source_location import SourceLocation

FlowBody = Callable[[TokenStream, FileContext, str, str | None, SourceLocation], Definition]


def _auto_cdc(stream: TokenStream, context: FileContext, name: str, comment: str | None,
              location: SourceLocation) -> Definition:
    return parse_auto_cdc(stream, context, name, location, comment=comment)


# What may follow `AS`, by its first words.
FLOW_BODIES: tuple[tuple[tuple[str, ...], FlowBody], ...] = (
    (("INSERT",), parse_insert_into),
    (("AUTO", "CDC"), _auto_cdc),
    (("APPLY", "CHANGES"), _auto_cdc),
)


class CreateFlow(CreateStatementKind):
    title = "CREATE FLOW name AS INSERT INTO | AUTO CDC INTO"
    spellings = frozenset({("FLOW",)})
    or_clauses = frozenset({None})

    def parse(self, stream: TokenStream, context: FileContext) -> list[Definition]:
        self.read_header(stream)
        name = parse_identifier(stream, "a flow name", "CREATE FLOW").text
        location = stream.location()
        after = f"CREATE FLOW {name}"
        comment = None
        if stream.accept("COMMENT"):
            comment = parse_string(stream, "a comment string", "COMMENT")
            after = "the COMMENT clause"
        stream.expect("AS", after=after)
        for words, parse_body in FLOW_BODIES:
            if stream.at(*words):
                return [parse_body(stream, context, name, comment, location)]
        raise stream.unexpected("INSERT INTO or AUTO CDC INTO", "AS")
