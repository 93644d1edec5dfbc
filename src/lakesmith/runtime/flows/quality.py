"""Expectations in a flow run: check a result before it is written, and keep dropped rows in the
quarantine table when the dataset asks for it (`lakesmith.quarantine = 'true'`)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from lakesmith.graph.identifiers import TableName
from lakesmith.quality.expectations import ExpectationSet, QUARANTINE_PROPERTY, QualityReport
from lakesmith.runtime.flows.base import FlowContext
from lakesmith.runtime.flows.writing import write_delta
from lakesmith.sources.delta_log import commits_after, latest_version

QUARANTINE_SUFFIX = "_quarantine"
_EVALUATIONS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="expectations")


class PendingReport:
    """Counts being computed by the engine while the flow writes its result."""

    def __init__(self, future: Future[QualityReport]) -> None:
        self._future = future

    def result(self) -> QualityReport:
        return self._future.result()


def quarantine_table(name: TableName) -> TableName:
    return replace(name, table=name.table + QUARANTINE_SUFFIX)


class FlowQuality:
    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self.rules = ExpectationSet.for_flow(ctx.graph, ctx.flow)
        properties = {k.lower(): v for k, v in ctx.dataset.table_properties.items()}
        self.quarantine = bool(self.rules.drops) and \
            properties.get(QUARANTINE_PROPERTY, "false").strip().lower() == "true"

    def check(self, df: Any) -> tuple[Any, PendingReport | None]:
        """Start evaluating the rules over `df` (one extra pass) and return the rows to write
        with the pending counts. With a `fail` rule the counts are awaited first, so a violation
        raises before anything is written; without one, the counting pass runs alongside the
        write."""
        if not self.rules:
            return df, None
        pending = PendingReport(_EVALUATIONS.submit(self.rules.evaluate, df))
        if self.rules.fails:
            self.rules.raise_on_failures(pending.result(), df, self.ctx.flow.name)
        return self.rules.kept(df), pending

    def quarantine_version(self) -> int | None:
        return latest_version(self.location) if self.quarantine else None

    @property
    def table(self) -> TableName:
        return quarantine_table(self.ctx.flow.target)

    @property
    def location(self) -> Any:
        return self.ctx.catalog.location(self.table)

    def write_quarantine(self, df: Any, report: PendingReport | None, *, batch: int | None,
                         mode: str, marker: str, checkpoint: Any = None,
                         version_before: int | None = None) -> None:
        """Write the rows `drop` rules removed. A streaming batch appends, unless a commit of
        this batch is already there (a restart after a crash); a materialized view overwrites,
        so its quarantine always shows its latest refresh."""
        if not self.quarantine or report is None:
            return
        if not report.result().dropped_records and (mode == "append" or self.quarantine_version() is None):
            return
        if checkpoint is not None and batch is not None and any(
                checkpoint.matches(c.user_metadata, batch)
                for c in commits_after(self.location, version_before)):
            return
        write_delta(self.rules.quarantined(df, self.ctx.update_id, batch), self.location,
                    mode=mode, marker=marker)
        self.ctx.catalog.register(self.table)
