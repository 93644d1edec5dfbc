"""Typing both sides of SQL comparisons (a DOUBLE column beside a DECIMAL column is cast as Spark
casts it: `engine/semantics/operand_types.py`) adds no analysis round trip to the medallion
example's SQL pipeline: its comparisons (a join on customer ids, expectations, `operation =
'DELETE'`) are between columns of its own tables, whose schemas lakesmith knows, or beside
literals. Measured against the rules as they were before column pairs were typed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import Project
from lakesmith.runtime.events import UpdateState
from lakesmith.templates import create_project, load_generator


@pytest.fixture
def analyses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every analysis request sent (one entry each)."""
    from pyspark.sql.connect.client.core import SparkConnectClient

    sent: list[str] = []
    analyze = SparkConnectClient._analyze

    def counted(self: Any, method: str, **kwargs: Any) -> Any:
        sent.append(method)
        return analyze(self, method, **kwargs)

    monkeypatch.setattr(SparkConnectClient, "_analyze", counted)
    yield sent


def _rules_before_column_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Comparisons typed only beside a DECIMAL (or boolean) literal, arguments asked alone."""
    from pyspark.sql.types import DecimalType

    from lakesmith.engine.semantics import comparisons, plan_rewrite
    from lakesmith.engine.semantics.decimal_lists import DECIMAL_LIST_NAMES
    from lakesmith.engine.semantics.literal_types import literal_type
    from lakesmith.engine.semantics.registry import RULES_BY_NAME

    def decimal(text: str) -> bool:
        return isinstance(literal_type(text), DecimalType)

    for name in comparisons.COMPARISONS:
        monkeypatch.setitem(RULES_BY_NAME, name, replace(
            RULES_BY_NAME[name], candidate=lambda args: len(args) == 2 and any(
                comparisons._boolean_like(a) or decimal(a) for a in args)))
    for name in DECIMAL_LIST_NAMES:
        monkeypatch.setitem(RULES_BY_NAME, name, replace(
            RULES_BY_NAME[name], candidate=lambda args: any(map(decimal, args[1:]))))
    monkeypatch.setattr(plan_rewrite, "sql_prefetch", lambda *a: lambda text, calls: set())


def _update_with_new_data(tmp_path: Path, sail_url: str, analyses: list[str]) -> int:
    root = create_project(tmp_path, "shop")
    project = Project(root / "sql", sail_url)
    assert project.run().state == UpdateState.COMPLETED
    load_generator(root / "generate.py").generate(root / "data" / "landing", more=True)
    analyses.clear()
    assert project.run().state == UpdateState.COMPLETED
    return len(analyses)


def test_typing_comparison_operands_adds_no_round_trip_to_the_medallion_sql_update(
        tmp_path: Path, sail_url: str, analyses: list[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    now = _update_with_new_data(tmp_path / "now", sail_url, analyses)
    with monkeypatch.context() as before:
        _rules_before_column_pairs(before)
        then = _update_with_new_data(tmp_path / "before", sail_url, analyses)
    assert now <= then, (now, then)  # when written: 8 against 12 (known schemas, batched)
