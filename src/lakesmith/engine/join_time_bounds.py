"""When a row kept for a stream-stream join can no longer match: the time constraint of the join
condition, read as Spark reads it (`StreamingJoinHelper.getStateValueWatermark`).

A condition such as `r.ts BETWEEN l.ts - INTERVAL 5 SECONDS AND l.ts + INTERVAL 5 SECONDS` bounds
the other side's event time from above by an expression of this side's row (`r.ts <= l.ts + 5 s`).
Rows of the other side at or before the watermark are late, so once that expression is below the
watermark no future row can match: the row leaves the state. Spark keeps a row one millisecond
longer for a non-strict bound (`<=`); so does lakesmith, so that state sizes agree.

Conditions are read as SQL text: as written in `expr("...")`, or written from the Columns they
were built with (`engine/expression_sql.py`); a condition whose time constraint cannot be read
keeps the state of an inner join forever (correct, not bounded).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError


@dataclass(frozen=True)
class JoinSide:
    alias: str | None  # `df.alias("l")`, or None
    columns: frozenset[str]  # lower case
    watermarked: frozenset[str]  # its watermarked event-time columns, lower case
    windows: frozenset[str] = frozenset()  # its columns that are window(...)s of those


@dataclass(frozen=True)
class UpperBound:
    """`other time <= expression` (or `<`, `strict`), the expression over this side's row."""

    expression: str  # Spark SQL
    strict: bool
    on_key: bool = False  # a watermarked join key (or its window's end), not a time range


def upper_bounds(condition: str, side: JoinSide, other: JoinSide) -> list[UpperBound]:
    """The bounds on `other`'s watermarked event time by expressions of `side`'s rows."""
    try:
        parsed = sqlglot.parse_one(condition, read="spark")
    except ParseError:
        return []
    found = []
    for lower, strict, upper in _comparisons(parsed):
        lower, upper = lower.unnest(), upper.unnest()
        if not _only_of(upper, side, other):
            continue
        # `time + c <= f` is `time <= f - c`; `time - c <= f` is `time <= f + c`.
        if isinstance(lower, (exp.Add, exp.Sub)) and not list(lower.expression.find_all(
                exp.Column)) and _is_time_of(lower.this.unnest(), other, side):
            moved = exp.Sub if isinstance(lower, exp.Add) else exp.Add
            upper = moved(this=exp.Paren(this=upper.copy()), expression=lower.expression.copy())
            lower = lower.this.unnest()
        if _is_time_of(lower, other, side):
            found.append(UpperBound(upper.sql(dialect="spark"), strict))
    # Spark prefers a watermark in the join keys to a time range when both are there.
    return _key_bounds(parsed, side, other) or found


def _key_bounds(condition: exp.Expr, side: JoinSide, other: JoinSide) -> list[UpperBound]:
    """A watermark in the join keys (`l.ts = r.ts`, `l.window = r.window` of windowed
    streams): a row leaves once its key is at or before the watermark (its window's end, for a
    window), on both sides, as Spark's `JoinStateKeyWatermarkPredicate` has it."""
    found = []
    for conjunct in _conjuncts(condition):
        if not isinstance(conjunct, exp.EQ):
            continue
        pair = (conjunct.this.unnest(), conjunct.expression.unnest())
        if not all(isinstance(c, exp.Column) for c in pair):
            continue
        mine = [c for c in pair if _owner(c, side, other) is side]
        theirs = [c for c in pair if _owner(c, side, other) is other]
        if len(mine) != 1 or len(theirs) != 1:
            continue
        key, partner = mine[0], theirs[0]
        if key.name.lower() in side.windows or partner.name.lower() in other.windows:
            found.append(UpperBound(f"{key.sql(dialect='spark')}.`end`", True, on_key=True))
        elif key.name.lower() in side.watermarked or partner.name.lower() in other.watermarked:
            found.append(UpperBound(key.sql(dialect="spark"), True, on_key=True))
    return found


def _conjuncts(condition: exp.Expr) -> list[exp.Expr]:
    condition = condition.unnest()
    if isinstance(condition, exp.And):
        return [c for part in condition.flatten() for c in _conjuncts(part)]
    return [condition]


def _comparisons(condition: exp.Expr) -> list[tuple[exp.Expr, bool, exp.Expr]]:
    """The condition's conjuncts as `a < b` (strict) or `a <= b`."""
    found: list[tuple[exp.Expr, bool, exp.Expr]] = []
    for conjunct in condition.flatten() if isinstance(condition, exp.And) else [condition]:
        if isinstance(conjunct, exp.Paren):
            found += _comparisons(conjunct.this)
        elif isinstance(conjunct, exp.And):  # `a AND (b AND c)`: flatten() unnests to it
            found += _comparisons(conjunct)
        elif isinstance(conjunct, exp.Between):
            found.append((conjunct.args["low"], False, conjunct.this))
            found.append((conjunct.this, False, conjunct.args["high"]))
        elif isinstance(conjunct, exp.LTE):
            found.append((conjunct.this, False, conjunct.expression))
        elif isinstance(conjunct, exp.LT):
            found.append((conjunct.this, True, conjunct.expression))
        elif isinstance(conjunct, exp.GTE):
            found.append((conjunct.expression, False, conjunct.this))
        elif isinstance(conjunct, exp.GT):
            found.append((conjunct.expression, True, conjunct.this))
    return found


def _owner(column: exp.Column, side: JoinSide, other: JoinSide) -> JoinSide | None:
    table = column.table.lower() if column.table else None
    name = column.name.lower()
    if table is not None:
        return side if table == (side.alias or "").lower() else \
            other if table == (other.alias or "").lower() else None
    in_side, in_other = name in side.columns, name in other.columns
    return side if in_side and not in_other else other if in_other and not in_side else None


def _is_time_of(expression: exp.Expr, owner: JoinSide, other: JoinSide) -> bool:
    return isinstance(expression, exp.Column) and _owner(expression, owner, other) is owner \
        and expression.name.lower() in owner.watermarked


def _only_of(expression: exp.Expr, side: JoinSide, other: JoinSide) -> bool:
    columns = list(expression.find_all(exp.Column))
    return bool(columns) and all(_owner(c, side, other) is side for c in columns)
