"""FLOAT and DOUBLE keys of SQL text compared as Spark compares them (-0.0 = 0.0, every NaN one
value; `float_keys` says why): in each SELECT, its GROUP BY keys, its DISTINCT items, the keys of
its window partitions, the `=` operands of its JOIN ... ON conditions, the argument of an
aggregate over DISTINCT values and both sides of `k IN (SELECT k2 ...)`. A key's type is asked
of the engine once per SELECT that has keys: `SELECT <its keys> FROM <its FROM>`, analysed,
never run. A FLOAT/DOUBLE key is normalized, and a select item, HAVING or ORDER BY expression
that is a normalized GROUP BY key reads it normalized (a select item under its own name), as
Spark outputs it.

The text is rewritten by sqlglot (parsed and generated again) only when a key is normalized;
text sqlglot cannot parse, and a SELECT whose keys cannot be analysed alone (they refer to an
outer query, or GROUP BY names a select alias), are left as written. Set operations are
normalized where their sides are cast (`set_operations`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pyspark.sql.types import StructType

from lakesmith.engine.semantics.float_keys import as_spark_compares_sql, is_floating

SchemaProbe = Callable[[str], StructType | None]

_KEYED = re.compile(r"\b(group\s+by|distinct|over|join|in\s*\(\s*select)\b", re.IGNORECASE)


def normalize_float_keys_sql(text: str, probe: SchemaProbe) -> str:
    """`text` with its FLOAT/DOUBLE keys normalized; `text` itself when it has none."""
    if not _KEYED.search(text):
        return text  # no key: no parse, no probe
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read="spark")
    except sqlglot.errors.SqlglotError:
        return text  # the engine's parser decides; its rewrites are the other passes'
    with_prefix = _with_prefix(tree, exp)
    changed = False
    for select in list(tree.find_all(exp.Select)):
        changed = _normalize_select(select, with_prefix, probe, exp) or changed
    return tree.sql(dialect="spark") if changed else text


def _with_prefix(tree: Any, exp: Any) -> str:
    with_ = tree.args.get("with_")
    return f"{with_.sql(dialect='spark')} " if isinstance(with_, exp.With) else ""


def _keys(select: Any, exp: Any) -> list[Any]:
    """The key expressions of one SELECT (not those of the queries nested in it)."""
    keys: list[Any] = []
    group = select.args.get("group")
    if group is not None:
        for key in group.expressions:
            if isinstance(key, exp.Literal) and key.is_int:  # GROUP BY 1: the first item
                position = int(key.name) - 1
                if 0 <= position < len(select.expressions):
                    item = select.expressions[position]
                    keys.append(item.this if isinstance(item, exp.Alias) else item)
            elif not isinstance(key, exp.Literal):
                keys.append(key)
    if select.args.get("distinct") is not None:
        keys += [e.this if isinstance(e, exp.Alias) else e for e in select.expressions
                 if not isinstance(e, exp.Star)]
    for item in select.expressions:
        for window in item.find_all(exp.Window):
            if _own(window, select, exp):
                keys += list(window.args.get("partition_by") or [])
        for distinct in item.find_all(exp.Distinct):
            if _own(distinct, select, exp) and len(distinct.expressions) == 1:
                keys += distinct.expressions
    where = select.args.get("where")
    if where is not None:  # `k IN (SELECT k2 ...)`: a semi-join on k = k2
        keys += [i.this for i in where.find_all(exp.In)
                 if i.args.get("query") is not None and _own(i, select, exp)]
    parent = select.parent
    if isinstance(parent, exp.Subquery) and isinstance(parent.parent, exp.In) \
            and len(select.expressions) == 1:
        item = select.expressions[0]
        keys.append(item.this if isinstance(item, exp.Alias) else item)
    for join in select.args.get("joins") or []:
        condition = join.args.get("on")
        if condition is not None:
            keys += [side for eq in condition.find_all(exp.EQ, exp.NullSafeEQ)
                     if _own(eq, select, exp) for side in (eq.this, eq.expression)]
    return [k for k in keys if not isinstance(k, exp.Star)]


def _own(node: Any, select: Any, exp: Any) -> bool:
    """`node` belongs to `select`, not to a query nested in it."""
    return node.find_ancestor(exp.Select) is select


def _normalize_select(select: Any, with_prefix: str, probe: SchemaProbe, exp: Any) -> bool:
    keys = _keys(select, exp)
    source = select.args.get("from_")
    if not keys or source is None:
        return False
    shape = select.copy()
    for clause in ("where", "group", "having", "order", "limit", "qualify", "distinct", "windows",
                   "with_"):
        shape.set(clause, None)
    shape.set("expressions", [k.copy() for k in keys])
    schema = probe(with_prefix + shape.sql(dialect="spark"))
    if schema is None or len(schema.fields) != len(keys):
        return False  # not analysable alone: the engine's keys
    normalized = {}
    for key, field in zip(keys, schema.fields, strict=True):
        if is_floating(field.dataType):
            normalized[id(key)] = _parsed(
                as_spark_compares_sql(key.sql(dialect="spark"), field.dataType), exp)
    if not normalized:
        return False
    group = select.args.get("group")
    grouped = {key.sql(dialect="spark"): (normalized[id(key)], field.name)
               for key, field in zip(keys, schema.fields, strict=True)
               if id(key) in normalized and group is not None and key.parent is group}
    for key, field in zip(keys, schema.fields, strict=True):
        if id(key) in normalized:
            replacement = normalized[id(key)].copy()
            if key.parent is select:  # a select item keeps the name Spark gives it
                replacement = exp.alias_(replacement, field.name, quoted=True)
            key.replace(replacement)
    _grouped_references(select, grouped, exp)
    return True


def _grouped_references(select: Any, grouped: dict[str, tuple[Any, str]], exp: Any) -> None:
    """Select items, HAVING and ORDER BY expressions that are a normalized GROUP BY key read
    it normalized (Spark outputs the key normalized), a select item under its own name."""
    if not grouped:
        return
    items = list(select.expressions)
    for position, item in enumerate(items):
        inner = item.this if isinstance(item, exp.Alias) else item
        text = inner.sql(dialect="spark")
        if text not in grouped:
            continue
        replacement, name = grouped[text]
        if isinstance(item, exp.Alias):
            inner.replace(replacement.copy())
        else:
            items[position] = exp.alias_(replacement.copy(), name, quoted=True)
    select.set("expressions", items)
    for clause in ("having", "order"):
        node = select.args.get(clause)
        if node is None:
            continue
        for part in list(node.walk()):
            if isinstance(part, exp.Expression) and part.sql(dialect="spark") in grouped \
                    and _own(part, select, exp):
                part.replace(grouped[part.sql(dialect="spark")][0].copy())


def _parsed(text: str, exp: Any) -> Any:
    import sqlglot

    return sqlglot.parse_one(text, read="spark")
