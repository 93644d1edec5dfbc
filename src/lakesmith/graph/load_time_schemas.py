"""`df.columns` of a pipeline dataset in module-level code, while sources are still loading.

Databricks sources compute arguments from a dataset's columns at module level, e.g.
`apply_changes(..., except_column_list=[c for c in dlt.read_stream("raw").columns if ...])`.
While sources load, schema requests are answered from the definitions registered so far (the same
way the graph build answers them, `graph/planning_schemas.py`): a dataset defined earlier in load
order has its columns; a later one is still unknown and the engine's error names it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.analysis_hook import schema_requests_rewritten
from lakesmith.errors import GraphProblem, LakesmithError
from lakesmith.graph.build import FlowPlans
from lakesmith.graph.datasets import Dataset
from lakesmith.graph.identifiers import NameResolver, TableName
from lakesmith.graph.model import Definitions
from lakesmith.graph.planning_schemas import PlanningSchemas
from lakesmith.locations import Location
from lakesmith.sources.files.planning import file_reads_analysable


@contextmanager
def definitions_analysable(spark: Any, definitions: Definitions, names: NameResolver,
                           project: Location) -> Iterator[None]:
    # Query functions called here are called again when the graph is built, which reports their
    # errors; a failure here only leaves that dataset's columns unknown.
    ignored: list[GraphProblem] = []
    plans = FlowPlans(spark, frozenset(), ignored)

    made: list[PlanningSchemas] = []
    # The schemas known for the definitions registered so far; new definitions start afresh.
    current: dict[tuple[int, int], PlanningSchemas] = {}

    def resolve(relation: proto.Relation) -> proto.Relation:
        registered = (len(definitions.datasets), len(definitions.flows))
        if registered not in current:
            current.clear()
            current[registered] = PlanningSchemas(
                spark, _qualified(definitions.datasets, names), list(definitions.flows), names,
                plans.plan)
            made.append(current[registered])
        return current[registered].resolved(relation)

    try:
        with ExitStack() as stack:
            stack.enter_context(schema_requests_rewritten(spark, resolve))
            stack.enter_context(file_reads_analysable(spark, project))
            yield
    finally:
        for schemas in made:
            schemas.drop_temp_views()


def _qualified(datasets: list[Dataset], names: NameResolver) -> dict[TableName, Dataset]:
    qualified: dict[TableName, Dataset] = {}
    for dataset in datasets:
        try:
            qualified.setdefault(names.qualify(dataset.name), dataset)
        except LakesmithError:
            continue  # the graph build reports the bad name
    return qualified
