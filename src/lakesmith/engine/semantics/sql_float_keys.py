"""FLOAT and DOUBLE keys of SQL text compared as Spark compares them (-0.0 = 0.0, every NaN one
value; `float_keys` says why): in each SELECT, its GROUP BY keys, its DISTINCT items, the keys of
its window partitions, the `=` operands of its JOIN ... ON conditions, the argument of an
aggregate over DISTINCT values and both sides of `k IN (SELECT k2 ...)`. A key's type is asked
of the engine once per SELECT that has keys: `SELECT <its keys> FROM <its FROM>`, analysed,
never run. A FLOAT/DOUBLE key is normalized, and a select item, HAVING or ORDER BY expression
that is a normalized GROUP BY key reads it normalized (a select item under its own name), as
Spark outputs it.

The text is rewritten by sqlglot (parsed and generated again) only when a key is normalized;
a SELECT whose keys refer to an enclosing query is typed with that query's FROM
(`sql_outer_keys`), and a GROUP BY naming a select alias by the aliased expression. Text
sqlglot cannot parse is refused when a key could be FLOAT/DOUBLE (`sql_unparsed_keys`). Set operations are
normalized where their sides are cast (`set_operations`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lakesmith.engine.semantics.float_keys import as_spark_compares_sql, is_floating
from lakesmith.engine.semantics.sql_outer_keys import (
    SchemaProbe,
    keys_with_outer_scope,
    probe_keys,
    refuse_possible_float_keys,
)
from lakesmith.engine.semantics.sql_unparsed_keys import refuse_unparsed_float_keys
from lakesmith.errors import NotSupportedYet

_KEYED = re.compile(r"\b(group\s+by|distinct|over|join|in\s*\(\s*select)\b", re.IGNORECASE)


def normalize_float_keys_sql(text: str, probe: SchemaProbe) -> str:
    """`text` with its FLOAT/DOUBLE keys normalized; `text` itself when it has none."""
    if not _KEYED.search(text):
        return text  # no key: no parse, no probe
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read="spark")
    except sqlglot.errors.SqlglotError as e:
        # valid for the engine and a key could be FLOAT/DOUBLE: refused; else the engine's
        refuse_unparsed_float_keys(text, probe, str(e).splitlines()[0][:120])
        return text
    with_prefix = _with_prefix(tree, exp)
    changed = False
    for select in list(tree.find_all(exp.Select)):
        changed = _normalize_select(select, with_prefix, probe, exp) or changed
    # functions written in lower case, as Spark names them (sqlglot's default is upper case)
    return tree.sql(dialect="spark", normalize_functions="lower") if changed else text


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
            else:
                keys += _grouping_keys(key, exp)
    if select.args.get("distinct") is not None:
        keys += [e.this if isinstance(e, exp.Alias) else e for e in select.expressions
                 if not isinstance(e, exp.Star)]
    for named in select.args.get("windows") or []:  # WINDOW w AS (PARTITION BY ...)
        keys += list(named.args.get("partition_by") or [])
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


def _grouping_keys(node: Any, exp: Any) -> list[Any]:
    """The keys a GROUP BY item groups by: itself, or those inside `ROLLUP (...)`,
    `CUBE (...)`, `GROUPING SETS (...)` and their parenthesized sets (`(a, b)`, `()`)."""
    if isinstance(node, (exp.Rollup, exp.Cube, exp.GroupingSets, exp.Tuple)):
        return [k for child in node.expressions for k in _grouping_keys(child, exp)]
    if isinstance(node, exp.Paren):
        return _grouping_keys(node.this, exp)
    return [] if isinstance(node, exp.Literal) else [node]


def _in_group(key: Any, select: Any, exp: Any) -> bool:
    """`key` is one of the select's GROUP BY keys (also inside ROLLUP, CUBE, GROUPING SETS)."""
    group = select.args.get("group")
    return group is not None and key.find_ancestor(exp.Group) is group \
        and key.find_ancestor(exp.Select) is select


def _own(node: Any, select: Any, exp: Any) -> bool:
    """`node` belongs to `select`, not to a query nested in it (or is in a detached copy of an
    item of `select`)."""
    owner = node.find_ancestor(exp.Select)
    return owner is select or owner is None


def _refuse_float_using(select: Any, with_prefix: str, probe: SchemaProbe, exp: Any) -> None:
    """`JOIN ... USING (k)` on a FLOAT/DOUBLE `k`: Spark matches -0.0 with 0.0 and NaN with NaN
    and outputs the left side's value, which a rewrite of the join would not keep: refused."""
    names = [i for join in select.args.get("joins") or [] for i in join.args.get("using") or []]
    if not names:
        return
    schema = probe_keys(select, [exp.column(i.name, quoted=True) for i in names], with_prefix,
                         probe)
    for name, field in zip(names, schema.fields if schema is not None else [], strict=False):
        if is_floating(field.dataType):
            raise NotSupportedYet(
                f"JOIN ... USING ({name.name}) on a {field.dataType.simpleString().upper()} "
                "column: Spark matches -0.0 with 0.0 and every NaN with NaN there and outputs "
                "the left side's value; the engine compares the bits, and lakesmith cannot "
                "rewrite this form and keep the output.",
                hint=f"join ON a.{name.name} = b.{name.name} and select the columns to keep.")


def _refuse_float_natural(select: Any, with_prefix: str, probe: SchemaProbe, exp: Any) -> None:
    """`NATURAL JOIN` on a FLOAT/DOUBLE common column: a join USING that column (refused as
    `_refuse_float_using` says). The common columns are the names both sides have, each side's
    columns asked of the engine (`SELECT * FROM <side>`)."""
    joins = select.args.get("joins") or []
    source = select.args.get("from_")
    for position, join in enumerate(joins):
        if str(join.args.get("method") or "").upper() != "NATURAL" or source is None:
            continue
        left = exp.select("*").from_(source.this.copy())
        left.set("joins", [j.copy() for j in joins[:position]])
        right = exp.select("*").from_(join.this.copy())
        schemas = [probe(with_prefix + side.sql(dialect="spark", normalize_functions="lower"))
                   for side in (left, right)]
        if schemas[0] is None or schemas[1] is None:
            continue  # a side not valid alone: the engine's own error names the problem
        side_sql = join.this.sql(dialect="spark")
        hint = ("join ON the common columns (a.k = b.k AND ...), or USING only columns that "
                "are not FLOAT/DOUBLE, and select the columns to keep.")
        right_types = {f.name.lower(): f.dataType for f in schemas[1].fields}
        for field in schemas[0].fields:
            other = right_types.get(field.name.lower())
            if other is not None and (is_floating(field.dataType) or is_floating(other)):
                floating = field.dataType if is_floating(field.dataType) else other
                raise NotSupportedYet(
                    f"NATURAL JOIN {side_sql} on the {floating.simpleString().upper()} column "
                    f"{field.name}: Spark matches -0.0 with 0.0 and every NaN with NaN there and "
                    "outputs the left side's value; the engine compares the bits, and lakesmith "
                    "cannot rewrite this form and keep the output.", hint=hint)


def _normalize_select(select: Any, with_prefix: str, probe: SchemaProbe, exp: Any) -> bool:
    _refuse_float_using(select, with_prefix, probe, exp)
    _refuse_float_natural(select, with_prefix, probe, exp)
    keys = _keys(select, exp)
    source = select.args.get("from_")
    if not keys or source is None:
        return False
    schema = probe_keys(select, keys, with_prefix, probe)
    keys_meant = keys
    if schema is None:  # GROUP BY a select alias: Spark groups by the aliased expression
        keys_meant = [_alias_meaning(select, k, exp) for k in keys]
        if any(m is not k for m, k in zip(keys_meant, keys, strict=True)):
            schema = probe_keys(select, keys_meant, with_prefix, probe)
    if schema is None:  # a correlated subquery's keys, naming an enclosing query's columns
        schema = keys_with_outer_scope(select, keys_meant, with_prefix, probe, exp)
    if schema is None or len(schema.fields) != len(keys):
        refuse_possible_float_keys(select, keys_meant, with_prefix, probe, exp)
        return False  # no key can be FLOAT/DOUBLE: the engine compares them as Spark does
    normalized = {}
    for key, meant, field in zip(keys, keys_meant, schema.fields, strict=True):
        if is_floating(field.dataType):
            normalized[id(key)] = _parsed(
                as_spark_compares_sql(meant.sql(dialect="spark"), field.dataType), exp)
    if not normalized:
        return False
    original = select.copy()
    known: list[list[str] | None] = []

    def original_names() -> list[str] | None:
        if not known:
            schema = probe(with_prefix + original.sql(dialect="spark", normalize_functions="lower"))
            known.append(None if schema is None else [f.name for f in schema.fields])
        return known[0]

    grouped = {meant.sql(dialect="spark"): (normalized[id(key)], field.name)
               for key, meant, field in zip(keys, keys_meant, schema.fields, strict=True)
               if id(key) in normalized and _in_group(key, select, exp)}
    for key, field in zip(keys, schema.fields, strict=True):
        if id(key) in normalized:
            replacement = normalized[id(key)].copy()
            if key.parent is select:  # a select item keeps the name Spark gives it
                replacement = exp.alias_(replacement, field.name, quoted=True)
            key.replace(replacement)
    _grouped_references(select, grouped, original_names, exp)
    _keep_names(select, original_names, exp)
    return True


def _keep_names(select: Any, original_names: Callable[[], list[str] | None], exp: Any) -> None:
    """Every unaliased select item named as the engine named it before the rewrite (sqlglot
    writes the text anew, and an item's name is made from its text)."""
    items = list(select.expressions)
    if not any(not isinstance(i, (exp.Alias, exp.Star)) for i in items) \
            or any(isinstance(i, exp.Star) or isinstance(i, exp.Column)
                   and isinstance(i.this, exp.Star) for i in items):
        return
    names = original_names()
    if names is None or len(names) != len(items):
        return
    select.set("expressions", [i if isinstance(i, exp.Alias)
                               else exp.alias_(i, name, quoted=True)
                               for i, name in zip(items, names, strict=True)])


def _alias_meaning(select: Any, key: Any, exp: Any) -> Any:
    """A GROUP BY key naming a select item's alias: that item's expression (else the key)."""
    if not _in_group(key, select, exp) or not isinstance(key, exp.Column) or key.table:
        return key
    for item in select.expressions:
        if isinstance(item, exp.Alias) and item.alias.lower() == key.name.lower():
            return item.this
    return key


def _grouped_references(select: Any, grouped: dict[str, tuple[Any, str]],
                        original_names: Callable[[], list[str] | None], exp: Any) -> None:
    """Select items, HAVING and ORDER BY expressions made of a normalized GROUP BY key read it
    normalized (Spark outputs the key normalized); a changed select item keeps its name."""
    if not grouped:
        return
    items = list(select.expressions)
    for position, item in enumerate(items):
        if isinstance(item, exp.Alias):
            _replace_grouped(item, select, grouped, exp)
            continue
        text = item.sql(dialect="spark")
        if text in grouped:
            replacement, name = grouped[text]
            items[position] = exp.alias_(replacement.copy(), name, quoted=True)
            continue
        holder = exp.Paren(this=item.copy())
        if not _replace_grouped(holder, select, grouped, exp):
            continue
        names = original_names()
        if names is None or len(names) != len(items):
            raise NotSupportedYet(
                f"{text[:120]}: a select item made of a FLOAT/DOUBLE GROUP BY key, whose "
                "name lakesmith could not find; Spark outputs it from the key compared as "
                "Spark compares keys (-0.0 = 0.0, one NaN), which lakesmith rewrites.",
                hint="give the item an alias (AS name).")
        items[position] = exp.alias_(holder.this, names[position], quoted=True)
    select.set("expressions", items)
    for clause in ("having", "order"):
        node = select.args.get(clause)
        if node is not None:
            _replace_grouped(node, select, grouped, exp)


def _replace_grouped(node: Any, select: Any, grouped: dict[str, tuple[Any, str]],
                     exp: Any) -> bool:
    """Replace, under `node`, the outermost expressions that are a normalized GROUP BY key."""
    replaced = False
    for child in list(node.iter_expressions()):
        if _own(child, select, exp) and child.sql(dialect="spark") in grouped:
            child.replace(grouped[child.sql(dialect="spark")][0].copy())
            replaced = True
        else:
            replaced = _replace_grouped(child, select, grouped, exp) or replaced
    return replaced


def _parsed(text: str, exp: Any) -> Any:
    import sqlglot

    return sqlglot.parse_one(text, read="spark")
