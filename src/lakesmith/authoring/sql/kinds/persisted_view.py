"""`CREATE [OR REPLACE] VIEW [IF NOT EXISTS] name [(column [COMMENT '…'], …)] [COMMENT '…']
[TBLPROPERTIES (…)] AS query`

Makes a persisted view and its default flow, as Spark's SQL pipelines do (`CreateView` in
`SqlGraphRegistrationContext`): a named query published in the pipeline's catalog and schema,
readable by name outside the pipeline. An untyped column list (`(a, b)`) renames the query's
columns; its comments, the view's comment and its properties are published with it (Databricks'
`CREATE VIEW` has COMMENT and TBLPROPERTIES). `IF NOT EXISTS` changes nothing: the pipeline
defines the view, and each update publishes its definition, as Spark 4.3's pipelines register
it whatever the flag says.
"""

from __future__ import annotations

from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.dataset import (
    default_flow,
    parse_dataset_header,
    with_column_names,
)
from lakesmith.authoring.sql.grammar import parse_query
from lakesmith.authoring.sql.kinds.base import CreateStatementKind, Definition
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.authoring.sql.table_clauses import PERSISTED_VIEW_CLAUSES
from lakesmith.graph.datasets import DatasetKind, PersistedView


class CreateView(CreateStatementKind):
    title = "CREATE VIEW"
    spellings = frozenset({("VIEW",)})
    or_clauses = frozenset({None, "REPLACE"})

    def parse(self, stream: TokenStream, context: FileContext) -> list[Definition]:
        header = self.read_header(stream)
        start = stream.peek()
        if stream.accept("IF", "NOT", "EXISTS") and header.or_clause == "REPLACE":
            raise stream.error("CREATE VIEW with both IF NOT EXISTS and REPLACE is not allowed "
                               "(as in Spark); drop one of them", start)
        dataset = parse_dataset_header(stream, DatasetKind.PERSISTED_VIEW,
                                       PERSISTED_VIEW_CLAUSES, header.spelling)
        if dataset.columns.schema is not None:
            raise stream.error(
                "a view's column list cannot give types; list the column names only, to rename "
                "the query's columns", dataset.columns.token)
        if dataset.columns.expectations:
            raise stream.error(
                "a persisted view cannot have expectations (CONSTRAINT … EXPECT); put them on "
                "the table it reads, or use CREATE TEMPORARY VIEW", dataset.columns.token)
        stream.expect("AS", after=dataset.after)
        query = with_column_names(parse_query(stream, "AS"), dataset.columns.renames)
        view = PersistedView(name=dataset.name.text, location=stream.location(),
                             comment=dataset.clauses.comment,
                             table_properties=dataset.clauses.table_properties,
                             columns=_columns(dataset.columns.renames,
                                              dict(dataset.columns.rename_comments)))
        return [view, default_flow(stream, context, dataset, query)]


def _columns(names: tuple[str, ...], comments: dict[str, str]
             ) -> tuple[tuple[str, str | None], ...]:
    return tuple((name, comments.get(name)) for name in names)
