"""Lateral column aliases: `SELECT qty * 2 AS dbl, dbl + 1 AS v` — a select item naming an
alias defined before it in the same list. The engine does not resolve them; Spark does, when
the name is not a column of the FROM clause (a column wins). Each such reference is replaced
by the aliased expression, in parentheses; an unaliased item that changes keeps the name Spark
gives it. Where Spark refuses a lateral alias (inside an aggregate function or a window),
lakesmith refuses too, with Spark's error condition."""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from lakesmith.engine.semantics.sql_blocks import SelectBlock, SelectItem
from lakesmith.engine.semantics.sql_scope import Scope, quoted
from lakesmith.engine.sql_dialect import DIALECT
from lakesmith.errors import NotSupportedYet


@dataclass(frozen=True)
class _Item:
    expression: str  # the text without its alias
    alias: str | None
    tree: exp.Expr | None


@dataclass(frozen=True)
class _Reference:
    start: int  # in the item's expression text
    end: int  # exclusive
    name: str
    inside: str | None  # "aggregate" / "window" when the reference sits in one


def _parse(text: str) -> exp.Expr | None:
    try:
        return sqlglot.parse_one(text, read=DIALECT)
    except (ParseError, TokenError, ValueError):
        return None


def _item(text: str, item: SelectItem) -> _Item:
    written = text[item.start:item.end]
    tree = _parse(written)
    if isinstance(tree, exp.Alias) and len(item.tokens) >= 2:
        alias_token = item.tokens[-1]
        stop = -2 if item.tokens[-2].token_type.name == "ALIAS" else -1
        expression_end = item.tokens[stop - 1].end + 1 if len(item.tokens) > -stop else None
        if expression_end is not None:
            return _Item(text[item.start:expression_end], alias_token.text, tree.this)
    return _Item(written, None, tree)


def references(expression: str, tree: exp.Expr | None, aliases: set[str]) -> list[_Reference]:
    """Unqualified names in `expression` that are among `aliases` (lower case), outside
    subqueries; `tree` is `expression` parsed."""
    if tree is None:
        return []
    found = []
    for column in tree.find_all(exp.Column):
        identifier = column.this
        if column.table or not isinstance(identifier, exp.Identifier) or \
                identifier.name.lower() not in aliases or \
                column.find_ancestor(exp.Subquery, exp.Select) is not None:
            continue
        meta = identifier.meta
        if "start" not in meta:
            continue
        inside = "window" if column.find_ancestor(exp.Window) is not None else \
            "aggregate" if column.find_ancestor(exp.AggFunc) is not None else None
        found.append(_Reference(meta["start"], meta["end"] + 1, identifier.name, inside))
    # a tree parsed from a prefix of the text (e.g. the item's alias cut) keeps its offsets
    return sorted(found, key=lambda r: r.start)


def resolve_lateral_aliases(scope: Scope, text: str, block: SelectBlock,
                            extra: tuple[int, int] | None = None) -> str:
    """`text` with the lateral alias references of `block`'s select list (and of the span
    `extra` of the same block, e.g. its QUALIFY condition) replaced by the aliased expressions."""
    items = [_item(text, i) for i in block.items]
    aliases = {i.alias.lower() for i in items if i.alias}
    if not aliases:
        return text
    pending: list[tuple[int, list[_Reference]]] = []
    for index, item in enumerate(items):
        earlier = {i.alias.lower() for i in items[:index] if i.alias}
        refs = references(item.expression, item.tree, earlier)
        if refs:
            pending.append((index, refs))
    extra_refs: list[_Reference] = []
    if extra is not None:
        extra_text = text[extra[0]:extra[1]]
        extra_refs = references(extra_text, _parse(extra_text), aliases)
    if not pending and not extra_refs:
        return text
    columns = scope.columns()
    if columns is None:
        return text  # the engine reports the name it cannot resolve
    known = {c.lower() for c in columns}
    # Resolved expressions by alias (lower case), in the order written: later items read them.
    resolved: dict[str, str] = {}
    edits: list[tuple[int, int, str]] = []
    refs_by_item = dict(pending)
    for index, (item, select_item) in enumerate(zip(items, block.items, strict=True)):
        refs = [r for r in refs_by_item.get(index, []) if r.name.lower() not in known]
        expression = item.expression
        if refs:
            for ref in refs:
                if ref.inside is not None:
                    raise _refused(ref, expression, "LATERAL_COLUMN_ALIAS_IN_AGGREGATE_FUNC"
                                   if ref.inside == "aggregate"
                                   else "LATERAL_COLUMN_ALIAS_IN_WINDOW")
            expression = _substituted(expression, refs, resolved)
            name = item.alias if item.alias is not None else _spark_name(
                scope, item.expression, refs)
            edits.append((select_item.start, select_item.end,
                          f"{expression} AS `{name.replace('`', '``')}`"))
        if item.alias:
            resolved[item.alias.lower()] = expression
    if extra is not None:
        refs = [r for r in extra_refs if r.name.lower() not in known]
        if refs:
            edits.append((extra[0], extra[1],
                          _substituted(text[extra[0]:extra[1]], refs, resolved)))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _substituted(expression: str, refs: list[_Reference], resolved: dict[str, str]) -> str:
    for ref in sorted(refs, key=lambda r: r.start, reverse=True):
        expression = (expression[:ref.start] + "(" + resolved[ref.name.lower()] + ")"
                      + expression[ref.end:])
    return expression


def _spark_name(scope: Scope, expression: str, refs: list[_Reference]) -> str:
    """Spark's name for an unaliased item that reads lateral aliases: Spark shows each
    reference as `lateralAliasReference(name)` (`SELECT x * 2 AS d, d + 1` names its second
    column `(lateralAliasReference(d) + 1)`). The engine names the item over its input plus
    columns of those names."""
    markers = {r.name.lower(): f"lateralAliasReference({r.name})" for r in refs}
    marked = _substituted(expression, refs, {k: quoted(v) for k, v in markers.items()})
    name = scope.name_of(marked, list(dict.fromkeys(markers.values())))
    if name is None:
        raise NotSupportedYet(
            f"{expression}: this select item reads a lateral column alias and has no alias of "
            "its own; lakesmith could not work out the name Spark gives it.",
            hint=f"give it a name: {expression} AS name.")
    return name


def _refused(ref: _Reference, expression: str, condition: str) -> NotSupportedYet:
    where = "an aggregate function" if ref.inside == "aggregate" else "a window expression"
    return NotSupportedYet(
        f"[{condition}] {expression}: the lateral column alias '{ref.name}' is referenced "
        f"inside {where}; Apache Spark refuses this too.",
        hint=f"repeat the expression of '{ref.name}' there instead of its alias.")
