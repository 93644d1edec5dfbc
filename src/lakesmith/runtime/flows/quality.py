"""Expectations in a flow run: check a result before it is written, and keep dropped rows in the
quarantine table when the dataset asks for it (`lakesmith.quarantine = 'true'`)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from lakesmith.graph.identifiers import TableName
from lakesmith.graph.model import Table
from lakesmith.quality.expectations import QUARANTINE_PROPERTY, ExpectationSet, QualityReport
from lakesmith.runtime.checkpoint import AppendWithMarker, BatchWriter, Overwrite
from lakesmith.runtime.checkpoint.crash import AFTER_QUARANTINE
from lakesmith.runtime.flows.base import FlowContext

QUARANTINE_SUFFIX = "_quarantine"
QUARANTINE_WRITER = "quarantine"


class PendingReport:
    """Counts being computed by the engine while the flow writes its result."""

    def __init__(self, future: Future[QualityReport]) -> None:
        self._future = future

    def result(self) -> QualityReport:
        return self._future.result()


class CountedReport(PendingReport):
    """Counts read once the batch committed, from what its writes recorded (`count`)."""

    def __init__(self, count: Callable[[], QualityReport]) -> None:
        self._count = count
        self._report: QualityReport | None = None

    def result(self) -> QualityReport:
        if self._report is None:
            self._report = self._count()
        return self._report


def quarantine_table(name: TableName) -> TableName:
    return replace(name, table=name.table + QUARANTINE_SUFFIX)


def keeps_quarantine(dataset: Any) -> bool:
    """Whether the dataset keeps rows its `drop` rules remove (`lakesmith.quarantine = 'true'`)."""
    properties = ({k.lower(): v for k, v in dataset.table_properties.items()}
                  if isinstance(dataset, Table) else {})
    return properties.get(QUARANTINE_PROPERTY, "false").strip().lower() == "true"


class FlowQuality:
    def __init__(self, ctx: FlowContext) -> None:
        self.ctx = ctx
        self.rules = ExpectationSet.for_flow(ctx.graph, ctx.flow)
        self.quarantine = bool(self.rules.drops) and keeps_quarantine(ctx.dataset)

    def countable_by_state(self) -> ExpectationSet | None:
        """The rules, when a stateful operator whose rows are the flow's result as written may
        count them with the state it writes: no `fail` rule (it must stop the batch before
        anything is written), no quarantine (its writer needs the counts first), no declared
        schema (the written rows are then the query's own)."""
        if not self.rules or self.rules.fails or self.quarantine or \
                self.ctx.table.schema is not None:
            return None
        return self.rules

    def counted(self, df: Any, count: Callable[[], QualityReport]
                ) -> tuple[Any, PendingReport]:
        """The rows to write when the rules are counted by a state write (`count`, once the
        batch committed): no counting query. The result's schema, which the write asks, is
        asked now, before the batch's writes keep the engine busy."""
        df.schema  # noqa: B018
        return self.rules.kept(df), CountedReport(count)

    def check(self, df: Any) -> tuple[Any, PendingReport | None]:
        """Start evaluating the rules over `df` (one extra pass) and return the rows to write
        with the pending counts. With a `fail` rule the counts are awaited first, so a violation
        raises before anything is written; without one, the counting pass runs alongside the
        write."""
        if not self.rules:
            return df, None
        # The result's schema, which the write asks (`schema.nullable`), asked now: the rows to
        # write keep it (a filter's schema is its input's), and the request does not wait in the
        # engine behind the counting query (5-15 ms of the batch's path).
        df.schema  # noqa: B018
        pending = PendingReport(self.ctx.workspace.evaluations.submit(self.rules.evaluate, df))
        if self.rules.fails:
            self.rules.raise_on_failures(pending.result(), df, self.ctx.flow.name)
        return self.rules.kept(df), pending

    @property
    def table(self) -> TableName:
        return quarantine_table(self.ctx.flow.target)

    def writer(self, df: Any, report: PendingReport | None, *, batch: int | None,
               overwrite: bool = False) -> BatchWriter | None:
        """The writer of the rows `drop` rules removed: a streaming batch appends them (nothing
        when none were dropped); a materialized view overwrites, so its quarantine always shows
        its latest refresh."""
        if not self.quarantine or report is None:
            return None
        log = self.ctx.workspace.table_log(self.table)

        def rows() -> Any | None:
            assert report is not None
            if not report.result().dropped_records and (not overwrite or log.version() is None):
                return None
            return self.rules.quarantined(df, self.ctx.update_id, batch)

        if overwrite:
            return Overwrite(QUARANTINE_WRITER, log, rows, crash_point=AFTER_QUARANTINE)
        return AppendWithMarker(QUARANTINE_WRITER, log, rows, crash_point=AFTER_QUARANTINE)

    def register(self) -> None:
        if self.quarantine and self.ctx.catalog.exists(self.table):
            self.ctx.catalog.register(self.table)
