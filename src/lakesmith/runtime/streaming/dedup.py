"""Streaming deduplication across batches and runs.

`dropDuplicates(keys)` on a stream keeps the first row of each key ever seen, not just within a
batch. The keys seen so far live in a Delta table in the flow's checkpoint, each with the batch that
first saw it. Batch N drops its in-batch duplicates, then anti-joins (null-safe) the keys of batches
before N; rows of batch N itself never count, so re-running batch N after a crash gives the same
rows. After the batch's output commits, its new keys are appended to the state, marked with N.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.engine.plans import all_relations, dataframe_of, relation_of
from lakesmith.engine.stateful import is_streaming_relation
from lakesmith.runtime.streaming.checkpoint import Checkpoint, crash_point, directory_name
from lakesmith.sources.delta_log import commits_after, latest_version
from lakesmith.tables.catalog import quote_always

BATCH_COLUMN = "__lakesmith_batch"


@dataclass
class DedupState:
    """One streaming dropDuplicates of a flow (or of a view it reads) and its state table."""

    state_id: str
    path: Path
    keys: list[str]
    output: proto.Relation | None = None  # this batch's deduplicated rows (unbound)

    def version(self) -> int | None:
        return latest_version(self.path)


class Deduplication:
    """Rewrites the streaming dropDuplicates of one batch's plan and records their state."""

    def __init__(self, spark: Any, checkpoint: Checkpoint, batch: int, reads_stream: Any,
                 columns_of: Any) -> None:
        self.spark = spark
        self.checkpoint = checkpoint
        self.batch = batch
        self.reads_stream = reads_stream  # Callable[[PlanRead], bool]
        self.columns_of = columns_of  # Callable[[proto.Relation], list[str]]
        self.states: list[DedupState] = []

    def transform(self, relation: proto.Relation, scope: str) -> proto.Relation:
        rewritten = proto.Relation()
        rewritten.CopyFrom(relation)
        nodes = [rel for rel in all_relations(rewritten)
                 if rel.WhichOneof("rel_type") in ("deduplicate", "with_watermark")]
        index = 0
        for node in reversed(nodes):  # innermost first
            kind = node.WhichOneof("rel_type")
            if not is_streaming_relation(node, self.reads_stream):
                continue
            if kind == "with_watermark":  # only allowed under dropDuplicatesWithinWatermark
                _replace(node, node.with_watermark.input)
                continue
            state = self._state(f"{scope}#{index}", node.deduplicate)
            index += 1
            _replace(node, self._deduplicated(node.deduplicate.input, state))
        return rewritten

    def _state(self, state_id: str, dedup: proto.Deduplicate) -> DedupState:
        keys = list(dedup.column_names)
        if dedup.all_columns_as_keys or not keys:
            keys = self.columns_of(dedup.input)
        path = self.checkpoint.state_dir / directory_name(f"dedup-{state_id}")
        state = DedupState(state_id, path, keys)
        self.states.append(state)
        return state

    def _deduplicated(self, input_relation: proto.Relation, state: DedupState) -> proto.Relation:
        batch_rows = dataframe_of(self.spark, input_relation).dropDuplicates(state.keys)
        if state.version() is not None:
            seen = (self.spark.read.format("delta").load(str(state.path))
                    .where(F.col(BATCH_COLUMN) < F.lit(self.batch)))
            condition = [batch_rows[quote_always(k)].eqNullSafe(seen[quote_always(k)])
                         for k in state.keys]
            batch_rows = batch_rows.join(seen, condition, "left_anti")
        state.output = relation_of(batch_rows)
        return state.output

    def save(self, bind: Any, state_versions: dict[str, int | None]) -> None:
        """Append this batch's new keys to each state, unless a commit of this batch already
        landed there (a restart after a crash)."""
        for state in self.states:
            if self._landed(state, state_versions.get(state.state_id)):
                continue
            keys = bind(state.output).select(*[F.col(quote_always(k)) for k in state.keys])
            (keys.withColumn(BATCH_COLUMN, F.lit(self.batch).cast("bigint"))
             .write.format("delta").mode("append")
             .option("userMetadata", self.checkpoint.marker_json(self.batch))
             .save(str(state.path)))
        crash_point("after_state", self.checkpoint.flow, self.batch)

    def _landed(self, state: DedupState, version_before: int | None) -> bool:
        return any(self.checkpoint.matches(commit.user_metadata, self.batch)
                   for commit in commits_after(state.path, version_before))

    def versions(self) -> dict[str, int | None]:
        return {state.state_id: state.version() for state in self.states}


def _replace(node: proto.Relation, replacement: proto.Relation) -> None:
    plan_id = node.common.plan_id if node.HasField("common") else None
    node.CopyFrom(replacement)
    if plan_id is not None:
        node.common.plan_id = plan_id


