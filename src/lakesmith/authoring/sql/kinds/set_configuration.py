"""`SET key = value`: a variable for `${key}` in later statements, and Spark conf of the flows
defined after it in the same file. Produces no definition. `SET key` (which shows a value in a
notebook) changes nothing, as in a Databricks pipeline.

As in Spark, the value is the rest of the statement, trimmed and kept as written (quotes
included: after `SET d = '2024-01-01'`, `${d}` is `'2024-01-01'`); a backquoted key or value loses
its backquotes.
"""

from __future__ import annotations

import re

from lakesmith.authoring.spark_conf import honoured_spark_conf
from lakesmith.authoring.sql.context import FileContext
from lakesmith.authoring.sql.kinds.base import Definition, Lead, StatementKind
from lakesmith.authoring.sql.stream import TokenStream

_KEY = re.compile(r"[a-zA-Z_\d\\.:]+")
_KEY_VALUE = re.compile(r"(`(?:[^`]|``)+`|[^=`]+?)\s*=(.*)", re.DOTALL)
_NOT_SUPPORTED = {
    "VAR": "SET VAR (session variables)",
    "VARIABLE": "SET VARIABLE (session variables)",
    "CATALOG": "SET CATALOG",
    "TIME": "SET TIME ZONE",
    "COLLATION": "SET COLLATION",
    "ROLE": "SET ROLE",
}


class SetConfiguration(StatementKind):
    title = "SET key = value"

    def matches(self, lead: Lead) -> bool:
        return lead.words[0] == "SET"

    def parse(self, stream: TokenStream, context: FileContext) -> list[Definition]:
        set_token = stream.expect("SET")
        if (word := stream.word()) in _NOT_SUPPORTED:
            raise stream.error(f"{_NOT_SUPPORTED[word]} is not supported yet; supported: "
                               "SET key = value", stream.peek())
        remainder = stream.text[set_token.end + 1:].strip()
        match = _KEY_VALUE.fullmatch(remainder)
        if match is None and remainder and "=" not in remainder:  # `SET key`: shows a value
            stream.pos = len(stream.tokens)
            return []
        if match is None:
            raise stream.error("SET needs a key and a value: SET key = value")
        key, value = _unquote(match.group(1)), _unquote(match.group(2).strip())
        if not match.group(1).startswith("`") and not _KEY.fullmatch(key):
            raise stream.error(f"invalid SET key {key!r}: use letters, digits, '_', '.' and ':', "
                               "or backquote the key")
        context.set(key, value)
        if not honoured_spark_conf({key: value}, stream.location()):
            # A cluster-only key (reported) stays a `${key}` variable, not set while flows run.
            context.spark_conf.pop(key, None)
        stream.pos = len(stream.tokens)
        return []


def _unquote(text: str) -> str:
    if len(text) >= 2 and text.startswith("`") and text.endswith("`"):
        return text[1:-1].replace("``", "`")
    return text
