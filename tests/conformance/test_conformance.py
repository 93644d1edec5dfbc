"""The conformance suite: every case run through lakesmith's engine session with lakesmith's
rewrites (`lakesmith.engine.semantics`) must give Apache Spark 4.3's answer
(`tests/golden/conformance.json`), unless `differences.toml` lists it as a known difference —
which must then still differ, so an engine upgrade that fixes it (or breaks a fixed one) shows.

Regenerate the golden file with `scripts/golden/conformance.py` (needs Java and PySpark 4.3),
the compatibility page with `scripts/compatibility_doc.py`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conformance_cases import CASES, SESSION_CONF
from conformance_differences import Difference, disagreement, load_differences
from conformance_outcome import same
from conformance_runner import run_cases

from lakesmith.engine.plans import dataframe_of, relation_of
from lakesmith.engine.semantics import spark_semantics
from lakesmith.engine.sql_variables import VARIABLES_ATTRIBUTE, pipeline_variables
from lakesmith.variable_substitution import substitute

REPO = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((REPO / "tests" / "golden" / "conformance.json").read_text())["cases"]
DIFFERENCES = load_differences()
# Categories whose refusals carry Spark's error class (the rewrite raises it by name).
ERRORS_NAMED_AS_SPARK = frozenset({"decimal_sums"})


@pytest.fixture(scope="module")
def session(sail_url: str) -> Iterator[Any]:
    from pyspark.sql.connect.session import SparkSession

    builder = SparkSession.builder.remote(sail_url)
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    spark = builder.create()
    yield spark
    spark.stop()


def _sql_relation(spark: Any, text: str) -> Any:
    """SQL text as pipelines hand it to the engine: a SQL relation, rewritten with the rest."""
    from pyspark.sql.connect import proto

    relation = proto.Relation()
    relation.sql.query = text
    return dataframe_of(spark, relation)


@pytest.fixture(scope="module")
def rewritten(session: Any) -> Iterator[dict[str, dict[str, Any]]]:
    # a pipeline whose configuration is the cases' settings: its SQL text is substituted
    # (`${...}`) before it becomes a relation, its expression strings when rewritten
    variables = pipeline_variables(SESSION_CONF)
    assert variables is not None
    setattr(session, VARIABLES_ATTRIBUTE, lambda: variables)
    yield run_cases(session, CASES,
                    sql=lambda text: _sql_relation(session, substitute(text, variables)),
                    prepare=lambda df: dataframe_of(session,
                                                    spark_semantics(session, relation_of(df))))
    delattr(session, VARIABLES_ATTRIBUTE)


@pytest.fixture(scope="module")
def unrewritten(session: Any) -> dict[str, dict[str, Any]]:
    fixed = [c for c in CASES if DIFFERENCES.get(c.id, None) is not None
             and DIFFERENCES[c.id].status == "fixed"]
    return run_cases(session, fixed, sql=lambda text: _sql_relation(session, text))


def test_every_case_has_a_golden_answer() -> None:
    assert sorted(c.id for c in CASES) == sorted(GOLDEN), \
        "cases and golden file disagree: run scripts/golden/conformance.py"
    assert set(DIFFERENCES) <= set(GOLDEN), "differences.toml names cases that do not exist"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Any, rewritten: dict[str, dict[str, Any]],
              unrewritten: dict[str, dict[str, Any]]) -> None:
    expected, actual = GOLDEN[case.id], rewritten[case.id]
    difference: Difference | None = DIFFERENCES.get(case.id)
    problem = disagreement(case.id, case.code, expected, actual, difference)
    assert problem is None, problem
    if "error" in expected and case.category in ERRORS_NAMED_AS_SPARK:
        assert expected["error"] in actual["message"], (
            f"{case.id}: lakesmith's error does not name Spark's {expected['error']}: "
            f"{actual['message']}")
    if difference is not None and difference.status == "fixed":
        assert not same(expected, unrewritten[case.id]), (
            f"{case.id}: the engine now gives Spark's answer without lakesmith's rewrite; "
            "drop the rewrite and the entry in differences.toml")


def test_compatibility_page_is_generated_from_the_suite() -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(REPO / "scripts" / "compatibility_doc.py"),
                             "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
