"""The validated dataflow graph: datasets, the flows that write them, and the edges between them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lakesmith.engine.plans import PlanRead
from lakesmith.graph.datasets import Dataset, DatasetKind
from lakesmith.graph.flows import AnyFlow, AutoCdcFlow, AutoCdcSnapshotFlow, QueryFlow
from lakesmith.graph.identifiers import NameResolver, TableName


@dataclass(frozen=True)
class FlowInput:
    """One read of a flow: a dataset of this pipeline, or something outside it."""

    read: PlanRead
    dataset: TableName | None  # None: an external table or a data source


@dataclass(frozen=True, eq=False)
class ResolvedFlow:
    """A flow with its target qualified and its query's plan and inputs known; compared by
    identity (each flow is resolved once)."""

    flow: AnyFlow
    target: TableName
    relation: Any  # pyspark.sql.connect.proto.Relation; None for AUTO CDC flows
    inputs: tuple[FlowInput, ...]
    streaming: bool

    @property
    def name(self) -> str:
        return self.flow.name

    @property
    def is_auto_cdc(self) -> bool:
        return isinstance(self.flow, (AutoCdcFlow, AutoCdcSnapshotFlow))

    @property
    def query_flow(self) -> QueryFlow:
        """The flow as a query flow (default, append or once); a TypeError for AUTO CDC flows,
        which have no query: check `is_auto_cdc` first."""
        if not isinstance(self.flow, QueryFlow):
            raise TypeError(f"flow '{self.name}' is an AUTO CDC flow; it has no query.")
        return self.flow

    @property
    def upstream(self) -> frozenset[TableName]:
        return frozenset(i.dataset for i in self.inputs if i.dataset is not None)


@dataclass
class DataflowGraph:
    datasets: dict[TableName, Dataset]
    flows: list[ResolvedFlow]
    names: NameResolver
    _flows_by_target: dict[TableName, list[ResolvedFlow]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for flow in self.flows:
            self._flows_by_target.setdefault(flow.target, []).append(flow)

    def dataset(self, name: TableName) -> Dataset:
        return self.datasets[name]

    def kind(self, name: TableName) -> DatasetKind:
        return self.datasets[name].kind

    def flows_into(self, name: TableName) -> list[ResolvedFlow]:
        return self._flows_by_target.get(name, [])

    def flow(self, name: str) -> ResolvedFlow:
        for flow in self.flows:
            if flow.name.lower() == name.lower():
                return flow
        raise KeyError(name)

    def dependencies(self, flow: ResolvedFlow) -> list[ResolvedFlow]:
        """The flows that must finish before `flow` runs: every flow into a dataset it reads."""
        return [f for name in sorted(flow.upstream, key=str) for f in self.flows_into(name)
                if f is not flow]

    def topological_flows(self) -> list[ResolvedFlow]:
        """Flows in an order where each comes after everything it reads (the graph is acyclic)."""
        ordered: list[ResolvedFlow] = []
        done: set[int] = set()

        def visit(flow: ResolvedFlow) -> None:
            if id(flow) in done:
                return
            done.add(id(flow))
            for dependency in self.dependencies(flow):
                visit(dependency)
            ordered.append(flow)

        for flow in self.flows:
            visit(flow)
        return ordered

    def stored_datasets(self) -> list[TableName]:
        return [name for name, ds in self.datasets.items() if ds.kind.is_stored]
