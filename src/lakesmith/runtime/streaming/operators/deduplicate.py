"""Streaming deduplication across batches and runs.

`dropDuplicates(keys)` on a stream keeps the first row of each key ever seen, not just within a
batch. The keys seen so far live in a Delta table in the flow's checkpoint, each with the batch that
first saw it. Batch N drops its in-batch duplicates, then anti-joins (null-safe) the keys of batches
before N; rows of batch N itself never count, so re-running batch N after a crash gives the same
rows. After the batch's output commits, its new keys are appended to the state, marked with N.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto

from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import dataframe_of, relation_of
from lakesmith.runtime.checkpoint import StateAppend
from lakesmith.runtime.streaming.operators import (
    OperatorContext,
    StatefulOperator,
    register_operator,
)
from lakesmith.tables.catalog import quote_always

BATCH_COLUMN = "__lakesmith_batch"


@register_operator("deduplicate")
class Deduplicate(StatefulOperator):
    def rewrite(self, node: proto.Relation, state_id: str, ctx: OperatorContext) -> proto.Relation:
        dedup = node.deduplicate
        keys = list(dedup.column_names)
        if dedup.all_columns_as_keys or not keys:
            keys = ctx.columns_of(dedup.input)
        log = ctx.logs(ctx.checkpoint.state_location(f"dedup-{state_id}"))
        batch_rows = dataframe_of(ctx.spark, dedup.input).dropDuplicates(keys)
        if log.version() is not None:
            seen = (ctx.spark.read.format("delta").load(engine_path(log.location))
                    .where(F.col(BATCH_COLUMN) < F.lit(ctx.batch)))
            condition = [batch_rows[quote_always(k)].eqNullSafe(seen[quote_always(k)])
                         for k in keys]
            batch_rows = batch_rows.join(seen, condition, "left_anti")
        output = relation_of(batch_rows)

        def state_rows() -> Any:
            keys_df = ctx.bind(output).select(*[F.col(quote_always(k)) for k in keys])
            return keys_df.withColumn(BATCH_COLUMN, F.lit(ctx.batch).cast("bigint"))

        ctx.writers.append(StateAppend(f"state:{state_id}", log, state_rows))
        return output
