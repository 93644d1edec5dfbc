"""The conformance suite through `lakesmith.session()`, as a user types it in a script or
`lakesmith shell`: DataFrame code run as it is (collect, schema) and SQL through `spark.sql`,
with no explicit rewrite. The session's client rewrites every plan it sends, so each case must
give Apache Spark 4.3's answer (`tests/golden/conformance.json`) or the status
`differences.toml` lists, exactly as the pipeline mode (`test_conformance.py`) does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conformance_cases import CASES, SESSION_CONF
from conformance_differences import disagreement, load_differences
from conformance_runner import run_cases

import lakesmith

REPO = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((REPO / "tests" / "golden" / "conformance.json").read_text())["cases"]
DIFFERENCES = load_differences()
DATAFRAME_CASES = [c for c in CASES if c.dataframe is not None]
SQL_CASES = [c for c in CASES if c.sql is not None]


@pytest.fixture(scope="module")
def session(sail_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("session-conformance")
    (root / "spark-pipeline.yml").write_text("name: conformance\nstorage: storage\n")
    spark = lakesmith.session(root, remote=sail_url)
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def dataframe_outcomes(session: Any) -> dict[str, dict[str, Any]]:
    return run_cases(session, DATAFRAME_CASES)


@pytest.fixture(scope="module")
def sql_outcomes(session: Any) -> dict[str, dict[str, Any]]:
    return run_cases(session, SQL_CASES)


@pytest.mark.parametrize("case", DATAFRAME_CASES, ids=lambda c: c.id)
def test_dataframe_case(case: Any, dataframe_outcomes: dict[str, dict[str, Any]]) -> None:
    problem = disagreement(case.id, case.code, GOLDEN[case.id], dataframe_outcomes[case.id],
                           DIFFERENCES.get(case.id))
    assert problem is None, problem


@pytest.mark.slow  # every SQL case once more (about 30 s); `test_conformance.py` runs them too
@pytest.mark.parametrize("case", SQL_CASES, ids=lambda c: c.id)
def test_sql_case(case: Any, sql_outcomes: dict[str, dict[str, Any]]) -> None:
    problem = disagreement(case.id, case.code, GOLDEN[case.id], sql_outcomes[case.id],
                           DIFFERENCES.get(case.id))
    assert problem is None, problem


def test_the_engine_alone_differs_where_the_session_rewrites(session: Any) -> None:
    """The rewrites are what make the difference: with them off, the session gives the
    engine's answers (so a case passing above is not passing by accident)."""
    fixed = [c for c in DATAFRAME_CASES if c.id in DIFFERENCES
             and DIFFERENCES[c.id].status == "fixed"]
    assert len(fixed) >= 10
    session.semantics.enabled = False
    try:
        raw = run_cases(session, fixed)
    finally:
        session.semantics.enabled = True
    still_spark = [c.id for c in fixed
                   if disagreement(c.id, c.code, GOLDEN[c.id], raw[c.id], None) is None]
    assert still_spark == [], f"the engine now gives Spark's answer for {still_spark}"
