"""A SQL lambda (`(x, y) -> x + y`, `x -> upper(x)`) read from an argument's text, and its body
with each parameter replaced by an expression: how a higher-order function the engine lacks
(`zip_with`, `transform_values`) becomes one it has (`transform`) with the same body.

The body is rewritten token by token, so everything else stays as the user wrote it. A
parameter is replaced where it is a name: not after a `.` (a struct field of that name) or
`AS` (an alias), not before `(` (a function of that name). A nested lambda that binds the
same name again is not rewritten (None: the caller leaves the call as written)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lakesmith.engine.semantics.sql_operators import _tokens

_LAMBDA = re.compile(r"^\s*(?:\((?P<many>[^()]*)\)|(?P<one>`(?:``|[^`])*`|[A-Za-z_]\w*))\s*->"
                     r"(?P<body>.*)$", re.DOTALL)
# A fresh name for the lambda variable a rewrite introduces (never a user's column).
VARIABLE = "__lakesmith_e"


@dataclass(frozen=True)
class Lambda:
    parameters: tuple[str, ...]  # lower case, unquoted
    body: str


def _name(text: str) -> str:
    text = text.strip()
    if text.startswith("`") and text.endswith("`"):
        text = text[1:-1].replace("``", "`")
    return text.lower()


def read_lambda(text: str) -> Lambda | None:
    """The lambda written in `text`, or None when `text` is not one."""
    match = _LAMBDA.match(text)
    if match is None:
        return None
    names = match.group("many") if match.group("many") is not None else match.group("one")
    parameters = tuple(_name(p) for p in names.split(","))
    if not all(parameters):
        return None
    return Lambda(parameters, match.group("body").strip())


def substitute(function: Lambda, values: Mapping[str, str]) -> str | None:
    """The lambda's body with each parameter named in `values` replaced by `(value)`."""
    tokens = _tokens(function.body)
    for i, token in enumerate(tokens):
        if token.text == "->":  # a nested lambda: it must not bind one of our names again
            bound = _bound_before(tokens, i)
            if bound & set(values):
                return None
    out: list[str] = []
    position = 0
    for i, token in enumerate(tokens):
        if token.kind not in ("word", "quoted") or _name(token.text) not in values:
            continue
        after_dot = i > 0 and (tokens[i - 1].text == "." or tokens[i - 1].lower == "as")
        called = i + 1 < len(tokens) and tokens[i + 1].text in ("(", "->")
        if after_dot or called:
            continue
        out.append(function.body[position:token.start])
        out.append(f"({values[_name(token.text)]})")
        position = token.end
    out.append(function.body[position:])
    return "".join(out)


def _bound_before(tokens: list[Any], arrow: int) -> set[str]:
    """The names a nested lambda whose `->` is at `arrow` binds."""
    if arrow > 0 and tokens[arrow - 1].kind in ("word", "quoted"):
        return {_name(tokens[arrow - 1].text)}
    names: set[str] = set()
    i = arrow - 2
    while i >= 0 and tokens[i].text != "(":
        if tokens[i].kind in ("word", "quoted"):
            names.add(_name(tokens[i].text))
        i -= 1
    return names
