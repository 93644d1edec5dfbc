"""What `CREATE … MATERIALIZED VIEW | STREAMING TABLE | TEMPORARY VIEW` statements share:

    name [( column list )] [clauses] [AS query]

and the definitions they make: a dataset and, when it has a query, its default flow.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from lakesmith.authoring.sql.columns import ColumnList, parse_column_list
from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.grammar import Name, parse_name
from lakesmith.authoring.sql.lexer import TokenType
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.authoring.sql.table_clauses import TableClauses, parse_table_clauses
from lakesmith.graph.datasets import DatasetKind, StoredTable, TemporaryView
from lakesmith.graph.flows import QueryFlow, SqlQuery
from lakesmith.graph.identifiers import quote_part

# The alias of the subquery that renames a view's columns.
RENAMED_ALIAS = "__lakesmith_renamed"


@dataclass(frozen=True)
class DatasetHeader:
    name: Name
    columns: ColumnList
    clauses: TableClauses
    after: str  # what was read last, for "expected … after …" messages


def parse_dataset_header(stream: TokenStream, kind: DatasetKind, allowed_clauses: Collection[str],
                         after: str) -> DatasetHeader:
    name = parse_name(stream, f"a {kind.label} name", after)
    after = f"the {kind.label} name"
    columns = ColumnList()
    if stream.at_punct(TokenType.L_PAREN):
        columns = parse_column_list(stream)
        after = "the column list"
    clauses, after = parse_table_clauses(stream, allowed_clauses, kind.label, after)
    return DatasetHeader(name, columns, clauses, after)


def table_of(stream: TokenStream, header: DatasetHeader,
             kind: type[StoredTable]) -> StoredTable:
    """The stored table a `CREATE MATERIALIZED VIEW | STREAMING TABLE` header defines."""
    return kind(
        name=header.name.text,
        location=stream.location(),
        comment=header.clauses.comment,
        table_properties=header.clauses.table_properties,
        partition_cols=header.clauses.partition_cols,
        cluster_by=header.clauses.cluster_by,
        cluster_by_auto=header.clauses.cluster_by_auto,
        schema=header.columns.schema,
        generated_columns=dict(header.columns.generated),
        format=header.clauses.format,
        path=header.clauses.path,
        expectations=header.columns.expectations,
    )


def view_of(stream: TokenStream, header: DatasetHeader) -> TemporaryView:
    """The temporary view a `CREATE TEMPORARY VIEW` header defines (its clauses allow only a
    comment, and its column list only names)."""
    return TemporaryView(
        name=header.name.text,
        location=stream.location(),
        comment=header.clauses.comment,
        expectations=header.columns.expectations,
    )


def default_flow(stream: TokenStream, context: FileContext, header: DatasetHeader,
                 query: SqlQuery) -> QueryFlow:
    """The flow a dataset's own query defines: same name as the dataset."""
    return QueryFlow(
        name=header.name.text,
        target=header.name.text,
        query=query,
        location=stream.location(),
        spark_conf=context.flow_conf(),
        is_default=True,
    )


def refuse_column_comments(stream: TokenStream, header: DatasetHeader) -> None:
    """Comments on untyped columns are kept for persisted views (published with them); other
    datasets give a column its comment with its type."""
    if header.columns.rename_comments:
        raise stream.error(
            "comments on columns without a type are not supported here; give the column a "
            "type, or drop the comment", header.columns.rename_comment_token)


def with_column_names(query: SqlQuery, names: tuple[str, ...]) -> SqlQuery:
    """`query` with its columns renamed to `names` (a view's untyped column list)."""
    if not names:
        return query
    columns = ", ".join(quote_part(n) for n in names)
    return SqlQuery(f"SELECT * FROM ({query.text}) AS {RENAMED_ALIAS}({columns})", query.location)
