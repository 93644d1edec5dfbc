"""Spark SQL's `${...}` variable substitution (`spark.sql.variable.substitute`, on by default),
exactly as Spark 4.3 does it (`VariableSubstitution` over `ConfigReader`), for every place
lakesmith reads SQL text the way Spark's parser would: pipeline SQL files, `spark.sql(...)` in
pipeline code and in `lakesmith.session()`.

Spark's rules, checked against Spark 4.3 (`tests/test_variable_substitution.py`):
* a reference is `${key}` or `${prefix:key}`: the prefix is ASCII word characters, the key any
  non-blank characters up to the first `}` (`${ a}` and `${}` are text); there is no escape
  (`\\${a}` is a backslash and a's value, `$${a}` a dollar and a's value);
* `${key}`, `${spark:key}`, `${sparkconf:key}`, `${hivevar:key}` and `${hiveconf:key}` read the
  session's configuration; `${env:NAME}` the environment; `${system:name}` a Java system property;
  any other prefix, and an `env` / `system` name that is not set, stays as written;
* a value is substituted in turn (a value may hold references); a reference met again inside its
  own value is an error ("Circular reference");
* the substituted text is not read again for references.

What a configuration key that is not set becomes is the caller's policy (`Variables.conf`): Spark
gives '' for a key it has no entry for, and '' or an error (INVALID_CONF_VALUE) for one of its
own settings that is not set."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lakesmith.errors import LakesmithError, NotSupportedYet

# ConfigReader.REF_RE, read with Java's ASCII classes
REFERENCE = re.compile(r"\$\{(?:(\w+?):)?(\S+?)\}", re.ASCII)
CONF_PREFIXES = frozenset({None, "spark", "sparkconf", "hivevar", "hiveconf"})
ENABLED_KEY = "spark.sql.variable.substitute"


class CircularReference(LakesmithError):
    """A value that refers to itself, directly or through others (Spark fails the statement)."""

    def __init__(self, chain: tuple[str, ...], offset: int = 0) -> None:
        path = " -> ".join(f"${{{reference}}}" for reference in chain)
        super().__init__(f"circular reference in variable substitution: {path}",
                         hint="a value may refer to other keys, never back to its own.")
        self.chain = chain
        self.offset = offset  # where the outermost reference starts in the text


class UndefinedVariable(LakesmithError):
    """A `${key}` whose key has no value, where the caller refuses it (Spark substitutes '')."""

    def __init__(self, reference: str, offset: int, message: str | None = None) -> None:
        super().__init__(message or f"${{{reference}}} is not defined")
        self.reference = reference
        self.offset = offset  # where the reference starts in the text given to `substitute`


# A configuration key's value, or None when it is not set.
ConfLookup = Callable[[str], "str | None"]


def refuse_undefined(reference: str) -> str:
    """The policy for a key that is not set in pipelines: an error naming it (Spark would
    substitute '', which hides a misspelt key)."""
    raise UndefinedVariable(reference, 0)


@dataclass(frozen=True)
class Variables:
    """Where `${...}` references find their values, and what a key that is not set becomes
    (`undefined`, given the reference as written inside `${}`: a value, or an error)."""

    conf: ConfLookup
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    undefined: Callable[[str], str] = refuse_undefined

    @classmethod
    def of(cls, values: Mapping[str, str], env: Mapping[str, str] | None = None) -> Variables:
        """Values from a mapping; a key that is not in it is refused."""
        return cls(values.get, os.environ if env is None else env)


def enabled(setting: str | None) -> bool:
    """Whether substitution is on for the value of `spark.sql.variable.substitute`."""
    return setting is None or setting.strip().lower() != "false"


def substitute(text: str, variables: Variables) -> str:
    """`text` with its `${...}` references replaced as Spark replaces them. Raises
    CircularReference, UndefinedVariable (the lookup's refusal, with the reference's offset in
    `text`) or NotSupportedYet (`${system:...}`: there is no JVM to read it from)."""
    return _substitute(text, variables, ())


def _substitute(text: str, variables: Variables, seen: tuple[str, ...]) -> str:
    def replace(match: re.Match[str]) -> str:
        prefix, key = match.group(1), match.group(2)
        reference = key if prefix is None else f"{prefix}:{key}"
        if reference in seen:
            raise CircularReference((*seen, reference))
        value = _value(prefix, key, variables, match.start())
        if value is None:
            return match.group(0)
        try:
            return _substitute(value, variables, (*seen, reference))
        # inside a value: point at the reference to that value
        except UndefinedVariable as e:
            raise UndefinedVariable(e.reference, match.start(), e.message) from e
        except CircularReference as e:
            raise CircularReference(e.chain, match.start()) from e

    return REFERENCE.sub(replace, text)


def _value(prefix: str | None, key: str, variables: Variables, offset: int) -> str | None:
    if prefix in CONF_PREFIXES:
        value = variables.conf(key)
        if value is not None:
            return value
        try:
            return variables.undefined(key if prefix is None else f"{prefix}:{key}")
        except UndefinedVariable as e:
            raise UndefinedVariable(e.reference, offset, e.message) from e
    if prefix == "env":
        return variables.env.get(key)
    if prefix == "system":
        raise NotSupportedYet(
            f"${{system:{key}}}: Spark substitutes Java system properties here, and lakesmith "
            "runs without a JVM, so it has none to read.",
            hint=f"use ${{env:NAME}} or a pipeline configuration key instead of "
            f"${{system:{key}}}.")
    return None  # a prefix Spark does not bind: the reference stays as written
