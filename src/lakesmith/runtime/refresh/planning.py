"""The planning of a materialized view's refresh in Databricks' words: each technique
(`maintenance_type`), whether it applies, why not (`incrementalization_issues`), and which one is
chosen. The event log records it as a `planning_information` event, shaped as Databricks writes
it (`details.planning_information.technique_information[]`, `source_table_information[]`,
`target_table_information`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NO_OP = "NO_OP"
GROUP_AGGREGATE = "GROUP_AGGREGATE"
COMPLETE_RECOMPUTE = "COMPLETE_RECOMPUTE"

# FlowMetrics.details key of a flow's planning (the event log writes it as its own event).
PLANNING = "planning_information"
# FlowMetrics.details key of the technique that ran (for summaries and tests).
TECHNIQUE = "technique"


@dataclass(frozen=True)
class Issue:
    """Why a technique does not apply: `issue_type` as Databricks names it where it documents
    one (DATA_HAS_CHANGED, EXPRESSION_NOT_DETERMINISTIC, OPERATOR_NOT_INCREMENTALIZABLE,
    AGGREGATE_NOT_TOP_NODE, INPUT_NOT_IN_DELTA), `fields` to pin it down (an operator, a function,
    a table version), `explanation` in a sentence for the event's message."""

    issue_type: str
    explanation: str
    fields: dict[str, Any] = field(default_factory=dict)

    def to_event(self) -> dict[str, Any]:
        return {"issue_type": self.issue_type, "prevent_incrementalization": True,
                **self.fields}


@dataclass(frozen=True)
class Technique:
    name: str  # NO_OP, GROUP_AGGREGATE, COMPLETE_RECOMPUTE
    issues: tuple[Issue, ...] = ()
    chosen: bool = False
    cost: float | None = None  # bytes the technique reads, where estimated

    @property
    def applicable(self) -> bool:
        return not self.issues

    def to_event(self) -> dict[str, Any]:
        event: dict[str, Any] = {"maintenance_type": f"MAINTENANCE_TYPE_{self.name}",
                                 "is_chosen": self.chosen, "is_applicable": self.applicable}
        if self.cost is not None:
            event["cost"] = self.cost
        if self.issues:
            event["incrementalization_issues"] = [i.to_event() for i in self.issues]
        return event


@dataclass(frozen=True)
class PlanningInformation:
    flow: str
    techniques: tuple[Technique, ...]
    sources: tuple[dict[str, Any], ...] = ()  # source_table_information entries
    target: dict[str, Any] = field(default_factory=dict)  # target_table_information

    @property
    def chosen(self) -> str:
        (technique,) = [t for t in self.techniques if t.chosen]
        return technique.name

    def to_event(self) -> dict[str, Any]:
        return {"planning_information": {
            "technique_information": [t.to_event() for t in self.techniques],
            "source_table_information": list(self.sources),
            "target_table_information": self.target}}

    def message(self) -> str:
        """As Databricks words it, plus why the incremental technique did not apply."""
        text = f"Flow '{self.flow}' has been planned in lakesmith to be executed as {self.chosen}."
        if self.chosen == COMPLETE_RECOMPUTE:
            reasons = [f"{t.name} is not applicable: {t.issues[0].explanation}."
                       for t in self.techniques if t.name == GROUP_AGGREGATE and t.issues]
            text = " ".join([text, *reasons])
        return text
