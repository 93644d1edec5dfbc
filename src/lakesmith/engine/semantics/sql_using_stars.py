"""A qualified star over a USING or NATURAL join (`SELECT o.* FROM o LEFT JOIN l USING (k)`):
Spark's `o.*` is every column of `o`, its own `k` included (NULL where `o` has no row, in a
RIGHT or FULL join); the engine leaves the join columns out of it, and cannot resolve `o.k` at
all. Each side a star names is read through a subquery that keeps a copy of its join columns
under a hidden name, and the star is expanded as Spark expands it: the side's join columns first
(the copies, in the join's order), then its other columns. The unqualified `*` is already
Spark's and stays as it is.

The sides' columns (a NATURAL join's common columns need both) are asked of the engine in one
analysis of the two sides together. A shape this does not cover (a star over a chain of USING
joins, over a LATERAL VIEW or PIVOT, with `*` beside it) is refused, never run as the engine
would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlglot import Token, TokenType

from lakesmith.engine.semantics.sql_blocks import SelectBlock, SelectItem, tokens_of
from lakesmith.engine.semantics.sql_scope import quoted
from lakesmith.engine.semantics.sql_star_except import excepted_names
from lakesmith.errors import LakesmithError, NotSupportedYet

_HIDDEN = "__lakesmith_using_{}_{}"  # a side's copy of its join column (side, column)
_JOIN_WORDS = {TokenType.NATURAL, TokenType.LEFT, TokenType.RIGHT, TokenType.FULL,
               TokenType.OUTER, TokenType.INNER, TokenType.CROSS, TokenType.SEMI,
               TokenType.ANTI, TokenType.JOIN}
_SIDES = {TokenType.LEFT: "left", TokenType.RIGHT: "right", TokenType.FULL: "full",
          TokenType.SEMI: "semi", TokenType.ANTI: "anti", TokenType.CROSS: "cross"}
_SIDE_ORDER = ("semi", "anti", "left", "right", "full", "cross")  # LEFT SEMI is a semi join
_NAMES = (TokenType.VAR, TokenType.IDENTIFIER)
_JOINED_BY_NAME = re.compile(r"\b(USING|NATURAL)\b", re.IGNORECASE)
_UNCOVERED = {TokenType.LATERAL, TokenType.PIVOT, TokenType.UNPIVOT}


@dataclass(frozen=True)
class _Relation:
    start: int  # its text's span in the statement
    end: int
    alias: str | None  # the name a star qualifies it by


@dataclass(frozen=True)
class _Join:
    side: str  # inner, left, right, full, cross, semi, anti; "comma" for `a, b`
    natural: bool
    using: tuple[str, ...] | None  # USING (...)'s columns


@dataclass(frozen=True)
class _From:
    relations: list[_Relation]
    joins: list[_Join]  # joins[i] joins relations[i + 1] to what is before it
    uncovered: bool  # LATERAL VIEW, PIVOT or UNPIVOT in it


def expand_using_stars(spark: Any, text: str, block: SelectBlock) -> str | None:
    """`text` with the block's stars over a USING/NATURAL join's sides expanded; None when it
    has none."""
    clause = block.clause_text(text, "from")
    if clause is None or not _JOINED_BY_NAME.search(clause) or ".*" not in \
            text[block.start:block.list_end].replace(" ", ""):
        return None
    source = _from_of(text, block)
    if source is None or not any(j.natural or j.using for j in source.joins):
        return None
    stars = _side_stars(text, block, source)
    if not stars:
        return None
    written = ", ".join(text[i.start:i.end] for i, _ in stars)
    first = source.joins[0]
    later = [j for j in source.joins[1:] if j.natural or j.using]
    covered = {i for _, i in stars} <= {0, 1} and (first.natural or first.using) and not later \
        and not source.uncovered and first.side in ("inner", "left", "right", "full", "semi",
                                                    "anti")
    if not covered:
        raise NotSupportedYet(
            f"{written}: a star over a side of a USING or NATURAL join. Spark's star keeps the "
            "side's own join columns, the engine's leaves them out, and lakesmith expands it "
            "only over one INNER/LEFT/RIGHT/FULL join of two relations (not a chain of USING "
            "joins, LATERAL VIEW or PIVOT).", hint="list the side's columns instead of the star, "
            "or join with ON.")
    if any(i.star and i.tokens[0].token_type == TokenType.STAR for i in block.items):
        raise NotSupportedYet(
            f"{written}: a star over a side of a USING join beside `*` in one select list; "
            "lakesmith cannot expand the side's star without changing what `*` gives.",
            hint="list the columns of one of them.")
    columns = _side_columns(spark, text, block, source.relations[:2])
    if columns is None:
        raise NotSupportedYet(
            f"{written}: lakesmith could not find the columns of the join's sides, and the "
            "engine's star over a USING join leaves the join columns out (Spark's keeps them).",
            hint="list the side's columns instead of the star.")
    keys = _keys(first, columns)
    if not keys:
        return None  # no common column: the engine's star is Spark's
    edits: list[tuple[int, int, str]] = []
    for item, side in stars:
        edits.append((item.start, item.end, _expanded(text, item, columns[side], keys, side)))
    for side in sorted({s for _, s in stars}):
        relation = source.relations[side]
        assert relation.alias is not None
        copies = ", ".join(f"{quoted(k)} AS {quoted(_HIDDEN.format(side, i))}"
                           for i, k in enumerate(keys))
        edits.append((relation.start, relation.end,
                      f"(SELECT *, {copies} FROM {text[relation.start:relation.end]}) "
                      f"AS {quoted(relation.alias)}"))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _expanded(text: str, item: SelectItem, columns: list[str], keys: list[str],
              side: int) -> str:
    """The star item as Spark expands it: the side's own join columns first (in the join's
    order, read from the hidden copies), then its other columns."""
    kinds = [t.token_type for t in item.tokens]
    star = kinds.index(TokenType.STAR)
    qualifier = text[item.start:item.tokens[star - 1].start]
    written = text[item.start:item.end]
    dropped: set[str] = set()
    if TokenType.EXCEPT in kinds:
        excepted = excepted_names(item.tokens[star + 2:], written)
        for name in excepted:
            if name.lower() not in {c.lower() for c in columns}:
                raise LakesmithError(
                    f"[EXCEPT_UNRESOLVED_COLUMN] {written}: the column '{name}' is not among "
                    f"the columns of {qualifier}.*: {', '.join(columns)}.",
                    hint=f"remove '{name}' from EXCEPT (...).")
        dropped = {n.lower() for n in excepted}
    lowered = [k.lower() for k in keys]
    own = {c.lower(): c for c in columns}  # a join column as this side spells it
    parts = [f"{qualifier}.{quoted(_HIDDEN.format(side, i))} AS {quoted(own[k])}"
             for i, k in enumerate(lowered) if k not in dropped]
    parts += [f"{qualifier}.{quoted(c)}" for c in columns
              if c.lower() not in dropped and c.lower() not in lowered]
    if not parts:
        raise LakesmithError(f"{written} keeps no column.", hint="remove the item.")
    return ", ".join(parts)


def _keys(join: _Join, columns: list[list[str]]) -> list[str]:
    """The join columns, as the left side names them (USING's columns, a NATURAL join's common
    columns in the left side's order)."""
    left = {c.lower(): c for c in columns[0]}
    if join.natural:
        right = {c.lower() for c in columns[1]}
        return [c for c in columns[0] if c.lower() in right]
    assert join.using is not None
    return [left.get(k.lower(), k) for k in join.using]


def _side_columns(spark: Any, text: str, block: SelectBlock,
                  relations: list[_Relation]) -> list[list[str]] | None:
    """Both sides' columns, in one analysis (never run)."""
    sides = [f"(SELECT * FROM {text[r.start:r.end]}) AS `__lakesmith_side_{i}`"
             for i, r in enumerate(relations)]
    query = (f"{block.cte_prefix}SELECT struct(`__lakesmith_side_0`.*) AS s0, "
             f"struct(`__lakesmith_side_1`.*) AS s1 FROM {sides[0]} CROSS JOIN {sides[1]}")
    try:
        schema = spark.sql(query).schema
        return [[f.name for f in field.dataType.fields] for field in schema.fields]
    except Exception:  # not analysable alone (reads an outer query)  # noqa: BLE001
        return None


def _side_stars(text: str, block: SelectBlock,
                source: _From) -> list[tuple[SelectItem, int]]:
    """The block's qualified stars that name a side of a USING/NATURAL join, with the side's
    index among the FROM's relations. A star inside a call (`struct(o.*)`) is refused."""
    sides = {}
    for index, relation in enumerate(source.relations):
        joined = [source.joins[index - 1]] if index > 0 else []
        joined += source.joins[index:]  # every later join reads this relation
        if relation.alias is not None and any(j.natural or j.using for j in joined):
            sides[relation.alias.lower()] = index
    found = []
    for item in block.items:
        kinds = [t.token_type for t in item.tokens]
        for i in range(2, len(kinds)):
            if kinds[i] != TokenType.STAR or kinds[i - 1] != TokenType.DOT or \
                    item.tokens[i - 2].text.lower() not in sides:
                continue
            written = text[item.start:item.end]
            plain = i + 1 == len(kinds) or kinds[i + 1] == TokenType.EXCEPT
            qualified = all(k in (*_NAMES, TokenType.DOT) for k in kinds[:i])
            if plain and i == 2:
                found.append((item, sides[item.tokens[0].text.lower()]))
            elif plain and qualified:
                raise NotSupportedYet(
                    f"{written}: a star over a side of a USING join, qualified by more than "
                    "its name; lakesmith expands `name.*` only.",
                    hint="qualify the star by the side's alias.")
            else:
                raise NotSupportedYet(
                    f"{written}: a star over a side of a USING join inside an expression; "
                    "Spark's keeps the join columns, the engine's leaves them out.",
                    hint="list the side's columns.")
    return found


def _from_of(text: str, block: SelectBlock) -> _From | None:
    """The block's FROM clause as relations and the joins between them (top level only)."""
    span = block.clauses.get("from")
    tokens = tokens_of(text) if span is not None else None
    if span is None or tokens is None:
        return None
    own = [t for t in tokens if span[0] <= t.start and t.end < span[1]][1:]
    relations: list[_Relation] = []
    joins: list[_Join] = []
    uncovered = False
    depth = 0
    segment: list[Token] = []  # the current relation's tokens
    in_relation = True
    i = 0
    while i < len(own):
        token = own[i]
        kind = token.token_type
        if depth == 0 and kind in _UNCOVERED:
            uncovered = True
        starts_join = depth == 0 and (kind in _JOIN_WORDS or kind == TokenType.COMMA) and not (
            i + 1 < len(own) and own[i + 1].token_type == TokenType.L_PAREN)
        if starts_join:
            if in_relation:
                relations.append(_relation(segment))
            words = []
            while i < len(own) and own[i].token_type in _JOIN_WORDS | {TokenType.COMMA}:
                words.append(own[i].token_type)
                i += 1
                if words[-1] in (TokenType.JOIN, TokenType.COMMA):
                    break
            named = {_SIDES[w] for w in words if w in _SIDES}
            side = "comma" if TokenType.COMMA in words else next(
                (s for s in _SIDE_ORDER if s in named), "inner")
            joins.append(_Join(side, TokenType.NATURAL in words, None))
            segment, in_relation = [], True
            continue
        if depth == 0 and kind in (TokenType.ON, TokenType.USING) and in_relation:
            relations.append(_relation(segment))
            in_relation = False
            if kind == TokenType.USING and joins:
                names, i = _using_columns(own, i + 1)
                joins[-1] = _Join(joins[-1].side, joins[-1].natural, names)
                continue
        if kind == TokenType.L_PAREN:
            depth += 1
        elif kind == TokenType.R_PAREN:
            depth -= 1
        if in_relation:
            segment.append(token)
        i += 1
    if in_relation:
        relations.append(_relation(segment))
    if len(relations) != len(joins) + 1:
        return None
    return _From(relations, joins, uncovered)


def _using_columns(tokens: list[Token], i: int) -> tuple[tuple[str, ...], int]:
    """USING (a, b)'s names, and the index after its closing parenthesis."""
    names = []
    if i < len(tokens) and tokens[i].token_type == TokenType.L_PAREN:
        i += 1
    while i < len(tokens) and tokens[i].token_type != TokenType.R_PAREN:
        if tokens[i].token_type != TokenType.COMMA:
            names.append(tokens[i].text)
        i += 1
    return tuple(names), i + 1


def _relation(tokens: list[Token]) -> _Relation:
    """A relation's span and alias: `t`, `db.t`, `t AS o`, `(SELECT ...) o`, `VALUES ... AS
    o(k, v)`; no alias for a subquery or table function without one."""
    if not tokens:
        return _Relation(0, 0, None)
    start, end = tokens[0].start, tokens[-1].end + 1
    last = tokens[-1]
    if last.token_type in _NAMES:
        return _Relation(start, end, last.text)
    if last.token_type == TokenType.R_PAREN:
        depth = 0
        for i in range(len(tokens) - 1, -1, -1):
            kind = tokens[i].token_type
            depth += kind == TokenType.R_PAREN
            depth -= kind == TokenType.L_PAREN
            if depth == 0:
                break
        if i >= 2 and tokens[i - 1].token_type in _NAMES:
            return _Relation(start, end, tokens[i - 1].text)
    return _Relation(start, end, None)
