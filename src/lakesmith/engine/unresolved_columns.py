"""A column the engine cannot resolve, reported as Apache Spark reports it:

    [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name
    `o`.`amout` cannot be resolved. Did you mean one of the following? [`o`.`amount`, `c`.`id`].

Sail says only `attribute ObjectName([Identifier("o"), Identifier("amout")]) is missing from the
schema`. The candidates Spark offers are the columns of the failing operator's inputs with their
qualifiers (an alias, a table's name, a temporary view's), as `CheckAnalysis` and
`StringUtils.orderSuggestedIdentifiersBySimilarity` make them: taken in `AttributeSet.toSeq`'s
order (by name), qualifiers shortened to the table's name or dropped when they are all alike,
quoted, then stably sorted by Levenshtein distance to the missing name as written, at most five
(recorded from Spark 4.3 in `tests/engine/test_unresolved_columns.py`).

The failing operator is found by analysing the plan's inputs top-down: the first one whose own
inputs all resolve; an input's qualifiers come from `alias()`, a table read by name, and operators
that pass columns through. In SQL text the inputs are the FROM clause and joins of the SELECT that
names the column (for a join's ON clause, the sources up to that join), with the query's CTEs;
a column in HAVING, ORDER BY or another clause keeps the engine's message.
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
from lakesmith.engine.sql_dialect import DIALECT

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


def quote_if_needed(part: str) -> str:
    """Spark's `QuotingUtils.quoteIfNeeded`: how an attribute's name is written (`a.sql`)."""
    if re.fullmatch(r"[A-Za-z0-9_]+", part) and not part.isdigit():
        return part
    return quote(part)


Candidate = str | Sequence[str]  # a column name, or its qualifier parts and name


def unresolved_column_message(name: str | Sequence[str], candidates: Sequence[Candidate]) -> str:
    """Spark's message for a missing column (`name`: its parts as written) among `candidates`,
    given in the inputs' order."""
    parts = [name] if isinstance(name, str) else list(name)
    written = ".".join(quote_if_needed(p) for p in parts)
    qualified = [[c] if isinstance(c, str) else list(c) for c in candidates]
    qualified.sort(key=lambda c: c[-1])  # AttributeSet.toSeq: by name, then by age (input order)
    if len(parts) == 1 and len({tuple(c[:-1]) for c in qualified}) == 1:
        shown = [c[-1:] for c in qualified]
    elif len(parts) <= 2 and len({tuple(c[:-2]) for c in qualified}) == 1:
        shown = [c[-2:] for c in qualified]
    else:
        shown = qualified
    quoted = [".".join(quote(p) for p in c) for c in shown]
    ordered = sorted(quoted, key=lambda c: levenshtein(c, written))[:MAX_SUGGESTIONS]
    head = (f"A column, variable, or function parameter with name "
            f"{'.'.join(quote(p) for p in parts)} cannot be resolved.")
    if not ordered:
        return f"[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] {head}"
    return (f"[UNRESOLVED_COLUMN.WITH_SUGGESTION] {head} Did you mean one of the following? "
            f"[{', '.join(ordered)}].")


def explain_unresolved_column(message: str, spark: Any, relation: proto.Relation,
                              original: proto.Relation | None = None) -> str | None:
    """Spark's message for the engine error `message` raised by `relation`, or None when it is
    not about a missing column (or the column's operator cannot be found). `original` is the
    relation before lakesmith bound its reads (SQL text naming the user's tables)."""
    parts = missing_column(message)
    if not parts:
        return None
    candidates: list[list[str]] | None
    if relation.WhichOneof("rel_type") == "sql":
        written = original.sql.query if original is not None and \
            original.WhichOneof("rel_type") == "sql" else None
        candidates = _sql_select_inputs(spark, relation.sql.query, parts, written)
    else:
        candidates = _failing_operator_inputs(spark, relation)
    if candidates is None:
        return None
    return unresolved_column_message(parts, candidates)


def _failing_operator_inputs(spark: Any, relation: proto.Relation) -> list[list[str]] | None:
    node = relation
    while True:
        children = _children(node)
        if not children:
            return None
        failing = [child for child in children if not _resolves(spark, child)]
        if not failing:
            return [c for child in children for c in _qualified_output(spark, child)]
        node = failing[0]


# Operators whose output columns are (some of) their input's, qualifiers included.
_PASS_THROUGH = {"filter", "project", "sort", "limit", "offset", "deduplicate", "sample",
                 "with_columns", "drop", "hint", "repartition", "repartition_by_expression",
                 "tail", "with_watermark"}
_ONE_SIDED = {proto.Join.JOIN_TYPE_LEFT_SEMI, proto.Join.JOIN_TYPE_LEFT_ANTI}


def _qualified_output(spark: Any, relation: proto.Relation) -> list[list[str]]:
    """The relation's output columns, each as its qualifier parts and name (as Spark qualifies
    them: by an alias, a table's name, or passed through from an input)."""
    kind = relation.WhichOneof("rel_type")
    if kind == "join":
        join = relation.join
        left = _qualified_output(spark, join.left)
        if join.join_type in _ONE_SIDED:
            return left
        using = {c.lower() for c in join.using_columns}
        right = [c for c in _qualified_output(spark, join.right) if c[-1].lower() not in using]
        return left + right
    columns = list(dataframe_of(spark, relation).columns)
    if kind == "subquery_alias":
        alias = relation.subquery_alias
        return [[*alias.qualifier, alias.alias, c] for c in columns]
    if kind == "read" and relation.read.WhichOneof("read_type") == "named_table":
        qualifier = _table_qualifier(spark, _identifier_parts(
            relation.read.named_table.unparsed_identifier))
        return [[*qualifier, c] for c in columns]
    if kind in _PASS_THROUGH:
        children = _children(relation)
        inner = _qualified_output(spark, children[0]) if len(children) == 1 else []
        by_name: dict[str, list[list[str]]] = {}
        for c in inner:
            by_name.setdefault(c[-1].lower(), []).append(c)
        return [found[0][:-1] + [c] if len(found := by_name.get(c.lower(), [])) == 1 else [c]
                for c in columns]
    return [[c] for c in columns]


def _table_qualifier(spark: Any, parts: list[str]) -> list[str]:
    """What Spark qualifies a table's columns with: a temporary view's name, a table's catalog,
    schema and name."""
    if len(parts) == 1 and parts[0].lower() in _temp_views(spark):
        return parts
    if len(parts) >= 3:
        return parts
    database = parts[0] if len(parts) == 2 else spark.catalog.currentDatabase()
    return [spark.catalog.currentCatalog(), database, parts[-1]]


def _temp_views(spark: Any) -> set[str]:
    return {t.name.lower() for t in spark.catalog.listTables() if t.isTemporary}


def _identifier_parts(text: str) -> list[str]:
    try:
        table = sqlglot.parse_one(text, into=exp.Table, dialect=DIALECT)
    except (ParseError, TokenError):
        return [text]
    return [p.name for p in table.parts]


def _sql_select_inputs(spark: Any, text: str, parts: list[str],
                       written: str | None = None) -> list[list[str]] | None:
    """The qualified columns of the FROM sources (and joins) of the SELECT that names the column
    `parts` in its list, WHERE, GROUP BY or a join's ON clause. `written` is the text as the
    user wrote it, whose table names qualify the columns (the engine's text may read renamed
    tables)."""
    try:
        statement = sqlglot.parse_one(text, dialect=DIALECT)
        user_statement = sqlglot.parse_one(written, dialect=DIALECT) if written else statement
    except (ParseError, TokenError):
        return None
    user_names = _user_table_names(statement, user_statement)
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    for column in statement.find_all(exp.Column):
        if [p.name.lower() for p in column.parts] != [p.lower() for p in parts]:
            continue
        select = column.find_ancestor(exp.Select)
        if select is None:
            return None
        source = select.args.get("from_") or select.args.get("from")
        if source is None:
            return []
        sources = [source.this, *(j.this for j in select.args.get("joins") or [])]
        clause = column.find_ancestor(exp.Join, exp.Having, exp.Order, exp.Qualify, exp.Where,
                                      exp.Group, exp.Select)
        if isinstance(clause, exp.Join):
            sources = sources[:list(select.args.get("joins") or []).index(clause) + 2]
        elif not isinstance(clause, (exp.Where, exp.Group, exp.Select)):
            return None
        with_ = statement.args.get("with_") or statement.args.get("with")
        candidates: list[list[str]] = []
        for item in sources:
            qualifier = _source_qualifier(spark, item, user_names, ctes)
            probe = exp.Select(expressions=[exp.Star()], from_=exp.From(this=item.copy()))
            if with_ is not None:
                probe.set("with_", with_.copy())
            columns = spark.sql(probe.sql(dialect=DIALECT)).columns
            candidates += [[*qualifier, c] for c in columns]
        return candidates
    return None


def _user_table_names(statement: exp.Expr, user_statement: exp.Expr) -> dict[int, list[str]]:
    """The user's name of each table the engine's text reads (by node id), when the two texts
    read the same number of tables (lakesmith only renames them)."""
    engine_tables = list(statement.find_all(exp.Table))
    user_tables = list(user_statement.find_all(exp.Table))
    if len(engine_tables) != len(user_tables):
        return {}
    return {id(t): [p.name for p in u.parts] for t, u in zip(engine_tables, user_tables, strict=True)}


def _source_qualifier(spark: Any, source: exp.Expression, user_names: dict[int, list[str]],
                      ctes: set[str]) -> list[str]:
    if source.alias:
        return [source.alias]
    if not isinstance(source, exp.Table):
        return []
    name = user_names.get(id(source)) or [p.name for p in source.parts]
    if len(name) == 1 and name[0].lower() in ctes:
        return name
    return _table_qualifier(spark, name)


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
