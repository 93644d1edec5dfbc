"""The dataflow graph as a picture: text for the terminal, Mermaid for Markdown (GitHub renders
it), Graphviz DOT for `dot -Tsvg`, and JSON for scripts.

Nodes are datasets (shaped by kind) and sources outside the pipeline; an edge is a flow's read,
labelled with the flow when the flow is not named after its target (append flows, AUTO CDC),
drawn dashed when the read is a stream. Expectations are listed with their action on the dataset
they belong to (a rule declared on an append flow names that flow). Names are never shortened.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lakesmith.graph.datasets import DatasetKind
from lakesmith.graph.flows import AutoCdcFlow, AutoCdcSnapshotFlow, OnceFlow, QueryFlow
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: str  # a DatasetKind label, or "external"
    # (name, action, condition, flow): flow is "" for the dataset's own rules
    expectations: tuple[tuple[str, str, str, str], ...] = ()


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    flow: str
    flow_kind: str
    streaming: bool


@dataclass
class Picture:
    name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)


def picture(graph: DataflowGraph, pipeline_name: str) -> Picture:
    result = Picture(pipeline_name)
    ids: dict[Any, str] = {}

    def node_id(key: Any) -> str:
        if key not in ids:
            ids[key] = f"n{len(ids)}"
        return ids[key]

    for name, dataset in graph.datasets.items():
        expectations = tuple((e.name, e.action.value, e.condition, "")
                             for e in dataset.expectations) + tuple(
            (e.name, e.action.value, e.condition, flow.name) for flow in graph.flows_into(name)
            if isinstance(flow.flow, QueryFlow) for e in flow.flow.expectations)
        result.nodes[str(name)] = Node(node_id(name), dataset.name, dataset.kind.label,
                                       expectations)
    for flow in graph.topological_flows():
        target = result.nodes[str(flow.target)]
        for flow_input in flow.inputs:
            if flow_input.dataset is not None:
                source = result.nodes[str(flow_input.dataset)]
            else:
                read = flow_input.read
                label = read.name or f"{read.format}:{','.join(read.paths)}"
                key = ("external", label)
                source = result.nodes.setdefault(
                    f"external:{label}", Node(node_id(key), label, "external"))
            result.edges.append(Edge(source.id, target.id, flow.name, _flow_kind(graph, flow),
                                     flow_input.read.streaming))
        if not flow.inputs:  # a flow with no read still writes its target
            result.edges.append(Edge("", target.id, flow.name, _flow_kind(graph, flow), False))
    return result


def _flow_kind(graph: DataflowGraph, flow: ResolvedFlow) -> str:
    """append (a query into a streaming table), once, auto_cdc, auto_cdc_from_snapshot, or
    query (a materialized view's or view's query)."""
    if isinstance(flow.flow, AutoCdcSnapshotFlow):
        return "auto_cdc_from_snapshot"
    if isinstance(flow.flow, AutoCdcFlow):
        return "auto_cdc"
    if isinstance(flow.flow, OnceFlow):
        return "once"
    return "append" if graph.kind(flow.target) == DatasetKind.STREAMING_TABLE else "query"


def _edge_label(edge: Edge, nodes: dict[str, Node]) -> str:
    """The flow's name when it differs from its target's, so append flows are told apart."""
    target = next(n for n in nodes.values() if n.id == edge.target)
    return "" if edge.flow.lower() == target.label.lower() else edge.flow


def _expectation_text(expectation: tuple[str, str, str, str]) -> str:
    name, action, condition, flow = expectation
    return f"{name} ({action}{f', flow {flow}' if flow else ''}): {condition}"


def to_text(pic: Picture) -> str:
    """One block per dataset: its kind, what it reads (stream or batch, through which flow) and
    its expectations; in the graph's order."""
    by_id = {n.id: n for n in pic.nodes.values()}
    lines = [f"Pipeline '{pic.name}': {sum(n.kind != 'external' for n in pic.nodes.values())} "
             "datasets"]
    for node in pic.nodes.values():
        if node.kind == "external":
            continue
        lines.append(f"{node.label} [{node.kind}]")
        for edge in (e for e in pic.edges if e.target == node.id):
            via = _edge_label(edge, pic.nodes)
            via = f"  (flow {via}, {edge.flow_kind})" if via else ""
            if not edge.source:
                lines.append(f"  <- (no input){via}")
                continue
            source = by_id[edge.source]
            how = "stream" if edge.streaming else "batch"
            outside = " (external)" if source.kind == "external" else ""
            lines.append(f"  <- {how} {source.label}{outside}{via}")
        for expectation in node.expectations:
            lines.append(f"  expect {_expectation_text(expectation)}")
    return "\n".join(lines) + "\n"


_MERMAID_SHAPES = {  # opening and closing brackets per kind
    DatasetKind.STREAMING_TABLE.label: ("[(", ")]"),
    DatasetKind.MATERIALIZED_VIEW.label: ("[", "]"),
    DatasetKind.TEMPORARY_VIEW.label: ("([", "])"),
    DatasetKind.PERSISTED_VIEW.label: ("([", "])"),
    DatasetKind.SINK.label: ("[/", "/]"),
    "external": ("{{", "}}"),
}


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: quotes and markup as entity codes."""
    return (text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
            .replace(">", "#gt;"))


def to_mermaid(pic: Picture) -> str:
    lines = ["flowchart LR"]
    for node in pic.nodes.values():
        opening, closing = _MERMAID_SHAPES.get(node.kind, ("[", "]"))
        label = _mermaid_text(node.label)
        if node.kind != "external":
            label += f"<br/><i>{node.kind}</i>"
        for expectation in node.expectations:
            label += f"<br/>✓ {_mermaid_text(_expectation_text(expectation))}"
        lines.append(f'    {node.id}{opening}"{label}"{closing}')
    for edge in pic.edges:
        if not edge.source:
            continue
        arrow = "-.->" if edge.streaming else "-->"
        via = _edge_label(edge, pic.nodes)
        label = f'|"{_mermaid_text(via)}"|' if via else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    return "\n".join(lines) + "\n"


_DOT_SHAPES = {
    DatasetKind.STREAMING_TABLE.label: "cylinder",
    DatasetKind.MATERIALIZED_VIEW.label: "box",
    DatasetKind.TEMPORARY_VIEW.label: "ellipse",
    DatasetKind.PERSISTED_VIEW.label: "ellipse",
    DatasetKind.SINK.label: "cds",
    "external": "hexagon",
}


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(pic: Picture) -> str:
    lines = [f"digraph {_dot_string(pic.name)} {{", "  rankdir=LR;"]
    for node in pic.nodes.values():
        label = node.label if node.kind == "external" else f"{node.label}\n{node.kind}"
        for expectation in node.expectations:
            label += f"\n✓ {_expectation_text(expectation)}"
        lines.append(f"  {node.id} [label={_dot_string(label)}, "
                     f"shape={_DOT_SHAPES.get(node.kind, 'box')}];")
    for edge in pic.edges:
        if not edge.source:
            continue
        attributes = ["style=dashed"] if edge.streaming else []
        via = _edge_label(edge, pic.nodes)
        if via:
            attributes.append(f"label={_dot_string(via)}")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {edge.source} -> {edge.target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(pic: Picture) -> str:
    return json.dumps({
        "pipeline": pic.name,
        "datasets": [{"id": n.id, "name": n.label, "kind": n.kind,
                      "expectations": [{"name": name, "action": action, "condition": condition,
                                        "flow": flow or None}
                                       for name, action, condition, flow in n.expectations]}
                     for n in pic.nodes.values()],
        "edges": [{"from": e.source or None, "to": e.target, "flow": e.flow,
                   "flow_kind": e.flow_kind, "streaming": e.streaming} for e in pic.edges],
    }, indent=2) + "\n"
