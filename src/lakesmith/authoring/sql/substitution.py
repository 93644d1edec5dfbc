"""`${key}` variable substitution in pipeline SQL, as Spark does it
(`spark.sql.variable.substitute`).

A statement's text is substituted before it is parsed, string literals included. `${key}`,
`${spark:key}`, `${sparkconf:key}`, `${hiveconf:key}` and `${hivevar:key}` read the variables (the
pipeline configuration, then `SET key = value` statements earlier in the file). A reference with
another prefix (`${env:…}`, `${system:…}`) is left as written. A reference to a key that is not
defined is an error, as in a Databricks pipeline (Spark itself would leave `${key}` in the text and
fail later, or not at all inside a string literal). Values are substituted in turn; a reference to
itself is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"\$\{(?:(\w+?):)?(\S+?)\}")
_VARIABLE_PREFIXES = frozenset({None, "spark", "sparkconf", "hiveconf", "hivevar"})


class CircularReference(Exception):
    def __init__(self, reference: str) -> None:
        super().__init__(f"circular reference in variable substitution: ${{{reference}}}")
        self.reference = reference


class UndefinedVariable(Exception):
    def __init__(self, reference: str, offset: int) -> None:
        super().__init__(f"${{{reference}}} is not defined")
        self.reference = reference
        self.offset = offset  # where the reference starts in the substituted text


def substitute(text: str, variables: Mapping[str, str]) -> str:
    """`text` with every `${key}` replaced by its value."""
    return _substitute(text, variables, frozenset())


def _substitute(text: str, variables: Mapping[str, str], seen: frozenset[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        prefix, key = match.group(1), match.group(2)
        if prefix not in _VARIABLE_PREFIXES:
            return match.group(0)
        reference = f"{prefix}:{key}" if prefix else key
        if key not in variables:
            raise UndefinedVariable(reference, match.start())
        if key in seen:
            raise CircularReference(reference)
        try:
            return _substitute(variables[key], variables, seen | {key})
        except UndefinedVariable as e:  # inside a value: point at the reference to that value
            raise UndefinedVariable(e.reference, match.start()) from e

    return _REFERENCE.sub(replace, text)
