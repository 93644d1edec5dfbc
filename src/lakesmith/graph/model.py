"""The vocabulary of a pipeline, in one import: datasets (graph/datasets.py), flows
(graph/flows.py) and expectations (graph/expectations.py), plus the `Definitions` the authoring
layer collects.

Every authoring style (pyspark.pipelines, Databricks dlt, SQL files) produces these objects; nothing
here knows how a flow runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lakesmith.graph.datasets import (
    Dataset,
    DatasetKind,
    DltTable,
    MaterializedView,
    PersistedView,
    Sink,
    StreamingTable,
    Table,
    TemporaryView,
)
from lakesmith.graph.expectations import Expectation, ExpectationAction
from lakesmith.graph.flows import (
    AnyFlow,
    AutoCdcFlow,
    Flow,
    OnceFlow,
    PythonQuery,
    Query,
    QueryFlow,
    SqlQuery,
)

__all__ = [
    "AnyFlow", "AutoCdcFlow", "Dataset", "DatasetKind", "Definitions", "DltTable", "Expectation",
    "ExpectationAction", "Flow", "MaterializedView", "OnceFlow", "PythonQuery", "Query",
    "PersistedView", "QueryFlow", "Sink", "SqlQuery", "StreamingTable", "Table", "TemporaryView",
]


@dataclass
class Definitions:
    """Everything the pipeline's sources registered, in registration order, not yet validated."""

    datasets: list[Dataset] = field(default_factory=list)
    flows: list[AnyFlow] = field(default_factory=list)
