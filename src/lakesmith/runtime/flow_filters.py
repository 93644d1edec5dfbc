"""CLUSTER BY AUTO counts the queries of pipeline flows too: after an update, each flow it ran
that filters a CLUSTER BY AUTO table of the pipeline by columns (its DataFrame filters or SQL
WHERE clauses) is recorded once, as a session query is (`tables/query_filters.py`).

Once per update, not per micro-batch: a flow's filter is one query pattern however many batches
it took, and a continuous update's idle cycles would otherwise outweigh everyone else's queries.
"""

from __future__ import annotations

from collections.abc import Iterable

from lakesmith.errors import LakesmithError
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.identifiers import TableName, quote_part
from lakesmith.graph.model import Table
from lakesmith.tables import clustering
from lakesmith.tables.catalog import TableCatalog


def record_flow_filters(graph: DataflowGraph, catalog: TableCatalog,
                        flows: Iterable[ResolvedFlow]) -> None:
    """Count the filters of `flows` (and of the views they read) on CLUSTER BY AUTO tables.
    A pipeline without such tables has nothing to count (and does not load the SQL parser)."""
    if not any(_is_auto(graph.dataset(name)) for name in graph.stored_datasets()):
        return
    from lakesmith.tables import query_filters

    seen: set[int] = set()
    pending = list(flows)
    while pending:
        flow = pending.pop()
        if id(flow) in seen or flow.relation is None:
            continue
        seen.add(id(flow))
        pending.extend(view_flow for name in flow.upstream
                       if not isinstance(graph.dataset(name), Table)
                       for view_flow in graph.flows_into(name))
        for parts, columns in query_filters.flow_filtered_columns(flow.relation).items():
            table = _auto_table(graph, parts)
            if table is not None:
                query_filters.record(catalog.location(table), columns)


def _auto_table(graph: DataflowGraph, parts: tuple[str, ...]) -> TableName | None:
    """The pipeline table `parts` names, when it is CLUSTER BY AUTO (as defined, or as its
    properties say: `clusterByAuto` set by TBLPROPERTIES)."""
    try:
        name = graph.names.qualify(".".join(quote_part(p) for p in parts))
    except LakesmithError:
        return None
    if name not in graph.datasets:
        return None
    return name if _is_auto(graph.dataset(name)) else None


def _is_auto(dataset: object) -> bool:
    return isinstance(dataset, Table) and (dataset.cluster_by_auto
                                           or clustering.is_auto(dataset.table_properties))
