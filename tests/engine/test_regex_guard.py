"""Patterns given as columns (`regex_guard`): on a broad sample of patterns and texts
(`regex_column_sample.py`), every row the guard lets through gives Apache Spark 4.3's answer
(`tests/golden/regex_columns.json`, recorded by `scripts/golden/regex_columns.py`), and the
rows where the engine alone differs are among those it refuses."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lakesmith.engine.semantics.regex_guard import refused_sql
from lakesmith.engine.semantics.sql_rewrite import rewrite_sql
from lakesmith.errors import NotSupportedYet
from lakesmith.sql_literal import sql_string

sys.path.insert(0, str(Path(__file__).parent))
from regex_column_sample import CALLS, rows  # noqa: E402

_RECORDED = json.loads((Path(__file__).parents[1] / "golden" / "regex_columns.json").read_text())
# Spark's answers: per call name, per row id
SPARK_ANSWERS = {name: {i: row[column] for i, row in enumerate(_RECORDED["rows"])}
                 for column, name in enumerate(_RECORDED["calls"])}
# Where an empty match right after another one shows in the answer
EMPTY_MATTERS = {"replace_x", "extract_all", "count", "split"}


@pytest.fixture(scope="module")
def spark(sail_url: str) -> Iterator[Any]:
    from pyspark.sql.connect.session import SparkSession

    session = SparkSession.builder.remote(sail_url).create()
    session.createDataFrame(rows(), "id INT, s STRING, p STRING").createOrReplaceTempView(
        "sample")
    yield session
    session.stop()


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
def test_rows_the_guard_lets_through_give_sparks_answers(spark: Any, name: str,
                                                        call: str) -> None:
    refused = refused_sql(call.split("(")[0], "s", "p", empty_matters=name in EMPTY_MATTERS)
    flags = {r.id: r.refused for r in spark.sql(
        f"SELECT id, {refused} AS refused FROM sample").collect()}
    allowed = sorted(i for i, flag in flags.items() if not flag)
    # lakesmith's rewrite of the call (guarded: these rows pass the guard)
    query = rewrite_sql(
        f"SELECT id, {call} AS v FROM sample WHERE id IN ({', '.join(map(str, allowed))})", None)
    values = {r.id: r.v for r in spark.sql(query).collect()}
    spark_answers = SPARK_ANSWERS[name]
    wrong = {i: (values[i], spark_answers[i]) for i in allowed
             if _normal(values[i]) != _normal(spark_answers[i])}
    sample = {i: (r[1], r[2]) for r in rows() for i in [r[0]] if i in wrong}
    assert not wrong, [(sample[i], wrong[i]) for i in list(wrong)[:10]]
    # the guard is not a refusal of everything: most of the sample runs
    assert len(allowed) > 0.5 * len(flags), (len(allowed), len(flags))


def _normal(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value


@pytest.mark.slow  # (94 patterns x 9 calls, each rewritten and run: ~60 s)
@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
def test_literal_patterns_give_sparks_answers_or_are_refused(spark: Any, name: str,
                                                            call: str) -> None:
    """The same sample with each pattern written as a literal: lakesmith's translation (Java's
    final `$`, the line and empty-match guards) gives Spark's answer on every row it runs, and
    refuses the rest (before running, or the row)."""
    by_pattern: dict[str, list[tuple[int, str]]] = {}
    for i, text, pattern in rows():
        by_pattern.setdefault(pattern, []).append((i, text))
    answered = refused = 0
    wrong = []
    for pattern, texts in by_pattern.items():
        literal = call.replace("p", sql_string(pattern), 1) if call.startswith("s RLIKE") \
            else call.replace(", p", f", {sql_string(pattern)}", 1)
        try:
            query = rewrite_sql(f"SELECT id, {literal} AS v FROM sample WHERE p = "
                                f"{sql_string(pattern)}", None)
        except NotSupportedYet:
            refused += len(texts)
            continue
        try:
            values = {r.id: r.v for r in spark.sql(query).collect()}
        except Exception as e:  # a guarded row, or a pattern the engine refuses: each row alone
            if "regex" not in str(e).lower() and "regular expression" not in str(e).lower():
                raise
            values = {}
            for i, _ in texts:
                try:
                    values.update({r.id: r.v for r in spark.sql(
                        f"SELECT * FROM ({query}) WHERE id = {i}").collect()})
                except Exception:  # noqa: BLE001 - refused (or a pattern the engine refuses)
                    refused += 1
        for i, value in values.items():
            answered += 1
            if _normal(value) != _normal(SPARK_ANSWERS[name][i]):
                wrong.append((pattern, rows()[i][1], value, SPARK_ANSWERS[name][i]))
    assert not wrong, wrong[:10]
    assert answered > 0.6 * (answered + refused), (answered, refused)
