"""The stateful operators of a streaming SQL query, found per SELECT.

An operator needs state across micro-batches only when the rows it sees come from a stream: in
`SELECT * FROM STREAM(orders) WHERE id IN (SELECT id FROM customers GROUP BY id)` the GROUP BY runs
over a batch table and is recomputed with each batch, which is correct; in
`SELECT kind, count(*) FROM STREAM(orders) GROUP BY kind` it is not. So each SELECT (and each set
operation) is a scope, in the sense of `sqlglot.optimizer.scope`: it reads a stream when one of the
sources in its FROM/JOIN is a streaming table, or a subquery, CTE or lateral view that reads one.
Only the operators of such scopes are reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, traverse_scope

from lakesmith.engine.sql_refs import SqlRef, parse_sql_query

# A SELECT's own clauses (args of exp.Select) that need state when its input is a stream.
_CLAUSES: tuple[tuple[str, str], ...] = (
    ("group", "aggregation (GROUP BY)"),
    ("distinct", "SELECT DISTINCT"),
    ("order", "sorting (ORDER BY)"),
    ("sort", "sorting (SORT BY)"),
    ("cluster", "sorting (CLUSTER BY)"),
    ("limit", "limit"),
    ("offset", "offset"),
)
# The same for a set operation (`… UNION ALL … ORDER BY x LIMIT 3`).
_SET_OPERATION_CLAUSES: tuple[tuple[str, str], ...] = (
    ("order", "sorting (ORDER BY)"),
    ("limit", "limit"),
    ("offset", "offset"),
)


@dataclass(frozen=True)
class SqlStreamingAnalysis:
    streaming: bool  # whether the query reads a stream anywhere
    operators: tuple[str, ...]  # descriptions of the stateful operators applied to a stream


def analyze_streaming_sql(text: str,
                          reads_stream: Callable[[SqlRef], bool]) -> SqlStreamingAnalysis:
    """Whether `text` reads a stream, and the stateful operators it applies to streaming rows,
    each described once, in the order first found."""
    parsed = parse_sql_query(text)
    streaming_tables = {id(node) for node, ref in parsed.tables if reads_stream(ref)}
    if not streaming_tables:
        return SqlStreamingAnalysis(False, ())
    found: list[str] = []
    for statement in parsed.statements:
        found += _statement_operators(statement, streaming_tables)
    return SqlStreamingAnalysis(True, tuple(dict.fromkeys(found)))


def _statement_operators(statement: exp.Expr, streaming_tables: set[int]) -> list[str]:
    scoped = _scoped_operators(statement, streaming_tables)
    if scoped is not None:
        return scoped
    # Without scopes every SELECT counts as reading the stream: a refusal is better than
    # per-batch results from a stateful operator.
    return [op for node in statement.find_all(exp.Select, exp.SetOperation)
            for op in _operators(node, node.walk(),
                                 len(streaming_tables) if node.args.get("joins") else 0)]


def _scoped_operators(statement: exp.Expr, streaming_tables: set[int]) -> list[str] | None:
    """The operators of the scopes that read a stream; None when sqlglot cannot split the
    statement into scopes (an alias used twice, a statement that is not a query)."""
    try:
        scopes = traverse_scope(statement)
        if not scopes:
            return None
        streaming = _StreamingScopes(streaming_tables)
        return [op for scope in scopes if streaming.reads_stream(scope)
                for op in _operators(scope.expression, scope.walk(),
                                     streaming.joined_streams(scope))]
    except OptimizeError:
        return None


class _StreamingScopes:
    """Which scopes read a stream, directly or through the scopes they select from."""

    def __init__(self, streaming_tables: set[int]) -> None:
        self._tables = streaming_tables
        self._memo: dict[int, bool] = {}

    def reads_stream(self, scope: Scope) -> bool:
        key = id(scope)
        if key not in self._memo:
            self._memo[key] = False  # a recursive CTE selects from itself
            if isinstance(scope.expression, exp.SetOperation):
                self._memo[key] = any(self.reads_stream(operand)
                                      for operand in scope.set_operation_scopes)
            else:
                self._memo[key] = any(self._source_streams(source)
                                      for _, source in scope.selected_sources.values())
        return self._memo[key]

    def joined_streams(self, scope: Scope) -> int:
        """How many streams the scope's FROM and JOIN clauses combine (lateral views excluded:
        they expand each row of their own source and join nothing)."""
        if not isinstance(scope.expression, exp.Select) or not scope.expression.args.get("joins"):
            return 0
        return sum(1 for node, source in scope.selected_sources.values()
                   if not isinstance(node, (exp.Lateral, exp.UDTF))
                   and self._source_streams(source))

    def _source_streams(self, source: exp.Table | Scope) -> bool:
        if isinstance(source, Scope):
            return self.reads_stream(source)
        return id(source) in self._tables


def _operators(query: exp.Expr, in_scope: Iterable[exp.Expr],
               streaming_joins: int) -> list[str]:
    """The stateful operators of one SELECT or set operation whose input is a stream; `in_scope`
    are its nodes, not those of its subqueries."""
    if isinstance(query, exp.SetOperation):
        return _set_operation_operators(query)
    if not isinstance(query, exp.Select):
        return []
    found = [description for arg, description in _CLAUSES if query.args.get(arg)]
    nodes = list(in_scope)
    if any(isinstance(node, exp.Window) for node in nodes):
        found.append("window function (OVER)")
    if not query.args.get("group") and any(_is_aggregation(node) for node in nodes):
        found.append("aggregation")
    if streaming_joins > 1:
        found.append("stream-stream join")
    return found


def _set_operation_operators(query: exp.SetOperation) -> list[str]:
    found = [description for arg, description in _SET_OPERATION_CLAUSES if query.args.get(arg)]
    if isinstance(query, exp.Intersect):
        found.append("INTERSECT")
    elif isinstance(query, exp.Except):
        found.append("EXCEPT")
    elif query.args.get("distinct"):
        found.append("UNION without ALL (deduplication)")
    return found


def _is_aggregation(node: exp.Expr) -> bool:
    """An aggregate function outside a window (`sum(x) OVER (…)` is a window function)."""
    return isinstance(node, exp.AggFunc) and not isinstance(
        node.find_ancestor(exp.Window, exp.Select), exp.Window)
