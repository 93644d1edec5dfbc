"""`${key}` variable substitution in pipeline SQL, as Spark does it (`variable_substitution`).

A statement's text is substituted before it is parsed, string literals included. `${key}`,
`${spark:key}`, `${sparkconf:key}`, `${hiveconf:key}` and `${hivevar:key}` read the variables (the
pipeline configuration, then `SET key = value` statements earlier in the file, as a Databricks
pipeline reads them; Spark's `spark-pipelines` reads only the configuration), `${env:NAME}` the
environment. A reference to a key that is not defined is an error, as in a Databricks pipeline
(Spark 4.3 substitutes '', which hides a misspelt key). `spark.sql.variable.substitute = false`
(in the configuration, or SET earlier in the file) turns substitution off, as in Spark.
"""

from __future__ import annotations

from collections.abc import Mapping

from lakesmith.variable_substitution import (
    ENABLED_KEY,
    CircularReference,
    UndefinedVariable,
    Variables,
    enabled,
)
from lakesmith.variable_substitution import substitute as substitute_variables

__all__ = ["CircularReference", "UndefinedVariable", "substitute"]


def substitute(text: str, variables: Mapping[str, str]) -> str:
    """`text` with every `${key}` replaced by its value (unchanged when substitution is off)."""
    if not enabled(variables.get(ENABLED_KEY)):
        return text
    return substitute_variables(text, Variables.of(variables))
