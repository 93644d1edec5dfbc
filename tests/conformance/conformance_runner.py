"""Running conformance cases on a Spark Connect session: Apache Spark's (the golden script) or
lakesmith's engine session (the tests, with lakesmith's rewrites applied through `prepare`).

Standard library and PySpark only: Spark's environment imports it too."""

from __future__ import annotations

import decimal
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from conformance_cases import SETUP, Case
from conformance_outcome import error_outcome, result_outcome

Prepare = Callable[[Any], Any]  # a DataFrame → the DataFrame to run (lakesmith: rewritten)
SqlQuery = Callable[[str], Any]  # SQL text → a DataFrame (lakesmith: a SQL relation, as pipelines)


def create_views(spark: Any) -> None:
    for statement in SETUP:
        spark.sql(statement)


def run_case(spark: Any, case: Case, *, sql: SqlQuery, prepare: Prepare,
             folder: Path) -> dict[str, Any]:
    """The case's outcome: its result, or the error the engine (or `prepare`) raised."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    case_dir = folder / case.id.replace("/", "__")
    for name, text in case.files.items():
        (case_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (case_dir / name).write_text(text)
    try:
        if case.sql is not None:
            df = sql(case.sql.replace("{dir}", str(case_dir)))
        else:
            scope = {"spark": spark, "F": F, "W": Window, "T": T, "dir": str(case_dir),
                     "decimal": decimal}
            df = eval(case.dataframe or "", scope)  # noqa: S307 - the case's code, from this repository
        return result_outcome(prepare(df), ordered=case.ordered)
    except Exception as e:  # the case's answer is this error
        return error_outcome(e)


def run_cases(spark: Any, cases: Iterable[Case], *, sql: SqlQuery | None = None,
              prepare: Prepare | None = None) -> dict[str, dict[str, Any]]:
    create_views(spark)
    with tempfile.TemporaryDirectory(prefix="conformance-") as folder:
        return {case.id: run_case(spark, case, sql=sql or spark.sql,
                                  prepare=prepare or (lambda df: df), folder=Path(folder))
                for case in cases}
