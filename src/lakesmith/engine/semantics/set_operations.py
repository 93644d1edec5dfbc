"""UNION / INTERSECT / EXCEPT with Spark's column types: each column of every side is cast to
the common type of that column over all sides (`common_type`), as Spark's
WidenSetOperationTypes does. The engine types the result by the first side and hands back the
other sides' values unconverted (`SELECT 1 AS v UNION ALL SELECT 2.5D` is declared INT and holds
2.5), or coerces to STRING where Spark casts a STRING to BIGINT and fails.

SQL text: the sides are found from tokens, each side's columns asked of the engine (a probe,
analysed, never run; cached), and a side whose types differ is wrapped as
`SELECT CAST(c AS t) AS name, ... FROM (side) AS s(c, ...)`. Connect plans: the inputs of a
`set_op` relation are wrapped in a projection with the casts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import proto
from pyspark.sql.types import DataType, StructType

from lakesmith.engine.plans import all_relations, dataframe_of, relation_of
from lakesmith.engine.semantics.common_type import NoCommonType, common_type, needs_cast, sql_type
from lakesmith.engine.semantics.float_keys import as_spark_compares_sql, is_floating
from lakesmith.engine.semantics.sql_operators import Token, tokens
from lakesmith.errors import NotSupportedYet

# SQL text of a query → its schema (analysed by the engine), or None when it cannot be analysed
# alone (a side that refers to an outer query).
SchemaProbe = Callable[[str], StructType | None]

_SET_OPERATORS = frozenset({"union", "intersect", "except", "minus"})
_QUERY_START = frozenset({"select", "values", "table", "from", "("})
_AFTER_LAST = frozenset({"order", "limit", "offset", "sort", "cluster", "distribute", ";"})
_SIDE = "__lakesmith_side"


@dataclass(frozen=True)
class SetOperation:
    """The sides of one chain of set operators at one parenthesis depth, as text spans, and the
    WITH clause the sides may refer to."""

    sides: tuple[tuple[int, int], ...]
    with_clause: str
    depth: int  # of parentheses
    operators: tuple[tuple[str, bool], ...] = ()  # each operator's word and whether it is ALL


def find_set_operations(text: str) -> list[SetOperation]:
    toks = tokens(text)
    depth_of: list[int] = []
    region_of: list[int] = []  # the index of the enclosing "(" (-1: the top level)
    stack: list[int] = []
    for i, t in enumerate(toks):
        if t.text == ")" and stack:
            stack.pop()
        depth_of.append(len(stack))
        region_of.append(stack[-1] if stack else -1)
        if t.text == "(":
            stack.append(i)
    words = [t.lower if t.kind == "word" else t.text for t in toks]
    operators: dict[int, list[int]] = {}
    for i, w in enumerate(words):
        if w in _SET_OPERATORS and i > 0 and words[i - 1] not in ("*", ".") and \
                i + 1 < len(toks) and words[i + 1] in _QUERY_START | {"all", "distinct"}:
            operators.setdefault(region_of[i], []).append(i)
    top_with = _with_clause(text, toks, words, 0)
    found = []
    for region, ops in operators.items():
        start = region + 1
        inner = [j for j in range(start, len(toks)) if region_of[j] == region
                 and depth_of[j] == depth_of[ops[0]]]
        region_end = _region_end(toks, region)
        first = _first_side_start(toks, words, inner, ops[0])
        if first is None:
            continue
        own_with = _with_clause(text, toks, words, start) if region >= 0 else ""
        with_clause = _merge_with(top_with, own_with)
        sides = []
        side_start = first
        for op in ops:
            sides.append((toks[side_start].start, toks[op - 1].end))
            side_start = op + 1
            if side_start < len(toks) and words[side_start] in ("all", "distinct"):
                side_start += 1
        last_end = region_end
        for j in inner:
            if j > ops[-1] and words[j] in _AFTER_LAST:
                last_end = j
                break
        if side_start >= last_end:
            continue
        sides.append((toks[side_start].start, toks[last_end - 1].end))
        kinds = tuple((words[op], op + 1 < len(toks) and words[op + 1] == "all") for op in ops)
        found.append(SetOperation(tuple(sides), with_clause, depth_of[ops[0]], kinds))
    return found


def _region_end(toks: list[Token], region: int) -> int:
    """The index of the ")" closing `region` (or the token count at the top level)."""
    close = _matching(toks, region) if region >= 0 else None
    return len(toks) if close is None else close


def _first_side_start(toks: list[Token], words: list[str], inner: list[int], op: int) -> int | None:
    """The first token of the first side: the last query start at this depth before `op`
    that follows any WITH clause."""
    candidates = [j for j in inner if j < op and words[j] in _QUERY_START]
    if not candidates:
        return None
    # after a WITH clause, the query starts at the first SELECT/VALUES/... after its CTEs
    with_ = next((j for j in inner if j < op and words[j] == "with"), None)
    if with_ is None:
        return candidates[0]
    after = [j for j in candidates if j > with_ and words[j] != "(" and
             not _is_cte_body(words, j)]
    return after[0] if after else None


def _is_cte_body(words: list[str], j: int) -> bool:
    return j > 0 and words[j - 1] == "as"


def _with_clause(text: str, toks: list[Token], words: list[str], start: int) -> str:
    """`WITH a AS (...), b AS (...)` starting at token `start`, or ""."""
    if start >= len(toks) or words[start] != "with":
        return ""
    j = start + 1
    end = j
    while j < len(toks):
        while j < len(toks) and words[j] != "(":
            j += 1
        close = _matching(toks, j)
        if close is None:
            return ""
        if close + 1 < len(toks) and words[close + 1] == "as":  # a column list
            j = close + 2
            continue
        end = close
        if close + 1 < len(toks) and words[close + 1] == ",":
            j = close + 2
            continue
        break
    return text[toks[start].start:toks[end].end]


def _matching(toks: list[Token], j: int) -> int | None:
    depth = 0
    for k in range(j, len(toks)):
        if toks[k].text == "(":
            depth += 1
        elif toks[k].text == ")":
            depth -= 1
            if depth == 0:
                return k
    return None


def _merge_with(outer: str, inner: str) -> str:
    if not outer or not inner:
        return outer or inner
    return f"{outer}, {inner.split(None, 1)[1]}"


def _targets(schemas: list[StructType], construct: str) -> list[DataType] | None:
    """Each column's common type over the sides, or None when they agree (or differ in
    width, which the engine refuses as Spark does)."""
    widths = {len(s.fields) for s in schemas}
    if len(widths) != 1:
        return None
    columns = list(zip(*[[f.dataType for f in s.fields] for s in schemas], strict=True))
    if all(not needs_cast(t, ts[0]) for ts in columns for t in ts):
        return None
    try:
        return [common_type(ts) for ts in columns]
    except NoCommonType as e:
        raise NotSupportedYet(
            f"{construct}: a column has types with no common type ({e}); Apache Spark refuses "
            "it with INCOMPATIBLE_COLUMN_TYPE.", hint="cast the column to one type on every "
            "side.") from e


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _wrapping(side: tuple[int, int], schema: StructType, targets: list[DataType],
              compared: bool) -> list[tuple[int, int, int, str]]:
    """The text put before and after a side to cast its columns (and, when the operation
    `compared` its rows as keys, FLOAT/DOUBLE ones normalized as Spark compares them): (position,
    order, span length, text) — wrappings of nested sides nest: the longer side's prefix comes
    first, its suffix last."""
    positions = [f"__c{i}" for i in range(len(schema.fields))]
    values = [f"CAST({p} AS {sql_type(t)})" if needs_cast(f.dataType, t) else p
              for p, f, t in zip(positions, schema.fields, targets, strict=True)]
    if compared:
        values = [as_spark_compares_sql(v, t) for v, t in zip(values, targets, strict=True)]
    items = [f"{v} AS {_quoted(f.name)}" for v, f in zip(values, schema.fields, strict=True)]
    start, end = side
    length = end - start
    return [(start, 1, -length, f"SELECT {', '.join(items)} FROM ("),
            (end, 0, length, f") AS {_SIDE}({', '.join(positions)})")]


def coerce_set_operations_sql(text: str, probe: SchemaProbe) -> str:
    """`text` with the sides of its set operations cast to their common column types; nested
    ones first, so an outer side's types are asked of the already coerced text."""
    operations = find_set_operations(text)
    for depth in sorted({o.depth for o in operations}, reverse=True):
        insertions: list[tuple[int, int, int, str]] = []
        for operation in find_set_operations(text):
            if operation.depth == depth:
                insertions += _coerced(text, operation, probe)
        out, position = [], 0
        for at, _, _, inserted in sorted(insertions):
            out += [text[position:at], inserted]
            position = at
        text = "".join(out) + text[position:]
    return text


def _compares_rows(text: str, operation: SetOperation) -> bool:
    """Whether every side's rows are compared as keys (UNION DISTINCT, INTERSECT and EXCEPT,
    ALL or not, compare FLOAT/DOUBLE values as Spark compares keys; UNION ALL does not).
    A chain where some sides are compared and others not is refused (a rewrite of its sides
    would take precedence into account)."""
    compares = [not (word == "union" and all_) for word, all_ in operation.operators]
    if all(compares) or not any(compares):
        return all(compares)
    first_compare = compares.index(True)
    unions_all = [i for i, c in enumerate(compares) if not c]
    if max(unions_all) < first_compare and all(w != "intersect" for w, _ in operation.operators):
        return True  # (a UNION ALL b) UNION c: the last operator compares every side
    start, end = operation.sides[0][0], operation.sides[-1][1]
    raise NotSupportedYet(
        f"{text[start:end].strip()[:160]}: a chain of set operations mixing UNION ALL with "
        "UNION, INTERSECT or EXCEPT over FLOAT/DOUBLE columns; Spark compares the values of "
        "some sides as keys (-0.0 = 0.0, one NaN) and keeps the others as they are, which "
        "lakesmith does not rewrite in one chain.",
        hint="put the operations in parentheses, one kind per level.")


def _coerced(text: str, operation: SetOperation, probe: SchemaProbe
             ) -> list[tuple[int, int, int, str]]:
    """The wrappings that cast the sides of `operation` to their common column types."""
    schemas: list[StructType] = []
    for start, end in operation.sides:
        prefix = f"{operation.with_clause} " if operation.with_clause else ""
        schema = probe(prefix + text[start:end])
        if schema is None:
            raise NotSupportedYet(
                f"{text[start:end].strip()[:120]}: lakesmith could not find the column types "
                "of this side of a set operation (UNION/INTERSECT/EXCEPT), and the engine types "
                "the result by the first side, where Spark casts every side to the columns' "
                "common type.", hint="cast the columns of every side to the types you mean.")
        schemas.append(schema)
    targets = _targets(schemas, "UNION")
    floating = any(is_floating(f.dataType) for schema in schemas for f in schema.fields) \
        and _compares_rows(text, operation)
    if targets is None:
        if not floating:
            return []
        targets = [f.dataType for f in schemas[0].fields]
    insertions: list[tuple[int, int, int, str]] = []
    for side, schema in zip(operation.sides, schemas, strict=True):
        if floating or any(needs_cast(f.dataType, t)
                           for f, t in zip(schema.fields, targets, strict=True)):
            insertions += _wrapping(side, schema, targets, floating)
    return insertions


def coerce_set_operations_plan(spark: Any, relation: proto.Relation,
                               schema_of: Callable[[proto.Relation], StructType | None]
                               ) -> None:
    """Cast the inputs of every `set_op` in `relation` (in place) to their common types."""
    for rel in list(all_relations(relation)):
        if rel.WhichOneof("rel_type") != "set_op":
            continue
        op = rel.set_op
        left, right = schema_of(op.left_input), schema_of(op.right_input)
        if left is None or right is None:
            continue
        if op.by_name:
            names = {f.name.lower(): f for f in right.fields}
            if op.allow_missing_columns:
                shared = [f.name for f in left.fields if f.name.lower() in names]
                left = StructType([f for f in left.fields if f.name in shared])
            right = StructType([names[f.name.lower()] for f in left.fields
                                if f.name.lower() in names])
            if len(right.fields) != len(left.fields):
                continue
        targets = _targets([left, right], "union()")
        if targets is None:
            continue
        by_name = dict(zip((f.name.lower() for f in left.fields), targets, strict=True)) \
            if op.by_name else None
        for side in (op.left_input, op.right_input):
            _cast_input(spark, side, targets, by_name)


def _cast_input(spark: Any, rel: proto.Relation, positional: list[DataType],
                by_name: dict[str, DataType] | None) -> None:
    """Wrap `rel` in a projection casting its columns to their targets (by position, or by
    lower-case name for `unionByName`)."""
    df = dataframe_of(spark, rel)
    fields = df.schema.fields
    targets = [by_name.get(f.name.lower()) if by_name is not None else
               (positional[i] if i < len(positional) else None)
               for i, f in enumerate(fields)]
    if not any(t is not None and needs_cast(f.dataType, t) for f, t in zip(fields, targets,
                                                                          strict=True)):
        return
    numbered = df.toDF(*[f"__c{i}" for i in range(len(fields))])
    columns = []
    for i, (f, t) in enumerate(zip(fields, targets, strict=True)):
        column = numbered[f"__c{i}"]
        if t is not None and needs_cast(f.dataType, t):
            column = column.cast(t)
        columns.append(column.alias(f.name))
    rel.CopyFrom(relation_of(numbered.select(*columns)))
