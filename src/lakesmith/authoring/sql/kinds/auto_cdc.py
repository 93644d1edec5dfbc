"""`AUTO CDC INTO target FROM STREAM(source) KEYS (…) … SEQUENCE BY …` and the legacy spelling
`APPLY CHANGES INTO [LIVE.]target …`: an AUTO CDC flow named after its target."""

from __future__ import annotations

from lakesmith.authoring.sql.cdc import parse_auto_cdc
from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.kinds.base import Definition, Lead, StatementKind
from lakesmith.authoring.sql.stream import TokenStream


class AutoCdcInto(StatementKind):
    title = "AUTO CDC INTO (or APPLY CHANGES INTO)"

    def matches(self, lead: Lead) -> bool:
        return lead.words[:3] in (("AUTO", "CDC", "INTO"), ("APPLY", "CHANGES", "INTO"))

    def parse(self, stream: TokenStream, context: FileContext) -> list[Definition]:
        return [parse_auto_cdc(stream, context, None, stream.location())]
