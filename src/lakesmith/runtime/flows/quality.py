"""Expectations in a flow run: check a result before it is written, and keep dropped rows in the
quarantine table when the dataset asks for it (`lakesmith.quarantine = 'true'`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lakesmith.graph.identifiers import TableName
from lakesmith.quality.expectations import ExpectationSet, QUARANTINE_PROPERTY, QualityReport
from lakesmith.runtime.flows.base import FlowContext
from lakesmith.sources.delta_log import commits_after, latest_version

QUARANTINE_SUFFIX = "_quarantine"


def quarantine_table(name: TableName) -> TableName:
    return replace(name, table=name.table + QUARANTINE_SUFFIX)


class FlowQuality:
    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self.rules = ExpectationSet.for_flow(ctx.graph, ctx.flow)
        properties = {k.lower(): v for k, v in ctx.dataset.table_properties.items()}
        self.quarantine = bool(self.rules.drops) and \
            properties.get(QUARANTINE_PROPERTY, "false").strip().lower() == "true"

    def check(self, df: Any) -> tuple[Any, QualityReport | None]:
        """Evaluate the rules over `df` (one pass); raise on a violated `fail` rule; return the
        rows to write and the counts."""
        if not self.rules:
            return df, None
        report = self.rules.evaluate(df)
        self.rules.raise_on_failures(report, df, self.ctx.flow.name)
        return self.rules.kept(df), report

    def quarantine_version(self) -> int | None:
        return latest_version(self.location) if self.quarantine else None

    @property
    def table(self) -> TableName:
        return quarantine_table(self.ctx.flow.target)

    @property
    def location(self) -> Any:
        return self.ctx.catalog.location(self.table)

    def write_quarantine(self, df: Any, report: QualityReport | None, *, batch: int | None,
                         mode: str, marker: str, checkpoint: Any = None,
                         version_before: int | None = None) -> None:
        """Write the rows `drop` rules removed. A streaming batch appends, unless a commit of
        this batch is already there (a restart after a crash); a materialized view overwrites,
        so its quarantine always shows its latest refresh."""
        if not self.quarantine or report is None:
            return
        if not report.dropped_records and (mode == "append" or self.quarantine_version() is None):
            return
        if checkpoint is not None and batch is not None and any(
                checkpoint.matches(c.user_metadata, batch)
                for c in commits_after(self.location, version_before)):
            return
        rows = self.rules.quarantined(df, self.ctx.update_id, batch)
        (rows.write.format("delta").mode(mode).option("mergeSchema", "true")
         .option("overwriteSchema", "true" if mode == "overwrite" else "false")
         .option("userMetadata", marker).save(str(self.location)))
        self.ctx.catalog.register(self.table)
