"""Dataset selection for `--refresh` / `--full-refresh`, as dbt selects models: a name, a glob
(`silver_*`), and graph operators — `+name` adds everything upstream of it, `name+` everything
downstream. A name that matches nothing is refused with the closest names ("did you mean").

Temporary views are never stored, so they are never selected: an operator passes through them
(`+gold` reaches the tables a view of gold's reads) and leaves them out; naming one is an error.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable, Sequence

from lakesmith.errors import UsageError
from lakesmith.graph.graph import DataflowGraph
from lakesmith.graph.identifiers import TableName

GLOB_CHARACTERS = "*?["


def select_datasets(graph: DataflowGraph, selectors: Sequence[str], option: str
                    ) -> frozenset[TableName]:
    """The stored datasets `selectors` name (each a name or glob, with optional `+` operators)."""
    selected: set[TableName] = set()
    for raw in selectors:
        text = raw.strip()
        upstream, downstream = text.startswith("+"), text.endswith("+")
        pattern = text.removeprefix("+").removesuffix("+").strip()
        if not pattern:
            raise UsageError(f"{option}: '{raw}' names no dataset.",
                             hint="write NAME, a glob such as silver_*, +NAME (with upstream) or "
                             "NAME+ (with downstream).")
        matched = _match(graph, pattern, raw, option)
        if upstream:
            matched |= _reachable(graph, matched, _upstream_of)
        if downstream:
            matched |= _reachable(graph, matched, _downstream_of)
        selected |= {name for name in matched if not graph.kind(name).is_view}
    return frozenset(selected)


def _match(graph: DataflowGraph, pattern: str, raw: str, option: str) -> set[TableName]:
    if any(c in pattern for c in GLOB_CHARACTERS):
        # A glob with dots is matched against qualified names (`default.silver_*`).
        qualified = "." in pattern
        matched = {name for name, dataset in graph.datasets.items() if fnmatch.fnmatchcase(
            (_qualified(name, pattern) if qualified else dataset.name).lower(), pattern.lower())}
        stored = {name for name in matched if not graph.kind(name).is_view}
        if not stored:
            raise UsageError(f"{option}: '{raw}' matches no table of this pipeline.",
                             hint=_known(graph))
        return stored
    name = graph.names.qualify(pattern)
    if name not in graph.datasets:
        names = sorted(d.name for d in graph.datasets.values())
        close = difflib.get_close_matches(pattern, names, n=3, cutoff=0.5)
        hint = (f"did you mean {' or '.join(repr(c) for c in close)}?" if close
                else _known(graph))
        raise UsageError(f"{option}: '{raw}' is not a dataset of this pipeline.", hint=hint)
    if graph.kind(name).is_view and pattern == raw.strip():
        raise UsageError(f"{option}: '{raw}' is a {graph.kind(name).label}, which is never stored; "
                         "name the tables that read it instead.")
    return {name}


def _qualified(name: TableName, pattern: str) -> str:
    """`schema.table` or `catalog.schema.table`, as many parts as the pattern has."""
    parts = name.parts
    return ".".join(parts[-min(len(pattern.split(".")), len(parts)):])


def _known(graph: DataflowGraph) -> str:
    return "datasets: " + (", ".join(sorted(d.name for d in graph.datasets.values())) or "(none)")


def _upstream_of(graph: DataflowGraph, name: TableName) -> set[TableName]:
    return {upstream for flow in graph.flows_into(name) for upstream in flow.upstream}


def _downstream_of(graph: DataflowGraph, name: TableName) -> set[TableName]:
    return {flow.target for flow in graph.flows if name in flow.upstream}


Step = Callable[[DataflowGraph, TableName], set[TableName]]


def _reachable(graph: DataflowGraph, start: set[TableName], step: Step) -> set[TableName]:
    seen: set[TableName] = set()
    pending = list(start)
    while pending:
        for neighbour in step(graph, pending.pop()):
            if neighbour not in seen and neighbour in graph.datasets:
                seen.add(neighbour)
                pending.append(neighbour)
    return seen
