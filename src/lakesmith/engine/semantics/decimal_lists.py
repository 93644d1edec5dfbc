"""`x IN (...)` and `x BETWEEN ... AND ...` where a FLOAT/DOUBLE meets a DECIMAL, as Spark decides
them: Spark casts the DECIMAL to DOUBLE (the IN list's common type is DOUBLE; BETWEEN is two
comparisons, `low <= x AND x <= high`, each cast on its own: a DECIMAL beside a DOUBLE is
DOUBLE); the engine casts the DOUBLE to DECIMAL(30,15), so `0.9000000000000001D IN (0.5, 0.9)` is
true (Spark: false), and NaN, the infinities and values beyond 1e15 fail the query
(`comparisons.py` does the same for `=`, `<`, ...).

Found in SQL text (pipeline SQL, `spark.sql`, expression strings) where a value of the list, or
a bound, is a DECIMAL or FLOAT/DOUBLE literal (`0.9`, `1.5BD`, `0.5D`) or not a literal at all (a
column: `d IN (lo, hi)`, `d BETWEEN lo AND hi`); every part's type is then asked of the engine
(the operands of one query together, `operand_types`). A list of other literals only (`id IN (1,
2)`, `s IN ('a', 'b')`) needs no type; a list with a subquery is left as written. Each form is a
Call named by a name no SQL function has (`~in`, `~not in`, ...), so the rewrite framework
treats it as an operation, spliced back as written around its rewritten parts when no rewrite
applies."""

from __future__ import annotations

from typing import Any

from pyspark.sql.types import DataType, DecimalType, DoubleType, FloatType

from lakesmith.engine.semantics.literal_types import literal_type
from lakesmith.engine.semantics.rules import Rule, SqlRewrite
from lakesmith.engine.semantics.sql_operators import (
    Token,
    left_operand,
    matching,
    right_operand,
    tokens,
)
from lakesmith.engine.semantics.sql_text import Call

IN_LIST, NOT_IN_LIST = "~in", "~not in"
BETWEEN, NOT_BETWEEN = "~between", "~not between"
_KEYWORD = {IN_LIST: "IN", NOT_IN_LIST: "NOT IN", BETWEEN: "BETWEEN",
            NOT_BETWEEN: "NOT BETWEEN"}
_ARITHMETIC_PRECEDENCE = 1  # IN's and BETWEEN's left operand: `a + b IN (...)` is `(a + b) IN`
_COMPARISON_PRECEDENCE = 0  # a bound is read up to a comparison (`BETWEEN a + 1 AND b`)


def find_decimal_lists(text: str) -> list[Call]:
    """Every IN list and BETWEEN whose values could meet a DOUBLE with a DECIMAL."""
    found: list[Call] = []
    toks = tokens(text)
    for i, token in enumerate(toks):
        if token.kind != "word" or token.lower not in ("in", "between"):
            continue
        negated = i > 0 and toks[i - 1].kind == "word" and toks[i - 1].lower == "not"
        first = i - 1 if negated else i
        start = left_operand(toks, first, _ARITHMETIC_PRECEDENCE) if first > 0 else None
        if start is None:
            continue
        values = _in_values(toks, i) if token.lower == "in" else _between_values(toks, i)
        if values is None:
            continue
        spans, end = values
        if not any(could_differ(text[a:b]) for a, b in spans):
            continue
        name = (NOT_IN_LIST if negated else IN_LIST) if token.lower == "in" else \
            (NOT_BETWEEN if negated else BETWEEN)
        operand = (toks[start].start, toks[first].start)
        found.append(Call(name, toks[start].start, end, (operand, *spans)))
    return found


def could_differ(value: str) -> bool:
    """Whether a value could be the DECIMAL or the DOUBLE of such a pair: a DECIMAL or
    FLOAT/DOUBLE literal, or anything but a literal (its type is the engine's to tell)."""
    t = literal_type(value)
    return t is None or isinstance(t, (DecimalType, FloatType, DoubleType))


def _in_values(toks: list[Token], i: int) -> tuple[list[tuple[int, int]], int] | None:
    """`IN ( v1, v2, ... )` of expressions (no subquery): the values' spans and the list's
    end."""
    if i + 1 >= len(toks) or toks[i + 1].text != "(":
        return None
    closing = matching(toks, i + 1, 1)
    if closing is None or closing == i + 2:
        return None
    spans: list[tuple[int, int]] = []
    first, depth = i + 2, 0
    for j in range(i + 2, closing + 1):
        t = toks[j]
        if t.kind == "word" and t.lower == "select":
            return None  # `IN (SELECT ...)`: a subquery, not a list
        if j < closing and t.text in ("(", "["):
            depth += 1
        elif j < closing and t.text in (")", "]"):
            depth -= 1
        elif j == closing or depth == 0 and t.text == ",":
            if first >= j:
                return None
            spans.append((toks[first].start, toks[j - 1].end))
            first = j + 1
    return spans, toks[closing].end


def _between_values(toks: list[Token], i: int) -> tuple[list[tuple[int, int]], int] | None:
    """`BETWEEN low AND high`, each bound read as Spark's grammar reads it (arithmetic, not
    comparisons or AND): the bounds' spans and where the second ends."""
    low = right_operand(toks, i, _COMPARISON_PRECEDENCE)
    if low is None or low + 1 >= len(toks) or toks[low + 1].lower != "and":
        return None
    high = right_operand(toks, low + 1, _COMPARISON_PRECEDENCE)
    if high is None:
        return None
    after = toks[high + 1] if high + 1 < len(toks) else None
    if after is not None and after.kind == "op" and after.text not in (
            "=", "==", "<", ">", "<=", ">=", "<>", "!="):
        return None
    return ([(toks[i + 1].start, toks[low].end), (toks[low + 2].start, toks[high].end)],
            toks[high].end)


def decimal_list_name(name: str, args: list[str]) -> str:
    """Spark's name for the unaliased form: `(x IN (0.5, 0.9))`, `(NOT (x IN (0.5, 0.9)))`,
    `between(x, 0.5, 0.9)`, `(NOT between(x, 0.5, 0.9))` (`args` as Spark shows them: a
    DECIMAL literal written `1.5BD` is named `1.5`)."""
    operand, *values = args
    if name in (IN_LIST, NOT_IN_LIST):
        form = f"({operand} IN ({', '.join(values)}))"
    else:
        form = f"between({operand}, {', '.join(values)})"
    return f"(NOT {form})" if name in (NOT_IN_LIST, NOT_BETWEEN) else form


def _candidate(args: list[str]) -> bool:
    return any(could_differ(a) for a in args[1:])


def _fractional(t: DataType | None) -> bool:
    return isinstance(t, (FloatType, DoubleType))


def _rewrite(name: str) -> SqlRewrite:
    keyword = _KEYWORD[name]

    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        if len(types) != len(args) or None in types:
            return None
        if name in (IN_LIST, NOT_IN_LIST):
            # one common type: DOUBLE when a FLOAT/DOUBLE meets a DECIMAL anywhere in the list
            if not any(map(_fractional, types)) or \
                    not any(isinstance(t, DecimalType) for t in types):
                return None
            operand, *values = (f"CAST({a} AS DOUBLE)" if isinstance(t, DecimalType) else a
                                for a, t in zip(args, types, strict=True))
            return f"{operand} {keyword} ({', '.join(values)})"
        return _between(name == NOT_BETWEEN, args, types)

    return rewrite


def _between(negated: bool, args: list[str], types: list[DataType | None]) -> str | None:
    """`x BETWEEN low AND high` as Spark computes it: `low <= x AND x <= high`, each comparison
    with its DECIMAL cast to DOUBLE when it meets a FLOAT/DOUBLE. While `x` is not the DECIMAL
    of one pair only, BETWEEN keeps its form (with the DECIMAL bounds cast)."""
    (x, low, high), (xt, lt, ht) = args, types

    def pair(a: str, at: DataType | None, b: str, bt: DataType | None) -> tuple[str, str]:
        if isinstance(at, DecimalType) and _fractional(bt):
            return f"CAST({a} AS DOUBLE)", b
        if _fractional(at) and isinstance(bt, DecimalType):
            return a, f"CAST({b} AS DOUBLE)"
        return a, b

    (x_low, low_cast), (x_high, high_cast) = pair(x, xt, low, lt), pair(x, xt, high, ht)
    if (x_low, low_cast, x_high, high_cast) == (x, low, x, high):
        return None
    keyword = "NOT BETWEEN" if negated else "BETWEEN"
    if x_low == x_high:
        return f"{x_low} {keyword} {low_cast} AND {high_cast}"
    both = f"({low_cast} <= {x_low} AND {x_high} <= {high_cast})"
    return f"(NOT {both})" if negated else both


DECIMAL_LIST_RULES: tuple[Rule, ...] = tuple(
    Rule(frozenset({name}), f"x {_KEYWORD[name]} where a DOUBLE meets a DECIMAL is decided in "
         "DECIMAL(30,15) (Spark casts the DECIMAL to DOUBLE)", _rewrite(name),
         lambda args, types: None, positions=lambda count: tuple(range(count)),
         refuse_untyped=False, candidate=_candidate)
    for name in _KEYWORD)
DECIMAL_LIST_NAMES = frozenset(_KEYWORD)


def _isin_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    """`col.isin(...)` where a FLOAT/DOUBLE meets a DECIMAL (`Decimal("0.9")` values, a
    DECIMAL column): the DECIMAL parts cast to DOUBLE, Spark's common type of the list."""
    if len(types) != len(args) or None in types or not any(map(_fractional, types)) or \
            not any(isinstance(t, DecimalType) for t in types):
        return None
    operand, *values = (a.cast("double") if isinstance(t, DecimalType) else a
                        for a, t in zip(args, types, strict=True))
    return operand.isin(*values)


# DataFrame code's `isin` (the function `in`; SQL text's IN is found as `~in`, above).
ISIN_RULE = Rule(frozenset({"in"}), "col.isin(...) where a DOUBLE meets a DECIMAL is decided in "
                 "DECIMAL(30,15) (Spark casts the DECIMAL to DOUBLE)", lambda a, t, o: None,
                 _isin_column, positions=lambda count: tuple(range(count)),
                 refuse_untyped=False, candidate=_candidate)
