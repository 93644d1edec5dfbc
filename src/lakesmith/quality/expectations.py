"""Evaluating expectations on a flow's result, in one extra pass over it.

Every expectation becomes a flag, `coalesce(condition, false)` (a NULL result fails, as on
Databricks). One aggregation counts the failures of every rule; then the flow writes the rows
that pass every `drop` rule. A `fail` rule that any row violates stops the flow before it writes,
with an offending row in the message. Where the flow's result rows are written anyway with
other columns (a deduplication's new keys), the flags can ride along instead
(`count_columns`): the counts are then read from the written files' statistics, no extra pass.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.errors import LakesmithError
from lakesmith.graph.expectations import Expectation, ExpectationAction
from lakesmith.graph.flows import QueryFlow
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow

FAILED_RULES_COLUMN = "_failed_expectations"
UPDATE_COLUMN = "_update_id"
BATCH_COLUMN = "_batch_id"
QUARANTINE_PROPERTY = "lakesmith.quarantine"


class ExpectationViolation(LakesmithError):
    """An `expect_or_fail` rule was violated: the flow's update stops, nothing is written."""


@dataclass(frozen=True)
class DatasetExpectation:
    expectation: Expectation
    dataset: str  # the dataset the rule belongs to, as the event log names it


@dataclass
class QualityReport:
    """Counts of one evaluation (one batch or one refresh), or of several added together."""

    passed: dict[tuple[str, str], int] = field(default_factory=dict)  # (dataset, name) -> rows
    failed: dict[tuple[str, str], int] = field(default_factory=dict)
    dropped_records: int = 0

    def add(self, other: QualityReport) -> None:
        for key, value in other.passed.items():
            self.passed[key] = self.passed.get(key, 0) + value
        for key, value in other.failed.items():
            self.failed[key] = self.failed.get(key, 0) + value
        self.dropped_records += other.dropped_records

    def to_event(self) -> dict[str, Any]:
        """The `data_quality` object of a Databricks `flow_progress` event."""
        return {
            "dropped_records": self.dropped_records,
            "expectations": [
                {"name": name, "dataset": dataset, "passed_records": self.passed[(dataset, name)],
                 "failed_records": self.failed.get((dataset, name), 0)}
                for dataset, name in self.passed
            ],
        }


class ExpectationSet:
    def __init__(self, rules: Sequence[DatasetExpectation]) -> None:
        self.rules = list(rules)

    @staticmethod
    def for_flow(graph: DataflowGraph, flow: ResolvedFlow) -> ExpectationSet:
        """The target dataset's rules (they apply to every flow into it) and the flow's own."""
        dataset = graph.dataset(flow.target)
        # A query flow may carry its own rules; an AUTO CDC flow has only its target's.
        own = flow.flow.expectations if isinstance(flow.flow, QueryFlow) else ()
        return ExpectationSet([DatasetExpectation(e, dataset.name)
                               for e in (*dataset.expectations, *own)])

    def __bool__(self) -> bool:
        return bool(self.rules)

    @property
    def fails(self) -> list[int]:
        return [i for i, r in enumerate(self.rules) if r.expectation.action == ExpectationAction.FAIL]

    @property
    def drops(self) -> list[int]:
        return [i for i, r in enumerate(self.rules) if r.expectation.action == ExpectationAction.DROP]

    def _flag(self, i: int) -> Any:
        return F.coalesce(F.expr(f"({self.rules[i].expectation.condition})").cast("boolean"),
                          F.lit(False))

    def evaluate(self, df: Any) -> QualityReport:
        """One aggregation over `df`: rows in total, failures of each rule, rows dropped."""
        aggregates = [F.count(F.lit(1)).alias("total")]
        for i in range(len(self.rules)):
            aggregates.append(F.sum(F.when(self._flag(i), 0).otherwise(1)).alias(f"failed_{i}"))
        if self.drops:
            kept = _all(self._flag(i) for i in self.drops)
            aggregates.append(F.sum(F.when(kept, 0).otherwise(1)).alias("dropped"))
        row = df.agg(*aggregates).collect()[0].asDict()
        total = int(row["total"])
        report = QualityReport(dropped_records=int(row.get("dropped") or 0))
        for i, rule in enumerate(self.rules):
            key = (rule.dataset, rule.expectation.name)
            failed = int(row[f"failed_{i}"] or 0)
            report.passed[key] = report.passed.get(key, 0) + total - failed
            report.failed[key] = report.failed.get(key, 0) + failed
        return report

    def count_columns(self) -> list[tuple[str, Any]]:
        """Columns that let a table's statistics count the rules: per rule one that is NULL
        where the row passes it, and one NULL where the row passes every `drop` rule (when
        there are some). Their names digest the rules, so counts are read only from rows
        flagged by these same rules. Written with rows that are the flow's result, the null
        counts of the files give `evaluate`'s report without a query (`report_from_counts`)."""
        columns = [(_count_column(f"expect_{i}", [self.rules[i]]),
                    F.when(self._flag(i), F.lit(None).cast("boolean")).otherwise(F.lit(True)))
                   for i in range(len(self.rules))]
        if self.drops:
            kept = _all(self._flag(i) for i in self.drops)
            columns.append((_count_column("dropped", [self.rules[i] for i in self.drops]),
                            F.when(kept, F.lit(None).cast("boolean")).otherwise(F.lit(True))))
        return columns

    def report_from_counts(self, total: int, failing: dict[str, int]) -> QualityReport:
        """`evaluate`'s report from the rows flagged by `count_columns` (`total`) and, per
        column name, the rows where it is not NULL."""
        names = [name for name, _ in self.count_columns()]
        report = QualityReport(dropped_records=failing[names[-1]] if self.drops else 0)
        for rule, name in zip(self.rules, names, strict=False):
            key = (rule.dataset, rule.expectation.name)
            report.passed[key] = report.passed.get(key, 0) + total - failing[name]
            report.failed[key] = report.failed.get(key, 0) + failing[name]
        return report

    def raise_on_failures(self, report: QualityReport, df: Any, flow: str) -> None:
        """Stop with the first violated `fail` rule, its count and one offending row."""
        for i, rule in enumerate(self.rules):
            expectation = rule.expectation
            failed = report.failed.get((rule.dataset, expectation.name), 0)
            if expectation.action != ExpectationAction.FAIL or not failed:
                continue
            example = df.where(~self._flag(i)).limit(1).collect()
            shown = json.dumps(example[0].asDict(), default=str) if example else "(not found)"
            where = f" (declared at {expectation.location})" if expectation.location else ""
            raise ExpectationViolation(
                f"[EXPECTATION_VIOLATION] Flow '{flow}' failed expectation '{expectation.name}' of "
                f"dataset '{rule.dataset}'{where}: {failed} row(s) violate "
                f"`{expectation.condition}`, for example {shown}. Nothing of this update's batch "
                "was written.",
                hint="fix the data or the rule, or use expect_or_drop to drop such rows.")

    def kept(self, df: Any) -> Any:
        """The rows that pass every `drop` rule."""
        if not self.drops:
            return df
        return df.where(_all(self._flag(i) for i in self.drops))

    def quarantined(self, df: Any, update_id: str, batch: int | None) -> Any:
        """The rows a `drop` rule removes, with the names of the rules each failed."""
        names = F.array_compact(F.array(*[
            F.when(~self._flag(i), F.lit(self.rules[i].expectation.name)) for i in self.drops]))
        return (df.where(~_all(self._flag(i) for i in self.drops))
                .withColumn(FAILED_RULES_COLUMN, names)
                .withColumn(UPDATE_COLUMN, F.lit(update_id))
                .withColumn(BATCH_COLUMN, F.lit(batch).cast("bigint")))


def _count_column(kind: str, rules: Sequence[DatasetExpectation]) -> str:
    """A flag column's name: its kind and a digest of its rules (dataset, name, condition)."""
    text = "\n".join(f"{r.dataset}\n{r.expectation.name}\n{r.expectation.condition}"
                     for r in rules)
    return f"__lakesmith_{kind}_{hashlib.sha1(text.encode()).hexdigest()[:12]}"


def _all(flags: Iterable[Any]) -> Any:
    result = None
    for flag in flags:
        result = flag if result is None else (result & flag)
    return result if result is not None else F.lit(True)
