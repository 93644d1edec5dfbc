"""Databricks expectation decorators (`expect`, `expect_or_drop`, `expect_or_fail`, `expect_all*`).

They stack under a dataset decorator (`@dlt.table`, `@dp.materialized_view`, `@dp.append_flow`, ...):
each one records an `Expectation` on the query function, and the registry attaches the recorded
expectations to the dataset or flow the function defines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pyspark.pipelines.source_code_location import get_caller_source_code_location

from lakesmith.errors import LakesmithError
from lakesmith.graph.expectations import Expectation, ExpectationAction
from lakesmith.source_location import SourceLocation

F = TypeVar("F", bound=Callable[..., Any])

_ATTRIBUTE = "__lakesmith_expectations__"


def expectations_of(func: Callable[..., Any]) -> tuple[Expectation, ...]:
    """The expectations stacked on a query function, outermost decorator first."""
    return tuple(reversed(getattr(func, _ATTRIBUTE, ())))


def _decorator(rules: Mapping[str, str], action: ExpectationAction, decorator: str,
               location: SourceLocation) -> Callable[[F], F]:
    if not isinstance(rules, Mapping) or not rules:
        raise LakesmithError(f"{location}: @{decorator} needs at least one rule name and condition.")
    for name, condition in rules.items():
        if not isinstance(name, str) or not isinstance(condition, str) or not condition.strip():
            raise LakesmithError(
                f"{location}: @{decorator}: expectation names and conditions must be non-empty "
                f"strings (got {name!r}: {condition!r})."
            )

    def attach(func: F) -> F:
        if not callable(func):
            raise LakesmithError(
                f"{location}: @{decorator} must be placed below the dataset decorator "
                "(@dlt.table, @dp.materialized_view, ...), directly on the query function.",
            )
        recorded = list(getattr(func, _ATTRIBUTE, ()))
        # Decorators apply bottom-up; record in reverse so the outermost reads first.
        for name, condition in reversed(list(rules.items())):
            recorded.append(Expectation(name, condition, action, location))
        setattr(func, _ATTRIBUTE, tuple(recorded))
        return func

    return attach


def _here() -> SourceLocation:
    loc = get_caller_source_code_location(stacklevel=2)
    return SourceLocation(loc.filename, loc.line_number)


def expect(name: str, condition: str) -> Callable[[F], F]:
    """Keep rows that fail `condition` and count them."""
    return _decorator({name: condition}, ExpectationAction.WARN, "expect", _here())


def expect_or_drop(name: str, condition: str) -> Callable[[F], F]:
    """Drop rows that fail `condition` and count them."""
    return _decorator({name: condition}, ExpectationAction.DROP, "expect_or_drop", _here())


def expect_or_fail(name: str, condition: str) -> Callable[[F], F]:
    """Stop the flow's update when a row fails `condition`."""
    return _decorator({name: condition}, ExpectationAction.FAIL, "expect_or_fail", _here())


def expect_all(expectations: Mapping[str, str]) -> Callable[[F], F]:
    return _decorator(expectations, ExpectationAction.WARN, "expect_all", _here())


def expect_all_or_drop(expectations: Mapping[str, str]) -> Callable[[F], F]:
    return _decorator(expectations, ExpectationAction.DROP, "expect_all_or_drop", _here())


def expect_all_or_fail(expectations: Mapping[str, str]) -> Callable[[F], F]:
    return _decorator(expectations, ExpectationAction.FAIL, "expect_all_or_fail", _here())
