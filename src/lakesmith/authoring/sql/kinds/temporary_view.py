"""`CREATE [OR REFRESH | OR REPLACE] TEMPORARY [STREAMING] [LIVE] VIEW name [(columns)] [COMMENT '…']
    AS query`

Makes a temporary view and its default flow. An untyped column list (`(a, b)`) renames the query's
columns; `CONSTRAINT … EXPECT` entries are the view's expectations.
"""

from __future__ import annotations

from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.dataset import (
    default_flow,
    parse_dataset_header,
    refuse_column_comments,
    view_of,
    with_column_names,
)
from lakesmith.authoring.sql.grammar import parse_query
from lakesmith.authoring.sql.kinds.base import CreateStatementKind, Definition
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.authoring.sql.table_clauses import VIEW_CLAUSES
from lakesmith.graph.datasets import DatasetKind


class TemporaryView(CreateStatementKind):
    title = "CREATE TEMPORARY VIEW"
    # `TEMPORARY STREAMING LIVE VIEW` is the legacy DLT spelling of a view over a stream (here any
    # temporary view whose query streams is one).
    spellings = frozenset({("TEMPORARY", "VIEW"), ("TEMPORARY", "LIVE", "VIEW"),
                           ("TEMPORARY", "STREAMING", "LIVE", "VIEW"),
                           ("TEMPORARY", "STREAMING", "VIEW")})
    or_clauses = frozenset({None, "REFRESH", "REPLACE"})

    def parse(self, stream: TokenStream, context: FileContext) -> list[Definition]:
        header = self.read_header(stream)
        dataset = parse_dataset_header(stream, DatasetKind.TEMPORARY_VIEW, VIEW_CLAUSES,
                                       header.spelling)
        if dataset.columns.schema is not None:
            raise stream.error(
                "a temporary view's column list cannot give types; list the column names only, "
                "to rename the query's columns", dataset.columns.token)
        stream.expect("AS", after=dataset.after)
        refuse_column_comments(stream, dataset)
        query = with_column_names(parse_query(stream, "AS"), dataset.columns.renames)
        return [view_of(stream, dataset), default_flow(stream, context, dataset, query)]
