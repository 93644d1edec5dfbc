"""Stateful streaming operators: one module each, registered by the plan node they handle.

Each micro-batch runs as a batch plan. An operator that needs earlier batches (deduplication,
watermarks, windowed aggregation; stream-stream joins next) recognises its node in that plan,
rewrites it against state it keeps in Delta tables in the flow's checkpoint, and returns the
writers that update the state once the batch's output has landed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql.connect import proto
from pyspark.sql.types import StructType

from lakesmith.engine.plans import PlanRead, all_relations
from lakesmith.engine.stateful import is_streaming_relation
from lakesmith.runtime.checkpoint import BatchWriter, Checkpoint
from lakesmith.tables.delta import DeltaLogs


@dataclass(frozen=True)
class EventTime:
    """A `withWatermark(column, delay)` in the batch's plan."""

    column: str
    delay_ms: int
    input: proto.Relation  # the rows reaching the watermark (unbound): they advance it
    index: int = 0  # its place among the flow's watermarks (innermost first, stable per plan)
    plan_id: int | None = None  # the node's plan id, kept by the relation that replaces it


@dataclass
class OperatorContext:
    """What an operator sees of the batch it rewrites.

    Watermarks follow Spark: state is evicted with this batch's watermark (`watermark_ms`), and
    late input rows are dropped with the previous batch's (`previous_watermark_ms`).
    """

    spark: Any
    checkpoint: Checkpoint
    batch: int
    logs: DeltaLogs
    reads_stream: Callable[[PlanRead], bool]
    columns_of: Callable[[proto.Relation], list[str]]  # a relation's output columns
    bind: Callable[[proto.Relation], Any]  # a rewritten relation as a DataFrame, reads bound
    watermark_ms: int = 0
    previous_watermark_ms: int = 0
    event_times: list[EventTime] = field(default_factory=list)  # set by the watermark operator
    writers: list[BatchWriter] = field(default_factory=list)
    # Per stateful operator, its progress for this batch as Spark reports it (`stateOperators`
    # in a query's progress), computed in the engine before the batch writes.
    metrics: list[Callable[[], dict[str, Any]]] = field(default_factory=list)
    # Whether a batch without input can still output rows (an aggregation emits the windows a
    # rising watermark closes); deduplication only evicts.
    emits_without_input: bool = False
    # The rows of one streaming read's slice in this batch, when its source knows them without
    # a query (a Delta source, from its log's statistics); None: count them.
    rows_of_read: Callable[[PlanRead], int | None] = lambda read: None
    # The flow's expectations (an `ExpectationSet`), when an operator whose output is the flow's
    # result as written may count them with its state (`rewrites_result`): it then sets
    # `counted`, which gives their report once the batch committed, and the flow runs no
    # counting query of its own.
    result_rules: Any = None
    rewrites_result: bool = False  # the node being rewritten is the flow's result
    counted: Callable[[], Any] | None = None
    # The result's schema, when the operator knows it without asking the engine (set with
    # `counted`): a read of a table it just wrote, whose Delta log holds it.
    result_schema: StructType | None = None

    @property
    def event_time(self) -> EventTime | None:
        """The flow's event time when it has one watermark (the first one otherwise)."""
        return self.event_times[0] if self.event_times else None


class StatefulOperator(ABC):
    """Handles one kind of plan node applied to streaming data."""

    @abstractmethod
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        """The batch-plan replacement of `node` (its input already rewritten); may add state
        writers to `ctx.writers`."""


_OPERATORS: dict[str, Callable[[], StatefulOperator]] = {}


def register_operator(node_kind: str) -> Callable[[type[StatefulOperator]],
                                                  type[StatefulOperator]]:
    def register(cls: type[StatefulOperator]) -> type[StatefulOperator]:
        _OPERATORS[node_kind] = cls
        return cls
    return register


def rewrite_stateful(relation: proto.Relation, scope: str, ctx: OperatorContext) -> proto.Relation:
    """`relation` with every stateful node over streaming data rewritten by its operator,
    innermost first. `scope` ("flow", "view:<name>") keeps state ids unique and stable."""
    rewritten = proto.Relation()
    rewritten.CopyFrom(relation)
    nodes = [rel for rel in all_relations(rewritten) if rel.WhichOneof("rel_type") in _MODULES]
    _load_operators({node.WhichOneof("rel_type") or "" for node in nodes})
    index = 0
    for node in reversed(nodes):  # innermost first: an operator sees its input rewritten
        if not is_streaming_relation(node, ctx.reads_stream):
            continue
        operator = _OPERATORS[node.WhichOneof("rel_type") or ""]()
        ctx.rewrites_result = scope == "flow" and node is rewritten
        replacement = operator.rewrite(node, f"{scope}#{index}", ctx)
        ctx.rewrites_result = False
        index += 1
        replace_node(node, replacement)
    return rewritten


def replace_node(node: proto.Relation, replacement: proto.Relation) -> None:
    """Put `replacement` in `node`'s place, keeping its plan id (df["col"] references use it)."""
    plan_id = node.common.plan_id if node.HasField("common") else None
    node.CopyFrom(replacement)
    if plan_id is not None:
        node.common.plan_id = plan_id


# Each operator's module, by the plan node it handles. A module is imported (and registers its
# operator) only when a batch's plan has its node: the join operator alone imports sqlglot, about
# 0.05 s of an update whose flows join nothing (every Auto Loader batch paid it).
_MODULES = {"aggregate": "aggregate", "deduplicate": "deduplicate", "join": "join",
            "with_watermark": "watermark"}


def _load_operators(kinds: set[str]) -> None:
    import importlib

    for kind in sorted(kinds & _MODULES.keys()):
        importlib.import_module(f"{__name__}.{_MODULES[kind]}")
