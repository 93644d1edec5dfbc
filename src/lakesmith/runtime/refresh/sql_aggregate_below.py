"""GROUP_AGGREGATE below the top of a query given as SQL text (`CREATE MATERIALIZED VIEW v AS`,
`spark.sql(...)`): the one aggregation of the text is a subquery in the FROM clause of its top
SELECT (`FROM (SELECT k, sum(x) AS s FROM t GROUP BY k) o LEFT JOIN c ON ...`).

The text is split in two, each cut from the text as written (every character of it kept): the
subquery's SELECT, and the rest with the subquery written as a name (`__lakesmith_aggregate o`).
The query then runs as Spark Connect's `WithRelations` (what `spark.sql("... {o}", o=df)`
sends): the rest's SQL, with the name bound to the aggregation's SQL as a relation of its own.
The aggregation is then a relation of the plan, as a DataFrame query's is, and
`aggregate_state.py` / `view_state.py` put the backing table's rows (or the view's) in its place
the same way; the lakesmith rewrites that give Spark's answers rewrite each text
(`engine/semantics/plan_rewrite.py` rewrites SQL text under a `WithRelations` with the relations
it refers to).

The aggregation itself must have the form `sql_aggregate_form.py` reads; the view keeps its
rows (`keeps_aggregate`, the view as its own backing table) when the rest is a projection of it
LEFT JOINed to one other relation, each of the aggregation's columns carried as it is.
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from pyspark.sql.connect import proto
from sqlglot import Token, TokenType, exp
from sqlglot.errors import TokenError

from lakesmith.engine.plans import sql_with_relation
from lakesmith.engine.sql_dialect import DIALECT
from lakesmith.engine.sql_refs import ParsedQuery, parse_sql_query, strip_stream_keywords
from lakesmith.errors import SqlRefError
from lakesmith.runtime.refresh.aggregate_form import NOT_TOP
from lakesmith.runtime.refresh.planning import Issue
from lakesmith.runtime.refresh.sql_aggregate_form import (
    CLAUSES,
    SqlAggregation,
    plain_name,
    sql_aggregation,
)

# The name the rest of the text reads the aggregation by (bound by the query's `WithRelations`,
# which the engine resolves before the catalog).
NAME = "__lakesmith_aggregate"
# Spark's generators: one in the SELECT list gives each row zero or more rows.
GENERATORS = frozenset({"explode", "explode_outer", "posexplode", "posexplode_outer", "inline",
                        "inline_outer", "stack", "json_tuple"})


def split_sql(relation: proto.Relation) -> proto.Relation | Issue | None:
    """`relation` (SQL text) as a `WithRelations` of the rest of its text over its one
    aggregation, a subquery in FROM (the last reference); an Issue when the text aggregates
    below its top otherwise; None when it does not aggregate below its top (or is not one
    SELECT: `sql_aggregate_form.py` says why)."""
    sql = relation.sql
    if sql.args or sql.pos_args or sql.named_arguments or sql.pos_arguments:
        return None
    found = _split_text(sql.query)
    if not isinstance(found, tuple):
        return found
    rest, aggregation = found
    aggregation_sql = proto.Relation()
    aggregation_sql.sql.query = aggregation
    return sql_with_relation(relation, rest, NAME, aggregation_sql)


def aggregation_of(below_query: proto.Relation) -> proto.Relation:
    """The aggregation's relation in a query `split_sql` made."""
    return below_query.with_relations.references[0].subquery_alias.input


def is_split(query: proto.Relation) -> bool:
    """Whether `query` is one `split_sql` made."""
    return query.WhichOneof("rel_type") == "with_relations" and \
        len(query.with_relations.references) == 1 and \
        query.with_relations.references[0].subquery_alias.alias == NAME and \
        query.with_relations.root.WhichOneof("rel_type") == "sql"


def keeps_aggregate_sql(query: proto.Relation) -> bool:
    """Whether the rest of a split query (`split_sql`) keeps each of the aggregation's rows in
    the view, its columns as they are: `SELECT ... FROM <aggregation> [o] LEFT [OUTER] JOIN x
    ON/USING ...` and nothing else (no WHERE, GROUP BY, HAVING, DISTINCT, QUALIFY, LIMIT,
    TABLESAMPLE, window, generator or aggregate in the SELECT list, which drop, repeat or
    combine rows); every SELECT item named as one of the aggregation's columns is that column
    (`o.c` or `c`, under its own name). Every row of a LEFT JOIN's left side is in its result,
    once or once per matching row, as it is."""
    aggregation = sql_aggregation(aggregation_of(query).sql)
    if isinstance(aggregation, Issue):
        return False
    outputs = aggregation.outputs
    if any(name is None for name in outputs):
        return False
    names = {name.lower() for name in outputs if name is not None}
    try:
        parsed = _parsed(query.with_relations.root.sql.query)
    except SqlRefError:
        return False
    if len(parsed.statements) != 1 or not isinstance(parsed.statements[0], exp.Select):
        return False
    rest = parsed.statements[0]
    source = _from(rest)
    if not isinstance(source, exp.Table) or source.name != NAME or source.db:
        return False
    alias = source.alias_or_name.lower()
    joins = rest.args.get("joins") or []
    if len(joins) != 1 or not _left_outer(joins[0]):
        return False
    if any(rest.args.get(clause) for clause in (*CLAUSES, "where", "group", "pivots")
           if clause != "joins") or rest.find(exp.TableSample) is not None:
        return False
    for item in rest.expressions:
        if _changes_rows(item):
            return False
        name = plain_name(item)
        if name is not None and name.lower() in names and \
                not _references(item, name.lower(), alias):
            return False
    return True


def aggregation_outputs(query: proto.Relation) -> list[tuple[str, bool]] | None:
    """The split aggregation's output names, each with whether it is a grouping key; None
    when the engine names one."""
    aggregation = sql_aggregation(aggregation_of(query).sql)
    if isinstance(aggregation, Issue):
        return None
    return _outputs(aggregation)


def _outputs(aggregation: SqlAggregation) -> list[tuple[str, bool]] | None:
    names = aggregation.outputs
    if any(name is None for name in names):
        return None
    return [(name, function is None) for name, function
            in zip(names, aggregation.functions, strict=True) if name is not None]


def _split_text(text: str) -> tuple[str, str] | Issue | None:
    try:
        parsed = _parsed(text)
    except SqlRefError:
        return None
    if len(parsed.statements) != 1:
        return None
    top = parsed.statements[0]
    aggregating = [s for s in top.find_all(exp.Select) if _aggregates(s)]
    pivots = list(top.find_all(exp.Pivot))
    below = [s for s in aggregating if s is not top]
    if not below:
        return None
    if len(aggregating) + len(pivots) > 1:
        return _issue(f"its query aggregates {len(aggregating) + len(pivots)} times (a "
                      "GROUP BY, aggregate function, DISTINCT or PIVOT in more than one "
                      "SELECT): GROUP_AGGREGATE keeps one aggregation", "aggregate")
    (inner,) = below
    subquery = inner.parent
    if not isinstance(top, exp.Select) or not isinstance(subquery, exp.Subquery) or \
            not any(subquery is f for f in _from_items(top)):
        return _issue("its aggregation is not a subquery in the FROM clause of its top "
                      "SELECT", "subquery")
    if top.args.get("with") or top.args.get("with_"):
        return _issue("its query has a WITH clause", "with")
    if _stars_a_using_side(top):
        # the star is expanded to the aggregation's columns (`sql_using_stars`), which the
        # split's rest would read from the relation standing in for it
        return _issue("its SELECT list has a qualified star over a USING or NATURAL join",
                      "using_star")
    alias = subquery.args.get("alias")
    if alias is not None and alias.columns:
        return _issue("its aggregation's subquery renames its columns after its alias",
                      "subquery_alias")
    extra = sorted(k for k, v in subquery.args.items() if v and k not in ("this", "alias"))
    if extra:  # TABLESAMPLE, PIVOT, ... on the subquery: not a read of its rows
        return _issue(f"its aggregation's subquery has {', '.join(extra).upper()}", extra[0])
    span = _parenthesized(text, inner)
    if span is None:
        return _issue("its aggregation could not be cut from its text", "subquery")
    start, end = span
    rest = f"{text[:start]} {NAME} {text[end:]}"
    aggregation = text[start + 1:end - 1]
    if not _same_split(rest, aggregation, inner, subquery):
        return _issue("its aggregation could not be cut from its text", "subquery")
    return rest, aggregation


def _stars_a_using_side(select: exp.Select) -> bool:
    """Whether the SELECT list has `t.*` and its FROM a join by column names."""
    by_name = any(j.args.get("using") or (j.args.get("method") or "").upper() == "NATURAL"
                  for j in select.args.get("joins") or [])
    return by_name and any(isinstance(node, exp.Column) and isinstance(node.this, exp.Star)
                           and node.table for item in select.expressions
                           for node in item.walk())


def _aggregates(select: exp.Select) -> bool:
    """Whether a SELECT aggregates: GROUP BY, HAVING, DISTINCT, or an aggregate function (not
    over a window) in its list or ORDER BY."""
    if any(select.args.get(k) for k in ("group", "having", "distinct")):
        return True
    order = select.args.get("order")
    roots = [*select.expressions, *([order] if order is not None else [])]
    for root in roots:
        for node in root.walk(prune=lambda n: isinstance(n, (exp.Window, exp.Subquery,
                                                             exp.Select))):
            if isinstance(node, exp.AggFunc):
                return True
    return False


def _from(select: exp.Select) -> exp.Expression | None:
    clause = select.args.get("from_") or select.args.get("from")
    return clause.this if clause is not None else None


def _from_items(select: exp.Select) -> list[exp.Expression]:
    found = _from(select)
    return [*([found] if found is not None else []),
            *(join.this for join in select.args.get("joins") or [])]


def _left_outer(join: exp.Join) -> bool:
    return (join.side or "").upper() == "LEFT" and (join.kind or "").upper() in ("", "OUTER") \
        and not join.args.get("method")


def _changes_rows(item: exp.Expression) -> bool:
    """Whether a SELECT item aggregates, looks at other rows or generates rows."""
    for node in item.walk():
        if isinstance(node, (exp.AggFunc, exp.Window, exp.UDTF)):
            return True
        if isinstance(node, exp.Anonymous) and str(node.name).lower() in GENERATORS:
            return True
    return False


def _references(item: exp.Expression, name: str, alias: str) -> bool:
    """Whether the item is the aggregation's column `name` itself: `o.name` or `name`."""
    inner = item.this if isinstance(item, exp.Alias) else item
    return isinstance(inner, exp.Column) and inner.name.lower() == name and \
        not inner.args.get("db") and inner.table.lower() in ("", alias)


def _parenthesized(text: str, inner: exp.Select) -> tuple[int, int] | None:
    """The span `[start, end)` of the parentheses around the subquery `inner`: the innermost
    pair enclosing every identifier of it, whose first token inside is SELECT."""
    starts = [n.meta.get("start") for n in inner.find_all(exp.Identifier)]
    ends = [n.meta.get("end") for n in inner.find_all(exp.Identifier)]
    if not starts or any(v is None for v in starts + ends):
        return None
    low = min(int(s) for s in starts if s is not None)
    high = max(int(e) for e in ends if e is not None)
    try:
        tokens = list(sqlglot.Dialect.get_or_raise(DIALECT).tokenize(
            strip_stream_keywords(text)))
    except (TokenError, SqlRefError):
        return None
    pairs = _paren_pairs(tokens)
    enclosing = [(o, c) for o, c in pairs if tokens[o].end < low and tokens[c].start > high]
    if not enclosing:
        return None
    opening, closing = max(enclosing)
    if opening + 1 >= len(tokens) or tokens[opening + 1].token_type != TokenType.SELECT:
        return None
    return tokens[opening].start, tokens[closing].end + 1


def _paren_pairs(tokens: list[Token]) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    open_at: list[int] = []
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            open_at.append(index)
        elif token.token_type == TokenType.R_PAREN and open_at:
            pairs.append((open_at.pop(), index))
    return pairs


def _same_split(rest: str, aggregation: str, inner: exp.Select, subquery: exp.Subquery) -> bool:
    """Whether the two texts read back as the query's aggregation and the query with a read
    of NAME (under the subquery's alias) in its place."""
    try:
        cut = _parsed(aggregation)
        remaining = _parsed(rest)
    except SqlRefError:
        return False
    if len(cut.statements) != 1 or cut.statements[0] != inner or \
            len(remaining.statements) != 1:
        return False
    reads = [t for t in remaining.statements[0].find_all(exp.Table) if t.name == NAME]
    if len(reads) != 1 or reads[0].db:
        return False
    (read,) = reads
    top = remaining.statements[0]
    return isinstance(top, exp.Select) and read.alias == subquery.alias and \
        any(read is item for item in _from_items(top))


def _issue(explanation: str, operator: str) -> Issue:
    return Issue(NOT_TOP, f"the top of its query is not an aggregation, and {explanation}",
                 {"operator_name": operator})


@lru_cache(maxsize=64)
def _parsed(text: str) -> ParsedQuery:
    """A query's text read once (a refresh asks several questions of the same text). The
    trees are not changed by the callers."""
    return parse_sql_query(text)
