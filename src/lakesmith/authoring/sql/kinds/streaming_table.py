"""`CREATE [OR REFRESH] [PRIVATE | TEMPORARY] STREAMING TABLE name [(columns)] [clauses] [AS query]`

Also the legacy spellings `CREATE STREAMING LIVE TABLE` and `CREATE INCREMENTAL LIVE TABLE`, and
`… FLOW AUTO CDC FROM STREAM(src) KEYS (…) …` in place of `AS query`. Makes a streaming table;
with `AS query`, its default flow; with `FLOW AUTO CDC`, an AUTO CDC flow of the table's name.
Without either, other flows (`CREATE FLOW … INSERT INTO`, `AUTO CDC INTO`) fill it.
"""

from __future__ import annotations

from lakesmith.authoring.sql.cdc import parse_cdc_clauses
from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.dataset import (
    default_flow,
    parse_dataset_header,
    refuse_column_comments,
    table_of,
)
from lakesmith.authoring.sql.grammar import parse_query
from lakesmith.authoring.sql.kinds.base import CreateStatementKind, Definition
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.authoring.sql.table_clauses import TABLE_CLAUSES
from lakesmith.graph import datasets


class StreamingTable(CreateStatementKind):
    title = "CREATE [OR REFRESH] STREAMING TABLE"
    spellings = frozenset({
        ("STREAMING", "TABLE"),
        ("PRIVATE", "STREAMING", "TABLE"),
        ("TEMPORARY", "STREAMING", "TABLE"),
        ("STREAMING", "LIVE", "TABLE"),
        ("TEMPORARY", "STREAMING", "LIVE", "TABLE"),
        ("INCREMENTAL", "LIVE", "TABLE"),
        ("TEMPORARY", "INCREMENTAL", "LIVE", "TABLE"),
    })

    def parse(self, stream: TokenStream, context: FileContext) -> list[Definition]:
        header = self.read_header(stream)
        table = datasets.StreamingTable
        dataset = parse_dataset_header(stream, table.kind, TABLE_CLAUSES, header.spelling)
        refuse_column_comments(stream, dataset)
        if dataset.columns.renames:
            raise stream.error(
                "a streaming table's column list must give every column a type; column names "
                "without types (renaming the query's columns) are only allowed on views and "
                "materialized views", dataset.columns.token)
        definitions: list[Definition] = [table_of(stream, dataset, table)]
        if stream.accept("AS"):
            definitions.append(default_flow(stream, context, dataset, parse_query(stream, "AS")))
        elif stream.accept("FLOW", "AUTO", "CDC"):
            definitions.append(parse_cdc_clauses(
                stream, context, name=dataset.name.text, target=dataset.name.text,
                location=stream.location(), after="FLOW AUTO CDC"))
        elif not stream.at_end:
            raise stream.unexpected("AS, FLOW AUTO CDC or the end of the statement", dataset.after)
        return definitions
