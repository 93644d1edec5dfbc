"""`x IN (SELECT d FROM ...)` where a FLOAT/DOUBLE meets a DECIMAL, as Spark decides it: Spark
casts both sides to their common type, DOUBLE; the engine casts the DOUBLE to DECIMAL(30,15), so
0.9000000000000001 is IN a subquery of 0.90 (Spark: not) and NaN fails the query.

Found in SQL text where the subquery is one SELECT of one item (no set operation, no `*`) that
could be a DECIMAL or a DOUBLE (`decimal_lists.could_differ`). The Call's parts are the operand,
the subquery's `SELECT [DISTINCT]`, its item and the rest of it (an alias, FROM, WHERE, ...), so
the rewrite framework rewrites each and the rule types the operand and the item (the item in the
subquery's scope: `operand_types`, `typing`). The side that is the DECIMAL is cast to DOUBLE."""

from __future__ import annotations

from pyspark.sql.types import DataType, DecimalType, DoubleType, FloatType

from lakesmith.engine.semantics.decimal_lists import could_differ
from lakesmith.engine.semantics.rules import Rule, SqlRewrite
from lakesmith.engine.semantics.sql_operators import (
    KEYWORDS,
    Token,
    left_operand,
    matching,
    right_operand,
    tokens,
)
from lakesmith.engine.semantics.sql_text import Call

IN_QUERY, NOT_IN_QUERY = "~in query", "~not in query"
IN_QUERY_NAMES = frozenset({IN_QUERY, NOT_IN_QUERY})
_ARITHMETIC_PRECEDENCE = 1  # IN's left operand: `a + b IN (...)` is `(a + b) IN`
_SET_OPERATIONS = frozenset({"union", "intersect", "except", "minus"})


def find_in_subqueries(text: str) -> list[Call]:
    """Every `x [NOT] IN (SELECT item ...)` whose item could be a DECIMAL or a DOUBLE."""
    found: list[Call] = []
    toks = tokens(text)
    for i, token in enumerate(toks):
        if token.kind != "word" or token.lower != "in" or i + 2 >= len(toks) or \
                toks[i + 1].text != "(" or toks[i + 2].lower != "select":
            continue
        negated = i > 0 and toks[i - 1].kind == "word" and toks[i - 1].lower == "not"
        first = i - 1 if negated else i
        start = left_operand(toks, first, _ARITHMETIC_PRECEDENCE) if first > 0 else None
        closing = matching(toks, i + 1, 1)
        if start is None or closing is None:
            continue
        parts = _subquery_parts(toks, i + 2, closing)
        if parts is None:
            continue
        head, item, rest = parts
        if not could_differ(text[item[0]:item[1]]):
            continue
        operand = (toks[start].start, toks[first].start)
        found.append(Call(NOT_IN_QUERY if negated else IN_QUERY, toks[start].start,
                          toks[closing].end, (operand, head, item, rest)))
    return found


def _subquery_parts(toks: list[Token], select: int, closing: int
                    ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]] | None:
    """The spans of `SELECT [DISTINCT|ALL]`, of the one item, and of the rest up to the closing
    parenthesis; None for another shape (several items, `*`, a set operation)."""
    depth = 0
    for j in range(select, closing):
        if toks[j].text in ("(", "["):
            depth += 1
        elif toks[j].text in (")", "]"):
            depth -= 1
        elif depth == 0 and toks[j].kind == "word" and toks[j].lower in _SET_OPERATIONS:
            return None
    last_head = select + 1 if toks[select + 1].lower in ("distinct", "all") else select
    item_end = right_operand(toks, last_head, -1)
    if item_end is None or item_end >= closing or toks[last_head + 1].text == "*":
        return None
    after = toks[item_end + 1]
    if after.text == ")" and item_end + 1 == closing or after.lower in ("from", "as") or \
            after.kind in ("word", "quoted") and after.lower not in KEYWORDS:
        rest_start = after.start
    else:
        return None  # a second item, or something not read
    return ((toks[select].start, toks[last_head].end),
            (toks[last_head + 1].start, toks[item_end].end),
            (rest_start, toks[closing].start))


def _fractional(t: DataType | None) -> bool:
    return isinstance(t, (FloatType, DoubleType))


def _rewrite(name: str) -> SqlRewrite:
    keyword = "NOT IN" if name == NOT_IN_QUERY else "IN"

    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        if len(args) != 4 or len(types) < 3:
            return None
        (operand, head, item, rest), (operand_type, item_type) = args, (types[0], types[2])
        if _fractional(operand_type) and isinstance(item_type, DecimalType):
            item = f"CAST({item} AS DOUBLE)"
        elif isinstance(operand_type, DecimalType) and _fractional(item_type):
            operand = f"CAST({operand} AS DOUBLE)"
        else:
            return None
        return f"{operand} {keyword} ({head} {item} {rest})"

    return rewrite


def in_query_name(name: str, operand: str) -> str:
    """Spark's name for the unaliased form: `(x IN (listquery()))`."""
    form = f"({operand} IN (listquery()))"
    return f"(NOT {form})" if name == NOT_IN_QUERY else form


IN_QUERY_RULES: tuple[Rule, ...] = tuple(
    Rule(frozenset({name}), "x IN (SELECT d ...) where a DOUBLE meets a DECIMAL is decided in "
         "DECIMAL(30,15) (Spark casts the DECIMAL to DOUBLE)", _rewrite(name),
         lambda args, types: None, positions=lambda count: (0, 2) if count == 4 else (),
         refuse_untyped=False, candidate=lambda args: len(args) == 4)
    for name in IN_QUERY_NAMES)
