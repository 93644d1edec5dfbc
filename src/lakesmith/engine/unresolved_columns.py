"""A column the engine cannot resolve, reported as Apache Spark reports it:

    [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name
    `amout` cannot be resolved. Did you mean one of the following? [`amount`, `id`].

Sail says only `attribute ObjectName([Identifier("amout")]) is missing from the schema`. The
candidates Spark offers are the columns of the failing operator's inputs, closest first by
Levenshtein distance, at most five (`StringUtils.orderSuggestedIdentifiersBySimilarity`, recorded
from Spark 4.3 in `tests/engine/test_unresolved_columns.py`). The failing operator is found by
analysing the plan's inputs top-down: the first one whose own inputs all resolve. In SQL text the
input is the FROM clause of the SELECT that names the column (with the query's CTEs), when it
reads one source (no join: Spark would qualify the candidates of several); otherwise the engine's
message stands.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlglot
from pyspark.sql.connect import proto
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.engine.plans import dataframe_of
from lakesmith.engine.sql_refs import DIALECT

_MISSING = re.compile(r"attribute ObjectName\(\[(?P<parts>[^\]]*)\]\) is missing from the schema")
_IDENTIFIER = re.compile(r'Identifier\("((?:[^"\\]|\\.)*)"\)')
_RELATION = "spark.connect.Relation"
MAX_SUGGESTIONS = 5


def missing_column(message: str) -> list[str] | None:
    """The name parts of the column an engine error says is missing, if it says so."""
    match = _MISSING.search(message)
    if match is None:
        return None
    return [part.replace('\\"', '"') for part in _IDENTIFIER.findall(match.group("parts"))]


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def unresolved_column_message(name: str, candidates: Sequence[str]) -> str:
    """Spark's message for a missing single-part column name."""
    ordered = sorted(candidates, key=lambda c: levenshtein(c, name))[:MAX_SUGGESTIONS]
    head = (f"A column, variable, or function parameter with name {quote(name)} cannot be "
            "resolved.")
    if not ordered:
        return f"[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] {head}"
    return (f"[UNRESOLVED_COLUMN.WITH_SUGGESTION] {head} Did you mean one of the following? "
            f"[{', '.join(quote(c) for c in ordered)}].")


def explain_unresolved_column(message: str, spark: Any, relation: proto.Relation) -> str | None:
    """Spark's message for the engine error `message` raised by `relation`, or None when it is
    not about a missing column (or the column's operator cannot be found)."""
    parts = missing_column(message)
    if parts is None or len(parts) != 1:
        return None
    if relation.WhichOneof("rel_type") == "sql":
        candidates = _sql_select_inputs(spark, relation.sql.query, parts[0])
    else:
        candidates = _failing_operator_inputs(spark, relation)
    if candidates is None:
        return None
    return unresolved_column_message(parts[0], candidates)


def _failing_operator_inputs(spark: Any, relation: proto.Relation) -> list[str] | None:
    node = relation
    while True:
        children = _children(node)
        if not children:
            return None
        failing = [child for child in children if not _resolves(spark, child)]
        if not failing:
            columns: list[str] = []
            for child in children:
                columns += [c for c in dataframe_of(spark, child).columns if c not in columns]
            return columns
        node = failing[0]


def _sql_select_inputs(spark: Any, text: str, name: str) -> list[str] | None:
    """The columns of the FROM source of the SELECT whose list or WHERE names `name`."""
    try:
        statement = sqlglot.parse_one(text, dialect=DIALECT)
    except (ParseError, TokenError):
        return None
    for column in statement.find_all(exp.Column):
        if column.name != name or column.table:
            continue
        select = column.find_ancestor(exp.Select)
        if select is None or select.args.get("joins"):
            return None
        source = select.args.get("from_") or select.args.get("from")
        if source is None:
            return []
        probe = exp.Select(expressions=[exp.Star()], from_=source.copy())
        with_ = statement.args.get("with_") or statement.args.get("with")
        if with_ is not None:
            probe.set("with_", with_.copy())
        return list(spark.sql(probe.sql(dialect=DIALECT)).columns)
    return None


def _children(relation: proto.Relation) -> list[proto.Relation]:
    """The relations an operator reads directly (not those inside its expressions)."""
    kind = relation.WhichOneof("rel_type")
    if kind is None:
        return []
    operator = getattr(relation, kind)
    children: list[proto.Relation] = []
    for descriptor, value in operator.ListFields():
        if descriptor.message_type is None or descriptor.message_type.full_name != _RELATION:
            continue
        children += list(value) if descriptor.is_repeated else [value]
    return children


def _resolves(spark: Any, relation: proto.Relation) -> bool:
    try:
        _ = dataframe_of(spark, relation).schema
    except Exception:  # the engine's analysis error: this input is where it fails
        return False
    return True
