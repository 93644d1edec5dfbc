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

sys.path.insert(0, str(Path(__file__).parent))
from regex_column_sample import CALLS, rows  # noqa: E402

GOLDEN = json.loads((Path(__file__).parents[1] / "golden" / "regex_columns.json").read_text())
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
    spark_answers = GOLDEN["answers"][name]
    wrong = {i: (values[i], spark_answers[str(i)]) for i in allowed
             if _normal(values[i]) != _normal(spark_answers[str(i)])}
    sample = {i: (r[1], r[2]) for r in rows() for i in [r[0]] if i in wrong}
    assert not wrong, [(sample[i], wrong[i]) for i in list(wrong)[:10]]
    # the guard is not a refusal of everything: most of the sample runs
    assert len(allowed) > 0.5 * len(flags), (len(allowed), len(flags))


def _normal(value: Any) -> Any:
    return list(value) if isinstance(value, (list, tuple)) else value
