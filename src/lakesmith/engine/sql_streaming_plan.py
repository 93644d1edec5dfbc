"""A streaming SQL aggregation as the DataFrame plan the stateful operators run.

    SELECT window(ts, '5 minutes') AS w, country, sum(amount) AS revenue
    FROM STREAM(orders) WATERMARK ts DELAY OF INTERVAL 10 MINUTES AS o
    WHERE amount > 0
    GROUP BY window(ts, '5 minutes'), country

is, to lakesmith, the same query as

    (read of STREAM(orders)).withWatermark("ts", "10 minutes").alias("o")
        .where(expr("amount > 0"))
        .groupBy(window(col("ts"), "5 minutes"), expr("country"))
        .agg(expr("window(ts, '5 minutes') AS w"), expr("country"), expr("sum(amount) AS revenue"))

with the grouping keys left out of the output, so the aggregation operator
(`runtime/streaming/operators/aggregate.py`) sees the `withWatermark` and the `window(...)` key it
handles in Python, and the results are the Python form's. The read stays SQL text (the binder binds
it to the batch's slice as any SQL read); every expression is the user's text, run by the engine.

Handled: FROM items that are tables, `STREAM(t)` or `STREAM read_files(...)`, each with an
optional WATERMARK clause and alias, joined with `JOIN ... ON` (a stream-stream join is the
DataFrame join the join operator runs), WHERE, GROUP BY, HAVING; without GROUP BY the select list
is a projection. Other shapes with a WATERMARK clause are refused by name; without one they stay
SQL (and stateful operators in them are refused at dry-run as before).
"""

from __future__ import annotations

from typing import Any

import sqlglot
from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from sqlglot import Token, TokenType, exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.engine.plans import dataframe_of, relation_of
from lakesmith.engine.sql_dialect import DIALECT
from lakesmith.engine.sql_refs import (
    SqlFileRef,
    SqlRef,
    SqlTableRef,
    parse_sql_query,
    strip_stream_keywords,
)
from lakesmith.engine.sql_watermark import WatermarkClause, watermark_clauses
from lakesmith.errors import SqlRefError

KEY_PREFIX = "__lakesmith_key_"
ITEM_PREFIX = "__lakesmith_item_"
HAVING = "__lakesmith_having"
_WINDOWS = ("window", "session_window")
_LOOKAHEAD = 8  # tokens an expression may run past its last token with an offset
# Aggregates whose result follows the order of rows: run in arrival order when a select item is
# one of them with an alias (`_ordered_aggregate`), refused inside other expressions.
_ORDERED = (exp.First, exp.Last, exp.FirstValue, exp.LastValue, exp.ArrayAgg)
_ORDERED_NAMES = ((exp.First, "first"), (exp.Last, "last"), (exp.FirstValue, "first_value"),
                  (exp.LastValue, "last_value"), (exp.ArrayAgg, "collect_list"))
_CLAUSES_REFUSED = (("with_", "a WITH clause"), ("distinct", "DISTINCT"),
                    ("order", "ORDER BY"), ("limit", "LIMIT"), ("offset", "OFFSET"),
                    ("laterals", "LATERAL VIEW"), ("windows", "a WINDOW clause"),
                    ("sort", "SORT BY"), ("cluster", "CLUSTER BY"))


def streaming_sql_plan(text: str, spark: Any) -> proto.Relation | None:
    """The plan of a streaming SQL query that groups a stream, joins two streams or has a
    WATERMARK clause; None for any other query (it runs as SQL). A SqlRefError says what is not
    supported."""
    clauses = watermark_clauses(text)
    try:
        parsed = parse_sql_query(text)
    except SqlRefError:
        if clauses:
            raise
        return None  # not for this module to judge: the SQL path reports it, or runs it
    statement = parsed.statements[0] if len(parsed.statements) == 1 else None
    refs = {id(node): ref for node, ref in parsed.tables}
    items = _from_items(statement, refs) if isinstance(statement, exp.Select) else None
    streams = sum(1 for _, ref in items or [] if ref.streaming)
    joined = isinstance(statement, exp.Select) and bool(statement.args.get("joins"))
    grouped = isinstance(statement, exp.Select) and bool(statement.args.get("group"))
    if not clauses and not (items and ((grouped and streams) or (joined and streams > 1))):
        return None
    where = ("the WATERMARK clause" if clauses else "GROUP BY over a stream" if grouped
             else "a stream-stream join")
    if not isinstance(statement, exp.Select) or not items:
        raise SqlRefError(
            f"{where} is supported by lakesmith in a SELECT that reads tables or streams "
            "(FROM STREAM(t) [WATERMARK ...] [AS alias] [JOIN ... ON ...] [WHERE ...] "
            "[GROUP BY ...]); define the other parts as temporary views and read them with "
            "STREAM(view).")
    for arg, shown in _CLAUSES_REFUSED:
        if statement.args.get(arg):
            raise SqlRefError(f"{where} with {shown} is not supported by lakesmith yet: write "
                              "this query with the DataFrame API (withWatermark, groupBy, join), "
                              "which runs it with Spark's results.")
    return _Translation(text, spark).plan(statement, items, clauses)


def _from_items(select: exp.Select, refs: dict[int, SqlRef]
                ) -> list[tuple[exp.Table, SqlRef]] | None:
    """The tables of FROM and its JOINs with their references; None when one is something
    else (a subquery, a table function, a lateral view)."""
    from_ = select.args.get("from_")
    nodes = [from_.this if isinstance(from_, exp.From) else None,
             *[join.this for join in select.args.get("joins") or []]]
    found = []
    for node in nodes:
        ref = refs.get(id(node)) if isinstance(node, exp.Table) else None
        if ref is None or not isinstance(node, exp.Table):
            return None
        found.append((node, ref))
    return found


class _Translation:
    def __init__(self, text: str, spark: Any) -> None:
        self.text = text
        self.spark = spark
        blanked = strip_stream_keywords(text)
        self.tokens: list[Token] = list(sqlglot.Dialect.get_or_raise(DIALECT).tokenize(blanked))

    def plan(self, select: exp.Select, items: list[tuple[exp.Table, SqlRef]],
             clauses: list[WatermarkClause]) -> proto.Relation:
        sources = []
        for index, (table, ref) in enumerate(items):
            following = items[index + 1][1].start if index + 1 < len(items) else len(self.text)
            own = [c for c in clauses if ref.start < c.start < following]
            if len(own) > 1:
                raise SqlRefError(f"{self.text[ref.start:ref.end]} has {len(own)} WATERMARK "
                                  "clauses; a FROM item takes one.")
            sources.append(self._source(table, ref, own[0] if own else None))
        rows = sources[0]
        for join, right in zip(select.args.get("joins") or [], sources[1:], strict=True):
            rows = rows.join(right, self._join_condition(join), _join_type(join))
        where = select.args.get("where")
        if where is not None:
            rows = rows.where(F.expr(self.span(where.this)))
        group = select.args.get("group")
        if group is None:
            if select.args.get("having"):
                raise SqlRefError("HAVING without GROUP BY is not supported by lakesmith on a "
                                  "stream.")
            return relation_of(rows.select(*[F.expr(self.span(item))
                                             for item in select.expressions]))
        return relation_of(self._aggregate(rows, select, group))

    def _join_condition(self, join: exp.Join) -> Any:
        if join.args.get("using") or join.args.get("on") is None:
            raise SqlRefError("a stream-stream join in SQL needs an ON condition (USING and "
                              "NATURAL joins are not supported by lakesmith yet).")
        return F.expr(self.span(join.args["on"]))

    def _source(self, table: exp.Table, ref: SqlRef, clause: WatermarkClause | None) -> Any:
        if isinstance(ref, SqlFileRef):
            read = self.text[ref.start:ref.end]
        else:
            name = self.text[ref.start:ref.end]
            read = f"STREAM({name})" if ref.streaming else name
        relation = proto.Relation()
        relation.sql.query = f"SELECT * FROM {read}"
        rows: Any = dataframe_of(self.spark, relation)
        if clause is not None:
            if clause.computed:
                rows = rows.select(F.col("*"), F.expr(clause.expression).alias(clause.name))
            rows = rows.withWatermark(clause.name, clause.delay)
        alias = table.alias or (ref.parts[-1] if isinstance(ref, SqlTableRef)
                                and ref.path_format is None else None)
        return rows.alias(alias) if alias else rows

    def _aggregate(self, rows: Any, select: exp.Select, group: exp.Group) -> Any:
        if any(group.args.get(k) for k in ("rollup", "cube", "grouping_sets", "all")):
            raise SqlRefError("GROUP BY ROLLUP / CUBE / GROUPING SETS / ALL over a stream is not "
                              "supported by lakesmith yet.")
        # Keys keep their names where items may refer to them (`window`, `window.start`, a
        # column); other keys get hidden ones. Items named like a key are renamed after the
        # keys are dropped.
        keys: list[Any] = []
        dropped: list[str] = []
        for index, expression in enumerate(group.expressions):
            key = self._window_key(expression)
            if key is not None:
                keys.append(key)
                dropped.append(expression.name.lower())
            elif isinstance(expression, exp.Column):
                keys.append(F.col(_quoted(expression.name)))
                dropped.append(expression.name)
            else:
                keys.append(F.expr(self.span(expression)).alias(f"{KEY_PREFIX}{index}"))
                dropped.append(f"{KEY_PREFIX}{index}")
        key_names = {name.lower() for name in dropped}
        items: list[Any] = []
        renamed: dict[str, str] = {}
        for index, item in enumerate(select.expressions):
            ordered = self._ordered_aggregate(item)
            if ordered is None:
                _refuse_unsupported_aggregates(item)
            name = _output_name(item)
            inner = item.this if isinstance(item, exp.Alias) else item
            value = ordered if ordered is not None else F.expr(self.span(inner))
            if name is not None and name.lower() in key_names:
                hidden = f"{ITEM_PREFIX}{index}"
                items.append(value.alias(hidden))
                renamed[hidden] = name
            elif ordered is not None:
                items.append(ordered.alias(name))
            else:
                items.append(F.expr(self.span(item)))
        having = select.args.get("having")
        if having is not None:
            _refuse_unsupported_aggregates(having)
            items.append(F.expr(self.span(having.this)).alias(HAVING))
        aggregated = rows.groupBy(*keys).agg(*items)
        if having is not None:
            aggregated = aggregated.where(F.col(HAVING))
            dropped.append(HAVING)
        output = aggregated.drop(*dropped)
        for hidden, name in renamed.items():
            output = output.withColumnRenamed(hidden, name)
        return output

    def _ordered_aggregate(self, item: exp.Expr) -> Any | None:
        """`first(v) AS f` (also `last`, `first_value`, `last_value`, `collect_list`, with
        `IGNORE NULLS` / `true`) as the DataFrame API's function call, which the aggregation
        operator makes follow arrival order as Spark does; None for any other item."""
        if not isinstance(item, exp.Alias):
            return None
        function, ignore_nulls = item.this, False
        if isinstance(function, exp.IgnoreNulls):
            function, ignore_nulls = function.this, True
        name = next((n for kind, n in _ORDERED_NAMES if isinstance(function, kind)), None)
        extra = {k for k, v in function.args.items() if v is not None} - {"this",
                                                                            "nulls_excluded"}
        if name is None or extra or function.this is None or \
                function.this.find(exp.AggFunc) is not None:
            return None
        if ignore_nulls and name == "collect_list":
            return None
        value = F.expr(self.span(function.this))
        if name == "collect_list":
            return F.collect_list(value)
        build = {"first": F.first, "last": F.last}.get(name)
        if build is not None:
            return build(value, ignore_nulls)
        return (F.first_value if name == "first_value" else F.last_value)(
            value, F.lit(ignore_nulls))

    def _window_key(self, expression: exp.Expr) -> Any | None:
        """`window(col, 'size'[, 'slide'[, 'start']])` / `session_window(col, gap)` as the
        DataFrame API builds them (what the aggregation operator recognises), or None."""
        if not isinstance(expression, exp.Anonymous) or expression.name.lower() not in _WINDOWS:
            return None
        arguments = expression.expressions
        if not arguments or not isinstance(arguments[0], exp.Column):
            return None
        time = F.col(_quoted(arguments[0].name))
        if expression.name.lower() == "session_window":
            if len(arguments) != 2:
                return None
            gap = arguments[1]
            return F.session_window(time, gap.this if _is_string(gap)
                                    else F.expr(self.span(gap)))
        durations = arguments[1:]
        if not durations or not all(_is_string(d) for d in durations) or len(durations) > 3:
            return None
        return F.window(time, *[d.this for d in durations])

    def span(self, node: exp.Expr) -> str:
        """The text of `node` as the user wrote it."""
        offsets = [(n.meta["start"], n.meta["end"]) for n in node.walk()
                   if "start" in n.meta and "end" in n.meta]
        if not offsets:
            return node.sql(dialect=DIALECT)
        low = min(s for s, _ in offsets)
        high = max(e for _, e in offsets)
        first = next(i for i, t in enumerate(self.tokens) if t.end >= low)
        last = max(i for i, t in enumerate(self.tokens) if t.start <= high)
        depth = sum(_paren(t) for t in self.tokens[first:last + 1])
        while depth > 0 and last + 1 < len(self.tokens):
            last += 1
            depth += _paren(self.tokens[last])
        while depth < 0 and first > 0:
            first -= 1
            depth += _paren(self.tokens[first])
        # Some nodes carry no offsets (an interval's unit): the text ends at the first token
        # after which it reads back as the same expression.
        for end in range(last, min(last + _LOOKAHEAD, len(self.tokens))):
            candidate = self.text[self.tokens[first].start:self.tokens[end].end + 1]
            if _reads_as(candidate, node):
                return candidate
        return node.sql(dialect=DIALECT)


def _reads_as(text: str, node: exp.Expr) -> bool:
    try:
        return sqlglot.parse_one(text, read=DIALECT) == node
    except (ParseError, TokenError):
        return False


def _join_type(join: exp.Join) -> str:
    """The DataFrame API's name of the join (`left_outer`, `left_semi`, ...)."""
    side, kind = (join.args.get("side") or "").upper(), (join.args.get("kind") or "").upper()
    if kind == "CROSS":
        return "cross"
    if kind in ("SEMI", "ANTI"):
        return f"{(side or 'left').lower()}_{kind.lower()}"
    return f"{side.lower()}_outer" if side else "inner"


def _output_name(item: exp.Expr) -> str | None:
    """The name the engine gives a select item when it is plain (an alias, a column, a window
    call); None for other expressions."""
    if isinstance(item, exp.Alias):
        return item.alias
    if isinstance(item, exp.Column):
        return item.name
    if isinstance(item, exp.Anonymous) and item.name.lower() in _WINDOWS:
        return item.name.lower()
    return None


def _refuse_unsupported_aggregates(node: exp.Expr) -> None:
    for found in node.find_all(exp.AggFunc):
        if found.find(exp.Distinct) is not None:
            raise SqlRefError(
                "Distinct aggregations are not supported on streaming DataFrames/Datasets. "
                "Consider using approx_count_distinct() instead.")
        if isinstance(found, _ORDERED):
            raise SqlRefError(
                f"{found.sql(dialect=DIALECT)}: first, last and collect_list in a streaming SQL "
                "aggregation run in arrival order (as Spark) only as a select item of their "
                "own with an alias (`first(v) AS first_v`); lakesmith does not support them "
                "inside other expressions or unnamed yet.")


def _is_string(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _paren(token: Token) -> int:
    return {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
