"""CLUSTER BY AUTO: the columns queries filter a table by, recorded as they run, and the
clustering columns chosen from them.

Every SQL query and DataFrame filter (its Spark Connect plan) through a lakesmith session that
reads a table with `CLUSTER BY AUTO` adds the columns it compares with values (`=`, `<`, `IN`,
`BETWEEN`, ...) to a count kept
beside the table's log (`_lakesmith/query_filters.json`; Delta readers and VACUUM skip folders
starting with `_`); so does each update's run of a pipeline flow reading it
(`runtime/flow_filters.py`). OPTIMIZE then clusters by the most filtered columns (at most 4, those with
file statistics), and says which it picked and why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakesmith.files import store_for
from lakesmith.locations import Location

if TYPE_CHECKING:  # sqlglot is imported where a query is parsed: reading the counts needs none
    from sqlglot import exp

FILTERS_FILE = ("_lakesmith", "query_filters.json")
MAX_COLUMNS = 4


def filtered_columns(query: str) -> dict[tuple[str, ...], set[str]]:
    """Per table the query reads (its name parts), the columns its filters compare with values.
    Empty for statements that are not queries or cannot be parsed."""
    words = query.lstrip().lstrip("(").split(None, 1)
    if not words or words[0].upper() not in ("SELECT", "WITH", "FROM"):
        return {}
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    comparisons = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between,
                   exp.NullSafeEQ)
    try:
        tree = sqlglot.parse_one(query, dialect="databricks")
    except (ParseError, TokenError):
        return {}
    found: dict[tuple[str, ...], set[str]] = {}
    for select in tree.find_all(exp.Select):
        tables = {(t.alias_or_name or t.name).lower(): _parts(t)
                  for t in select.find_all(exp.Table) if t.name}
        where = select.args.get("where")
        if where is None or not tables:
            continue
        for comparison in where.find_all(*comparisons):
            for column in _value_compared_columns(comparison):
                owner = column.table.lower() if column.table else None
                if owner is None and len(tables) == 1:
                    owner = next(iter(tables))
                if owner in tables:
                    found.setdefault(tables[owner], set()).add(column.name)
    return found


def _parts(table: exp.Table) -> tuple[str, ...]:
    return tuple(p for p in (table.catalog, table.db, table.name) if p)


def _value_compared_columns(comparison: Any) -> list[exp.Column]:
    """The columns compared with literal values (a join condition names no filter column)."""
    from sqlglot import exp

    operands = [comparison.this, *(comparison.expressions or [])]
    if comparison.args.get("expression") is not None:
        operands.append(comparison.expression)
    for key in ("low", "high"):
        if comparison.args.get(key) is not None:
            operands.append(comparison.args[key])
    columns = [o for o in operands if isinstance(o, exp.Column)]
    values = [o for o in operands if not isinstance(o, exp.Column)]
    return columns if len(columns) == 1 and values else []


_PLAN_COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "<=>", "in", "between"}


def plan_filtered_columns(relation: Any) -> dict[tuple[str, ...], set[str]]:
    """The same for a DataFrame's Spark Connect plan: each filter directly over a table read
    (through other filters, projections), its conditions given as Columns or SQL strings."""
    from lakesmith.engine.plans import all_relations
    from lakesmith.graph.identifiers import split_identifier

    found: dict[tuple[str, ...], set[str]] = {}
    for rel in all_relations(relation):
        if rel.WhichOneof("rel_type") != "filter":
            continue
        reads = [r.read.named_table.unparsed_identifier for r in all_relations(rel.filter.input)
                 if r.WhichOneof("rel_type") == "read"
                 and r.read.WhichOneof("read_type") == "named_table"]
        if len(reads) != 1:
            continue
        parts = tuple(split_identifier(reads[0]))
        columns = _condition_columns(rel.filter.condition)
        if columns:
            found.setdefault(parts, set()).update(columns)
    return found


def flow_filtered_columns(relation: Any) -> dict[tuple[str, ...], set[str]]:
    """The same for a pipeline flow's plan: its DataFrame filters, and the WHERE clauses of its
    SQL (a SQL definition's query, or `spark.sql(...)` in a query function), `STREAM(t)` read
    as `t`."""
    from lakesmith.engine.plans import all_relations
    from lakesmith.engine.sql_refs import strip_stream_keywords

    found = plan_filtered_columns(relation)
    for rel in all_relations(relation):
        if rel.WhichOneof("rel_type") == "sql":
            for parts, columns in filtered_columns(strip_stream_keywords(rel.sql.query)).items():
                found.setdefault(parts, set()).update(columns)
    return found


def _condition_columns(expression: Any) -> set[str]:
    kind = expression.WhichOneof("expr_type")
    if kind == "expression_string":
        where = filtered_columns(f"SELECT * FROM t WHERE {expression.expression_string.expression}")
        return where.get(("t",), set())
    if kind != "unresolved_function":
        return set()
    function = expression.unresolved_function
    if function.function_name in ("and", "or"):
        return set().union(*(_condition_columns(a) for a in function.arguments))
    if function.function_name not in _PLAN_COMPARISONS:
        return set()
    kinds = [a.WhichOneof("expr_type") for a in function.arguments]
    if kinds.count("unresolved_attribute") != 1 or "literal" not in kinds:
        return set()
    attribute = function.arguments[kinds.index("unresolved_attribute")].unresolved_attribute
    return {attribute.unparsed_identifier.split(".")[-1].strip("`")}


@dataclass
class QueryFilters:
    queries: int
    columns: dict[str, int]


def read(location: Location) -> QueryFilters:
    target = location.join(*FILTERS_FILE)
    data = store_for(target).read(target)
    if data is None:
        return QueryFilters(0, {})
    parsed = json.loads(data)
    return QueryFilters(int(parsed.get("queries", 0)),
                        {str(k): int(v) for k, v in parsed.get("columns", {}).items()})


def record(location: Location, columns: set[str]) -> None:
    """Count one more query filtering the table by `columns` (last writer wins on a race: the
    counts are a hint, not data)."""
    current = read(location)
    current.queries += 1
    for column in columns:
        current.columns[column] = current.columns.get(column, 0) + 1
    target = location.join(*FILTERS_FILE)
    store_for(target).write(target, json.dumps(
        {"queries": current.queries, "columns": current.columns}, sort_keys=True).encode())


def choose(location: Location, candidates: Sequence[str]) -> tuple[tuple[str, ...], str]:
    """The clustering columns for CLUSTER BY AUTO, and why: the most filtered of `candidates`
    (columns with statistics), at most 4. No columns when no query filtered the table yet."""
    filters = read(location)
    ranked = sorted(((count, column) for column, count in filters.columns.items()
                     if column in candidates), key=lambda item: (-item[0], item[1]))
    chosen = tuple(column for _, column in ranked[:MAX_COLUMNS])
    if not chosen:
        return (), (f"CLUSTER BY AUTO has no columns yet: none of the {filters.queries} recorded "
                    "queries of the table filtered it by a column")
    counts = ", ".join(f"{column} in {count}" for count, column in ranked[:MAX_COLUMNS])
    return chosen, (f"CLUSTER BY AUTO chose {', '.join(chosen)}: the most filtered columns "
                    f"({counts} of {filters.queries} recorded queries)")
