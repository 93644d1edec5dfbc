"""Expectations: SQL rules a dataset's rows (or one flow's rows) must meet."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from lakesmith.source_location import SourceLocation


class ExpectationAction(str, Enum):
    """What happens to a row that fails an expectation (Databricks: expect, expect_or_drop,
    expect_or_fail)."""

    WARN = "warn"
    DROP = "drop"
    FAIL = "fail"


@dataclass(frozen=True)
class Expectation:
    name: str
    condition: str  # a SQL boolean expression
    action: ExpectationAction
    location: SourceLocation | None = None
