"""`CREATE [OR REFRESH] [PRIVATE] MATERIALIZED VIEW name [(columns)] [clauses] AS query`

Also the legacy spellings `CREATE [OR REFRESH] [TEMPORARY] LIVE TABLE` and
`CREATE TEMPORARY TABLE` (a pipeline-private table on Databricks; stored like any table here).
Makes a materialized view and its default flow. An untyped column list (`(a, b)`) renames the query's columns.
"""

from __future__ import annotations

from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.dataset import (
    default_flow,
    parse_dataset_header,
    refuse_column_comments,
    table_of,
    with_column_names,
)
from lakesmith.authoring.sql.grammar import parse_query
from lakesmith.authoring.sql.kinds.base import CreateStatementKind, Definition
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.authoring.sql.table_clauses import TABLE_CLAUSES
from lakesmith.graph import datasets


class MaterializedView(CreateStatementKind):
    title = "CREATE [OR REFRESH] MATERIALIZED VIEW"
    spellings = frozenset({
        ("MATERIALIZED", "VIEW"),
        ("PRIVATE", "MATERIALIZED", "VIEW"),
        ("LIVE", "TABLE"),
        ("TEMPORARY", "LIVE", "TABLE"),
        ("TEMPORARY", "TABLE"),
        ("PRIVATE", "LIVE", "TABLE"),
    })
    or_clauses = frozenset({None, "REFRESH", "REPLACE"})

    def parse(self, stream: TokenStream, context: FileContext) -> list[Definition]:
        header = self.read_header(stream)
        table = datasets.MaterializedView
        dataset = parse_dataset_header(stream, table.kind, TABLE_CLAUSES, header.spelling)
        stream.expect("AS", after=dataset.after)
        refuse_column_comments(stream, dataset)
        query = with_column_names(parse_query(stream, "AS"), dataset.columns.renames)
        return [table_of(stream, dataset, table), default_flow(stream, context, dataset, query)]
