"""`${...}` references in `spark.sql(...)` text, substituted before the engine reads it: Spark's
parser substitutes them (`spark.sql.variable.substitute`, on by default), the engine's does not
(`'${a}'` stays `${a}`, an unquoted `${a}` is a syntax error).

Two callers with their own values and policies:
* pipeline code (`spark.sql` while sources load and query functions run): the pipeline
  configuration; a key it does not define is refused naming the file and line of the call, as
  pipeline SQL files refuse it (Spark substitutes '', which hides a misspelt key);
* the user's session (`lakesmith.session()`, `lakesmith sql`): the session's settings, as Spark
  reads its own; a key that is not set becomes '' as in Spark, except a `spark.*` key, which
  Spark answers from its own settings' definitions ('' for some, INVALID_CONF_VALUE for others):
  refused."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pyspark

import lakesmith
from lakesmith.errors import LakesmithError, NotSupportedYet, SourceLoadError
from lakesmith.source_location import SourceLocation
from lakesmith.variable_substitution import (
    ENABLED_KEY,
    UndefinedVariable,
    Variables,
    enabled,
    substitute,
)


def session_sql(text: str, settings: Callable[[], Mapping[str, str]]) -> str:
    """`text` of the user's `spark.sql(...)` substituted with the session's `settings` (asked
    only when the text holds a reference)."""
    if "${" not in text:
        return text
    values = settings()
    if not enabled(values.get(ENABLED_KEY)):
        return text
    return substitute(text, Variables(values.get, undefined=_session_undefined))


def _session_undefined(reference: str) -> str:
    key = reference.split(":", 1)[1] if reference.split(":", 1)[0] in (
        "spark", "sparkconf", "hivevar", "hiveconf") else reference
    if key.startswith("spark."):
        raise NotSupportedYet(
            f"${{{reference}}}: '{key}' is not set in this session; Spark substitutes '' for "
            "some of its own settings that are not set and fails for others, and lakesmith "
            "does not know which.",
            hint=f"set it first (SET {key} = value, or spark.conf.set), or write the value.")
    return ""  # Spark: a key it has no entry for is ''


@contextmanager
def pipeline_sql_substituted(spark: Any, configuration: Mapping[str, str]) -> Iterator[None]:
    """While pipeline code runs, its `spark.sql(text)` gets `text` substituted with the pipeline
    configuration. Enter it after every other wrapper of `spark.sql`, so they see the
    substituted text."""
    original = spark.sql
    off = not enabled(configuration.get(ENABLED_KEY))

    def sql(query: Any, *args: Any, **kwargs: Any) -> Any:
        if off or not isinstance(query, str) or "${" not in query:
            return original(query, *args, **kwargs)
        try:
            text = substitute(query, Variables.of(configuration))
        except LakesmithError as e:
            raise SourceLoadError(_problem(e), _caller(), hint=e.hint or _HINT) from e
        return original(text, *args, **kwargs)

    had_own = "sql" in vars(spark)
    spark.sql = sql
    try:
        yield
    finally:
        if had_own:
            spark.sql = original
        elif "sql" in vars(spark):
            del spark.sql  # the class's method again


_HINT = "add it under `configuration:` in the pipeline spec."


def _problem(error: LakesmithError) -> str:
    if isinstance(error, UndefinedVariable):
        key = error.reference.split(":", 1)[-1]
        return (f"spark.sql(...): ${{{error.reference}}} is not defined: '{key}' is not in the "
                "pipeline configuration")
    return f"spark.sql(...): {error.message}"


def _caller() -> SourceLocation:
    """The file and line of the pipeline code that called `spark.sql` (the first frame outside
    lakesmith and pyspark)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and _is_library(frame.f_code.co_filename):
        frame = frame.f_back
    return SourceLocation(frame.f_code.co_filename, frame.f_lineno)


_LIBRARIES = tuple(os.path.dirname(module.__file__ or "") + os.sep
                   for module in (lakesmith, pyspark, contextlib))


def _is_library(path: str) -> bool:
    return path.startswith(_LIBRARIES)
