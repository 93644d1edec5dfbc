"""The type of a call's argument, asked of the engine: a probe query that selects just that
argument, in the same FROM / WHERE / GROUP BY scope, analysed (never run) by the engine.

A probe is itself rewritten (without types): an argument that calls a function the engine
lacks (`zip_with(...).a`, `round(try_to_date(...))`) is typed as its rewrite.

sqlglot finds the scope; it is not trusted with types (it reads `1.0` as DOUBLE, Spark as
DECIMAL, and gives `avg` of a DECIMAL the type DOUBLE)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyspark.sql.types import DataType, StructType

from lakesmith.engine.semantics.literal_types import literal_type
from lakesmith.engine.semantics.sql_rewrite import Typer, rewrite_sql
from lakesmith.engine.semantics.sql_text import Call
from lakesmith.errors import NotSupportedYet

if TYPE_CHECKING:  # sqlglot is imported where SQL text is probed (`sql_typer`), not by DataFrames
    from sqlglot import exp

# Answers a probe's type from a cache (by the argument's key), or runs the probe.
Cached = Callable[[bytes, Callable[[], DataType | None]], DataType | None]

_DIALECT = "spark"
_PROBE = "__lakesmith_probe"
_MARK = "__lakesmith_argument"


def sql_typer(spark: Any, cache: dict[Any, DataType | None] | None = None) -> Typer:
    """Types of arguments in SQL query text: the argument is marked, the marked text parsed by
    sqlglot to find the argument's scope, and a probe of that scope analysed by the engine.
    `cache` keeps the types probed, for later typers given the same one."""
    cache = {} if cache is None else cache

    def typer(whole: str, call: Call, index: int) -> DataType | None:
        start, end = call.args[index]
        literal = literal_type(whole[start:end])
        if literal is not None:
            return literal
        key = (whole.encode(), f"sql:{start}:{end}".encode())
        if key not in cache:
            probe = _probe_of_marked(whole[:start] + f" {_MARK}(" + whole[start:end] + ") "
                                     + whole[end:])
            cache[key] = None if probe is None else _analysed_type(
                lambda: spark.sql(_rewritten(probe)))
        return cache[key]

    return typer


def expression_typer(input_df: Any, cached: Cached | None = None) -> Typer:
    """Types of arguments in a SQL expression string applied to `input_df`; `cached(argument,
    probe)` (when given) answers from a cache of earlier probes or runs `probe`."""

    def typer(whole: str, call: Call, index: int) -> DataType | None:
        if input_df is None:
            return None
        start, end = call.args[index]
        argument = whole[start:end].strip()
        literal = literal_type(argument)
        if literal is not None:
            return literal

        def probe() -> DataType | None:
            return _analysed_type(lambda: input_df.selectExpr(_rewritten(argument)))

        return probe() if cached is None else cached(f"expr:{argument}".encode(), probe)

    return typer


def _rewritten(text: str) -> str:
    """A probe's text with the rewrites that need no types (typed ones are left as written)."""
    try:
        return rewrite_sql(text, None)
    except NotSupportedYet:  # a typed rule that refuses without types: the text as written
        return text


def sql_schema_probe(spark: Any, cache: dict[Any, DataType | None]
                     ) -> Callable[[str], StructType | None]:
    """The schema of a query's text, analysed (never run) by the engine; None when it cannot be
    analysed alone. Cached in `cache`."""

    def probe(text: str) -> StructType | None:
        key = (text.encode(), b"schema")
        if key not in cache:
            cache[key] = _analysed_schema(lambda: spark.sql(text))
        found = cache[key]
        return found if isinstance(found, StructType) else None

    return probe


def relation_schema_probe(spark: Any, cache: dict[Any, DataType | None]
                          ) -> Callable[[Any], StructType | None]:
    """The schema of a Connect relation, analysed by the engine; cached in `cache`."""
    from lakesmith.engine.plans import dataframe_of

    def probe(relation: Any) -> StructType | None:
        key = (relation.SerializeToString(deterministic=True), b"schema")
        if key not in cache:
            cache[key] = _analysed_schema(lambda: dataframe_of(spark, relation))
        found = cache[key]
        return found if isinstance(found, StructType) else None

    return probe


def _analysed_schema(dataframe: Any) -> StructType | None:
    try:
        schema = dataframe().schema
    except Exception:  # not analysable alone (e.g. a reference to an outer query)
        return None
    return schema if isinstance(schema, StructType) else None


def _analysed_type(dataframe: Any) -> DataType | None:
    try:
        fields = dataframe().schema.fields
    except Exception:  # the probe is not analysable here (e.g. a correlated reference)
        return None
    return fields[0].dataType if len(fields) == 1 else None


def _parse(text: str) -> exp.Expression | None:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = sqlglot.parse(text, dialect=_DIALECT)
    except (ParseError, TokenError):
        return None
    tree = statements[0] if len(statements) == 1 else None
    return tree if isinstance(tree, exp.Expression) else None


def sql_namer(spark: Any, cache: dict[Any, DataType | None] | None = None
              ) -> Callable[[str, Call], str | None]:
    """The name the engine gives a whole unaliased call in SQL text (Spark's, for a call as
    written), from a probe of its scope; None when it cannot be analysed."""
    names: dict[Any, Any] = {} if cache is None else cache

    def namer(whole: str, call: Call) -> str | None:
        key = (whole.encode(), f"name:{call.start}:{call.end}".encode())
        if key not in names:
            probe = _probe_of_marked(whole[:call.start] + f" {_MARK}(" +
                                     whole[call.start:call.end] + ") " + whole[call.end:],
                                     named=False)
            names[key] = None if probe is None else _analysed_name(lambda: spark.sql(probe))
        found = names[key]
        return found if isinstance(found, str) else None

    return namer


def _analysed_name(dataframe: Any) -> str | None:
    try:
        columns = dataframe().columns
    except Exception:  # not analysable here
        return None
    return str(columns[0]) if len(columns) == 1 else None


def _probe_of_marked(text: str, *, named: bool = True) -> str | None:
    from sqlglot import exp

    tree = _parse(text)
    if tree is None:
        return None
    for node in tree.find_all(exp.Anonymous):
        if _is_mark(node):
            return _probe(node, node.expressions[0], named=named)
    return None


def _probe(node: exp.Expression, argument: exp.Expression, *, named: bool = True) -> str | None:
    """`SELECT <argument> FROM ...` in the scope of `node`: the same FROM, joins, WHERE and
    GROUP BY (an argument of a grouped query that aggregates nothing is wrapped in `first`)."""
    from sqlglot import exp

    select = node.find_ancestor(exp.Select)
    if select is None:
        return None
    return scoped_probe(select, [argument], named=named)


def scoped_probe(select: exp.Select, arguments: list[exp.Expression], *,
                 named: bool = True) -> str:
    """`SELECT <arguments> FROM ...` in the scope of `select` (as `_probe`), the arguments
    named `__lakesmith_probe`, `__lakesmith_probe_1`, ... when `named`; marks (`mark`) anywhere
    in it read as the expressions they mark."""
    from sqlglot import exp

    items = []
    for position, argument in enumerate(arguments):
        argument = argument.copy()
        if named and _is_aggregate(select) and argument.find(exp.AggFunc) is None:
            argument = exp.Anonymous(this="first", expressions=[argument])
        alias = _PROBE if position == 0 else f"{_PROBE}_{position}"
        items.append(exp.alias_(argument, alias) if named else argument)
    probe = exp.Select(expressions=items)
    for key in ("from_", "joins", "laterals", "pivots", "where", "group"):
        value = select.args.get(key)
        if value:
            probe.set(key, value.copy() if isinstance(value, exp.Expression)
                      else [v.copy() for v in value])
    with_ = select.root().args.get("with_")  # the probe may read the query's CTEs
    if with_ is not None:
        probe.set("with_", with_.copy())
    # the mark may sit in a copied clause (GROUP BY): there it is just the argument again
    unmarked = probe.transform(lambda n: n.expressions[0] if _is_mark(n) else n)
    return str(unmarked.sql(_DIALECT))


def mark(text: str, position: int) -> str:
    """`text` wrapped in a mark that `parse_marked` finds by `position`."""
    return f" {_MARK}_{position}({text}) "


def parse_marked(text: str) -> tuple[exp.Expression, dict[int, exp.Anonymous]] | None:
    """Text with marks (`mark`) parsed by sqlglot, with each mark's node by its position;
    None when sqlglot cannot parse it."""
    from sqlglot import exp

    tree = _parse(text)
    if tree is None:
        return None
    marks = {int(str(n.this)[len(_MARK) + 1:]): n for n in tree.find_all(exp.Anonymous)
             if _is_mark(n) and str(n.this)[len(_MARK) + 1:].isdigit()}
    return tree, marks


def unmark(tree: exp.Expression) -> None:
    """Every mark (`mark`) in `tree` replaced, in place, by the expression it marks."""
    from sqlglot import exp

    for node in list(tree.find_all(exp.Anonymous)):
        if _is_mark(node):
            node.replace(node.expressions[0])


def analysed_schema(dataframe: Any) -> StructType | None:
    """The schema of `dataframe()`, analysed; None when it cannot be analysed."""
    return _analysed_schema(dataframe)


def probe_text(text: str) -> str:
    """A probe's text with the rewrites that need no types (`_rewritten`)."""
    return _rewritten(text)


def _is_mark(node: exp.Expression) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Anonymous) and str(node.this).lower().startswith(_MARK) \
        and len(node.expressions) == 1


def _is_aggregate(select: exp.Select) -> bool:
    from sqlglot import exp

    if select.args.get("group"):
        return True
    for expression in select.expressions:
        for agg in expression.find_all(exp.AggFunc):
            if agg.find_ancestor(exp.Window) is None:
                return True
    return False
