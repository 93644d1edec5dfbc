"""`x IN (0.5, 0.9)` and `x BETWEEN 0.5 AND 0.9` with a FLOAT or DOUBLE `x`, as Spark decides
them: Spark casts the DECIMAL literals to DOUBLE (the IN list's common type, and BETWEEN's two
comparisons: a DECIMAL beside a DOUBLE is DOUBLE); the engine casts `x` to DECIMAL(30,15), so
`0.9000000000000001D IN (0.5, 0.9)` is true (Spark: false), and NaN, the infinities and values
beyond 1e15 fail the query (`comparisons.py` does the same for `=`, `<`, ...).

Found in SQL text (pipeline SQL, `spark.sql`, expression strings) where every value of the list,
or both bounds, is a number literal and one is a DECIMAL literal (`0.9`, `1.5BD`); `x`'s type is
then asked of the engine. A list with anything else in it (a column, a subquery) is left as
written. Each form is a Call named by a name no SQL function has (`~in`, `~not in`, ...), so the
rewrite framework treats it as an operation, spliced back as written around its rewritten
parts when no rewrite applies."""

from __future__ import annotations

from pyspark.sql.types import DataType, DecimalType, DoubleType, FloatType

from lakesmith.engine.semantics.literal_types import literal_type
from lakesmith.engine.semantics.rules import Rule, SqlRewrite
from lakesmith.engine.semantics.sql_operators import Token, left_operand, matching, tokens
from lakesmith.engine.semantics.sql_text import Call

IN_LIST, NOT_IN_LIST = "~in", "~not in"
BETWEEN, NOT_BETWEEN = "~between", "~not between"
_KEYWORD = {IN_LIST: "IN", NOT_IN_LIST: "NOT IN", BETWEEN: "BETWEEN",
            NOT_BETWEEN: "NOT BETWEEN"}
_ARITHMETIC_PRECEDENCE = 1  # IN's and BETWEEN's left operand: `a + b IN (...)` is `(a + b) IN`


def find_decimal_lists(text: str) -> list[Call]:
    """Every IN list and BETWEEN of number literals with a DECIMAL literal among them."""
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
        texts = [text[a:b].strip() for a, b in spans]
        if not any(isinstance(literal_type(t), DecimalType) for t in texts):
            continue
        name = (NOT_IN_LIST if negated else IN_LIST) if token.lower == "in" else \
            (NOT_BETWEEN if negated else BETWEEN)
        operand = (toks[start].start, toks[first].start)
        found.append(Call(name, toks[start].start, end, (operand, *spans)))
    return found


def _number(toks: list[Token], j: int) -> int | None:
    """The index of the last token of a number literal (with its sign) starting at `j`."""
    if j < len(toks) and toks[j].text in ("-", "+"):
        j += 1
    return j if j < len(toks) and toks[j].kind == "number" else None


def _in_values(toks: list[Token], i: int) -> tuple[list[tuple[int, int]], int] | None:
    """`IN ( n1, n2, ... )` of number literals only: the values' spans and the list's end."""
    if i + 1 >= len(toks) or toks[i + 1].text != "(":
        return None
    closing = matching(toks, i + 1, 1)
    if closing is None:
        return None
    spans: list[tuple[int, int]] = []
    j = i + 2
    while j < closing:
        last = _number(toks, j)
        if last is None or last >= closing:
            return None
        spans.append((toks[j].start, toks[last].end))
        j = last + 1
        if j < closing:
            if toks[j].text != ",":
                return None
            j += 1
    return (spans, toks[closing].end) if spans else None


def _between_values(toks: list[Token], i: int) -> tuple[list[tuple[int, int]], int] | None:
    """`BETWEEN n1 AND n2` of number literals: the bounds' spans and where the second ends
    (a bound followed by more of an expression, `0.9 * 2`, is not a literal bound)."""
    low = _number(toks, i + 1)
    if low is None or low + 1 >= len(toks) or toks[low + 1].lower != "and":
        return None
    high = _number(toks, low + 2)
    if high is None:
        return None
    after = toks[high + 1] if high + 1 < len(toks) else None
    if after is not None and after.kind == "op" and after.text not in ("=", "==", "<", ">",
                                                                       "<=", ">=", "<>", "!="):
        return None
    return ([(toks[i + 1].start, toks[low].end), (toks[low + 2].start, toks[high].end)],
            toks[high].end)


def decimal_list_name(name: str, args: list[str]) -> str:
    """Spark's name for the unaliased form: `(x IN (0.5, 0.9))`, `(NOT (x IN (0.5, 0.9)))`,
    `between(x, 0.5, 0.9)`, `(NOT between(x, 0.5, 0.9))` (a DECIMAL literal written `1.5BD` is
    named `1.5`)."""
    operand, *values = args
    shown = [v[:-2] if v.lower().endswith("bd") else v for v in values]
    if name in (IN_LIST, NOT_IN_LIST):
        form = f"({operand} IN ({', '.join(shown)}))"
    else:
        form = f"between({operand}, {', '.join(shown)})"
    return f"(NOT {form})" if name in (NOT_IN_LIST, NOT_BETWEEN) else form


def _candidate(args: list[str]) -> bool:
    return any(isinstance(literal_type(a), DecimalType) for a in args[1:])


def _rewrite(name: str) -> SqlRewrite:
    keyword = _KEYWORD[name]

    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        if not types or not isinstance(types[0], (FloatType, DoubleType)):
            return None
        values = [f"CAST({a} AS DOUBLE)" if isinstance(literal_type(a), DecimalType) else a
                  for a in args[1:]]
        operand = args[0]
        if name in (IN_LIST, NOT_IN_LIST):
            return f"{operand} {keyword} ({', '.join(values)})"
        return f"{operand} {keyword} {values[0]} AND {values[1]}"

    return rewrite


DECIMAL_LIST_RULES: tuple[Rule, ...] = tuple(
    Rule(frozenset({name}), f"x {_KEYWORD[name]} of DECIMAL literals with a DOUBLE x is decided "
         "in DECIMAL(30,15) (Spark casts the literals to DOUBLE)", _rewrite(name),
         lambda args, types: None, positions=lambda count: (0,), refuse_untyped=False,
         candidate=_candidate)
    for name in _KEYWORD)
DECIMAL_LIST_NAMES = frozenset(_KEYWORD)
