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
from collections.abc import Callable, Mapping
from typing import Any

import pyspark

import lakesmith
from lakesmith.engine.sql_wrappers import sql_replaced
from lakesmith.errors import LakesmithError, NotSupportedYet, SourceLoadError
from lakesmith.source_location import SourceLocation
from lakesmith.variable_substitution import (
    CONF_PREFIXES,
    ENABLED_KEY,
    REFERENCE,
    UndefinedVariable,
    Variables,
    enabled,
    substitute,
)

# A session's `sql_variables()`: its variables now, or None when substitution is off. Set on
# the user's session (its settings) and on a pipeline's (its configuration).
VARIABLES_ATTRIBUTE = "sql_variables"


def session_sql(text: str, settings: Callable[[], Mapping[str, str]]) -> str:
    """`text` of the user's `spark.sql(...)` substituted with the session's `settings` (asked
    only when the text holds a reference)."""
    if "${" not in text:
        return text
    variables = session_variables(settings())
    return text if variables is None else substitute(text, variables)


def session_variables(settings: Mapping[str, str]) -> Variables | None:
    """The user's session's variables from its `settings`, or None when substitution is off."""
    if not enabled(settings.get(ENABLED_KEY)):
        return None
    return Variables(settings.get, undefined=_session_undefined)


def pipeline_variables(configuration: Mapping[str, str]) -> Variables | None:
    """A pipeline's variables, or None when its configuration turns substitution off."""
    if not enabled(configuration.get(ENABLED_KEY)):
        return None
    return Variables.of(configuration)


def substituted_expression(spark: Any, text: str) -> str:
    """An expression string of a DataFrame plan (`F.expr`, `selectExpr`, `filter("...")`), which
    Spark's parser substitutes too: substituted with the session's variables; refused when the
    session has none and Spark would substitute something."""
    if "${" not in text:
        return text
    provider = getattr(spark, VARIABLES_ATTRIBUTE, None)
    if provider is None:
        for match in REFERENCE.finditer(text):
            if match.group(1) in CONF_PREFIXES or match.group(1) == "system":
                raise NotSupportedYet(
                    f"the expression '{text}' holds {match.group(0)}, which Spark substitutes "
                    "from its settings; lakesmith has none to substitute here.",
                    hint="build the text in Python with the value (spark.conf.get(key)).")
        return text
    variables = provider()
    return text if variables is None else substitute(text, variables)


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


def pipeline_sql_substituted(spark: Any, configuration: Mapping[str, str]) -> Any:
    """While pipeline code runs, its `spark.sql(text)` gets `text` substituted with the pipeline
    configuration. Enter it after every other wrapper of `spark.sql`, so they see the
    substituted text."""
    off = not enabled(configuration.get(ENABLED_KEY))

    def make(original: Any) -> Any:
        def sql(query: Any, *args: Any, **kwargs: Any) -> Any:
            if off or not isinstance(query, str) or "${" not in query:
                return original(query, *args, **kwargs)
            try:
                text = substitute(query, Variables.of(configuration))
            except LakesmithError as e:
                raise SourceLoadError(_problem(e), _caller(), hint=e.hint or _HINT) from e
            return original(text, *args, **kwargs)

        return sql

    return sql_replaced(spark, make)


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
