"""The types of a query's typed arguments, found together before the rewrite asks for them. A
comparison of two columns (`d > dec`, `a.d = b.dec`, `d IN (lo, hi)`, `d BETWEEN lo AND hi`)
needs both sides' types to tell whether a DOUBLE meets a DECIMAL (`comparisons`,
`decimal_lists`), and SQL text is full of them (every join condition); the other typed rules
(`round(x, 2)`, `a * b`, `avg(d)`, ...) need their arguments' too. Asked one by one, each costs an
analysis round trip of 2-15 ms; here they are typed at once:

- from the schemas lakesmith holds (`known_schemas`: a pipeline table's Delta log, a bound
  relation's view, a flow's analysed output): a column of a table the SELECT reads, with no
  round trip; a comparison with a side known to be neither FLOAT/DOUBLE nor DECIMAL (`a.id =
  b.id` of BIGINT ids) then needs no type of the other side;
- the rest with one probe per SELECT that has some (`SELECT <every argument> FROM <its FROM>
  ...`, analysed, never run); a correlated subquery's with the enclosing FROM joined
  (`sql_outer_keys`).

The types found are put where the typer looks first (its cache), so the rewrite asks the engine
only for an argument this could not type (a probe that failed: each is then asked alone, as
before) or one a nested rewrite changed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from pyspark.sql.types import DataType, DecimalType, DoubleType, FloatType, StructType

from lakesmith.engine.semantics.comparisons import COMPARISONS
from lakesmith.engine.semantics.decimal_lists import could_differ
from lakesmith.engine.semantics.known_schemas import TableSchemas
from lakesmith.engine.semantics.lambda_variables import (
    lambda_variables,
    without_lambda_variables,
)
from lakesmith.engine.semantics.literal_types import literal_type
from lakesmith.engine.semantics.registry import RULES_BY_NAME
from lakesmith.engine.semantics.sql_rewrite import Prefetch
from lakesmith.engine.semantics.sql_text import Call

Span = tuple[int, int]


class OperandTyping(Protocol):
    """Where a text's operands get their types: `known` without a round trip, `probe` with one
    (or one per SELECT); both put what they find in the typer's cache and return it."""

    def known(self, text: str, spans: list[Span]) -> dict[Span, DataType]:
        ...

    def probe(self, text: str, spans: list[Span]) -> dict[Span, DataType]:
        ...


def prefetch_operands(text: str, calls: list[Call], typing: OperandTyping) -> set[Call]:
    """Type the arguments the rules among `calls` will ask types of (the comparisons that could
    meet a DOUBLE with a DECIMAL, and every other typed rule's: `round(x, 2)`, `a * b`, ...);
    the comparisons that cannot (a side known of another type) are returned: the rewrite leaves
    them as written without asking for types."""
    operands = {c: found for c in calls if (found := _typed_arguments(text, c))}
    wanted = list(operands)
    if not wanted:
        return set()
    spans = _disjoint(sorted({s for found in operands.values() for s in found}))
    if not spans:
        return set()
    known = typing.known(text, spans)
    settled = {c for c in wanted if c.name in COMPARISONS and _column_pair(text, c)
               and any(s in known and not _could_meet(known[s]) for s in operands[c])}
    rest = sorted({s for c in wanted if c not in settled for s in operands[c]
                   if s in spans and s not in known})
    if rest:
        typing.probe(text, rest)
    return settled


def _typed_arguments(text: str, call: Call) -> list[Span]:
    """The spans of the arguments (not literals) whose types `call`'s rule asks for; none for a
    DISTINCT call or a rule that types its own result (those are asked as they come)."""
    rule = RULES_BY_NAME.get(call.name)
    args = call.arg_texts(text)
    if rule is None or rule.typed_result or args and _DISTINCT.match(args[0]) or \
            not rule.candidate(args):
        return []
    return [call.args[i] for i in rule.typed_positions(len(args))
            if i < len(args) and args[i] and literal_type(args[i]) is None]


_DISTINCT = re.compile(r"(?is)distinct\s")


def _column_pair(text: str, call: Call) -> bool:
    """A comparison that is a candidate only as a possible DOUBLE-DECIMAL pair (not as a
    STRING-BOOLEAN one: a boolean literal beside the other side)."""
    return all(could_differ(a) for a in call.arg_texts(text))


def _could_meet(t: DataType) -> bool:
    return isinstance(t, (FloatType, DoubleType, DecimalType))


def _disjoint(spans: list[Span]) -> list[Span]:
    """Spans that do not overlap one another, the first of overlapping ones kept (an operand
    inside another, `(a > b) = c`, is typed alone)."""
    kept: list[Span] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


class SqlOperandTyping:
    """Operands of SQL query text: marked in the text, the marked text parsed once by sqlglot to
    find each operand's SELECT; typed from `tables` or by a probe of each SELECT through
    `spark`. `cache` is the typer's (`typing.sql_typer`)."""

    def __init__(self, spark: Any, cache: dict[Any, DataType | None],
                 tables: TableSchemas | None) -> None:
        self.spark = spark
        self.cache = cache
        self.tables = tables
        self._parsed: dict[tuple[str, tuple[Span, ...]], Any] = {}

    def known(self, text: str, spans: list[Span]) -> dict[Span, DataType]:
        cached = {s: t for s in spans if (t := self.cache.get(_key(text, s))) is not None}
        if self.tables is None:
            return cached
        parsed = self._parse(text, spans)
        if parsed is None:
            return cached
        _, marks = parsed
        found = dict(cached)
        for position, span in enumerate(spans):
            node = marks.get(position)
            if span in found or node is None:
                continue
            column_type = _column_type(node, self.tables)
            if column_type is not None:
                found[span] = column_type
                self.cache[_key(text, span)] = column_type
        return found

    def probe(self, text: str, spans: list[Span]) -> dict[Span, DataType]:
        from sqlglot import exp

        from lakesmith.engine.semantics.typing import analysed_schema, probe_text, scoped_probe

        parsed = self._parse(text, spans)
        if parsed is None:
            return {}
        _, marks = parsed
        by_select: dict[int, tuple[Any, list[tuple[Span, Any]]]] = {}
        for position, span in enumerate(spans):
            node = marks.get(position)
            select = None if node is None else node.find_ancestor(exp.Select)
            operand = None if node is None else without_lambda_variables(node)
            if select is not None and operand is not None:
                by_select.setdefault(id(select), (select, []))[1].append((span, operand))
        found: dict[Span, DataType] = {}
        for select, members in by_select.values():
            operands = [operand for _, operand in members]
            probe = probe_text(scoped_probe(select, operands))
            schema = analysed_schema(lambda p=probe: self.spark.sql(p))
            if schema is None or len(schema.fields) != len(members):
                schema = self._with_outer_scope(select, operands)
            if schema is None or len(schema.fields) != len(members):
                continue  # not analysable together: each is asked alone
            for (span, _), field in zip(members, schema.fields, strict=True):
                found[span] = field.dataType
                self.cache[_key(text, span)] = field.dataType
        return found

    def _with_outer_scope(self, select: Any, operands: list[Any]) -> StructType | None:
        """The operands of a correlated subquery (`WHERE u.k = t.id`), typed with the enclosing
        queries' FROM clauses joined to the subquery's (`sql_outer_keys`). The marks are taken
        out of the whole parsed text first (the operands stay where they were)."""
        from sqlglot import exp

        from lakesmith.engine.semantics.sql_outer_keys import keys_with_outer_scope
        from lakesmith.engine.semantics.typing import analysed_schema, probe_text, unmark

        if select.parent is None:
            return None
        root = select.root()
        unmark(root)
        self._parsed = {k: v for k, v in self._parsed.items() if v is None or v[0] is not root}
        with_ = root.args.get("with_")
        prefix = f"{with_.sql(dialect='spark')} " if with_ is not None else ""

        def schema_of(text: str) -> StructType | None:
            return analysed_schema(lambda: self.spark.sql(probe_text(text)))

        return keys_with_outer_scope(select, operands, prefix, schema_of, exp)

    def _parse(self, text: str, spans: list[Span]) -> Any:
        """The text with every span marked, parsed (once per text and spans)."""
        from lakesmith.engine.semantics.typing import mark, parse_marked

        key = (text, tuple(spans))
        if key not in self._parsed:
            marked, position = [], 0
            for index, (start, end) in enumerate(spans):
                marked += [text[position:start], mark(text[start:end], index)]
                position = end
            self._parsed[key] = parse_marked("".join(marked) + text[position:])
        return self._parsed[key]


def _key(text: str, span: Span) -> tuple[bytes, bytes]:
    """The typer's cache key of an operand (`typing.sql_typer`)."""
    return text.encode(), f"sql:{span[0]}:{span[1]}".encode()


def _column_type(node: Any, tables: TableSchemas) -> DataType | None:
    """The type of a marked operand that is a column of a table whose schema lakesmith knows,
    read by the SELECT the operand is in; None for anything else."""
    from sqlglot import exp

    column = node.expressions[0]
    select = node.find_ancestor(exp.Select)
    if isinstance(column, exp.Column) and not column.table and \
            column.name.lower() in lambda_variables(node):
        return None  # `x -> x > d`: x is the lambda's variable, whatever the tables hold
    if not isinstance(column, exp.Column) or isinstance(column.this, exp.Star) or \
            column.args.get("db") is not None or select is None or \
            any(select.args.get(k) for k in ("laterals", "pivots")):
        return None
    sources = _sources(select, tables)
    if sources is None:
        return None
    if column.table:  # `t.x`: the one source so named (else a struct field, an outer column)
        named = [schema for name, schema in sources if name == column.table.lower()]
        if len(named) != 1 or named[0] is None:
            return None
        candidates = [named[0]]
    elif any(schema is None for _, schema in sources):
        return None  # `x` may be a column of the source whose schema is not known
    else:
        candidates = [schema for _, schema in sources if schema is not None]
    matches = [f for schema in candidates for f in schema.fields
               if f.name.lower() == column.name.lower()]
    return matches[0].dataType if len(matches) == 1 else None


def _sources(select: Any, tables: TableSchemas
             ) -> list[tuple[str | None, StructType | None]] | None:
    """Each relation the SELECT reads (FROM and joins), by the name that qualifies its columns,
    with its schema when it is a table whose schema lakesmith knows (not a common table
    expression, a subquery, ...); None for a SELECT without FROM."""
    from sqlglot import exp

    source = select.args.get("from_")
    if source is None:
        return None
    with_ = select.root().args.get("with_")
    ctes = {c.alias.lower() for c in with_.expressions} if with_ is not None else set()
    found: list[tuple[str | None, StructType | None]] = []
    for relation in [source.this, *(j.this for j in select.args.get("joins") or [])]:
        schema = None
        if isinstance(relation, exp.Table) and relation.args.get("catalog") is None and \
                not relation.args.get("pivots") and (relation.db or relation.name.lower()
                                                     not in ctes):
            name = f"`{relation.name.replace('`', '``')}`"
            schema = tables(f"`{relation.db.replace('`', '``')}`.{name}" if relation.db
                            else name)
        qualifier = relation.alias or (relation.name if isinstance(relation, exp.Table) else "")
        found.append((qualifier.lower() or None, schema))
    return found


def sql_prefetch(spark: Any, cache: dict[Any, DataType | None],
                 tables: TableSchemas | None = None) -> Prefetch:
    """The prefetch of SQL query text's comparison operands (`rewrite_sql`)."""
    typing = SqlOperandTyping(spark, cache, tables)

    def prefetch(text: str, calls: list[Call]) -> set[Call]:
        return prefetch_operands(text, calls, typing)

    return prefetch



class ExpressionOperandTyping:
    """Operands of a SQL expression string over a DataFrame (`filter("d > dec")`): a plain
    column of an input whose schema lakesmith knows is typed by `column_type`, the rest by one
    `selectExpr` of them all; what is found is handed to `remember` (the typer's cache)."""

    def __init__(self, input_df: Any, column_type: Callable[[str], DataType | None],
                 remember: Callable[[str, DataType], None]) -> None:
        self.input_df = input_df
        self.column_type = column_type
        self.remember = remember

    def known(self, text: str, spans: list[Span]) -> dict[Span, DataType]:
        found = {}
        for span in spans:
            operand = text[span[0]:span[1]].strip()
            column_type = self.column_type(operand)
            if column_type is not None:
                found[span] = column_type
                self.remember(operand, column_type)
        return found

    def probe(self, text: str, spans: list[Span]) -> dict[Span, DataType]:
        from lakesmith.engine.semantics.typing import analysed_schema, probe_text

        if self.input_df is None:
            return {}
        operands = [text[a:b].strip() for a, b in spans]
        schema = analysed_schema(
            lambda: self.input_df.selectExpr(*[probe_text(o) for o in operands]))
        if schema is None or len(schema.fields) != len(operands):
            return {}  # not analysable together: each is asked alone
        for operand, field in zip(operands, schema.fields, strict=True):
            self.remember(operand, field.dataType)
        return {s: f.dataType for s, f in zip(spans, schema.fields, strict=True)}


def expression_prefetch(input_df: Any, column_type: Callable[[str], DataType | None],
                        remember: Callable[[str, DataType], None]) -> Prefetch:
    """The prefetch of an expression string's comparison operands (`rewrite_sql`)."""
    typing = ExpressionOperandTyping(input_df, column_type, remember)

    def prefetch(text: str, calls: list[Call]) -> set[Call]:
        return prefetch_operands(text, calls, typing)

    return prefetch
