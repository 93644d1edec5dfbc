"""Arithmetic operators in Spark SQL text, with the spans of their operands, as Spark's grammar
groups them (`*` `/` `%` `div` bind tighter than `+` `-` `||`; both are left-associative; unary
minus binds tighter still), so a rewrite can replace `a / b` and nothing else.

Operands are read token by token: names (dotted), literals (typed ones like `DATE'...'`), calls
(with their `OVER (...)`), parenthesised groups, `CASE ... END`, subscripts, `::type` casts.
An operand with `INTERVAL` or a subquery is not read (the operation is left as written)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakesmith.engine.semantics.sql_text import Call

_TOKEN = re.compile(r"""
    (?P<space>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<string>[rR]?'(?:\\.|[^'\\])*'|[rR]?"(?:\\.|[^"\\])*")
  | (?P<quoted>`(?:``|[^`])*`)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(?:BD|bd|[LSYDFlsydf])?(?![A-Za-z_]))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>::|\|\||<=>|<=|>=|<>|!=|==|->|[-+*/%<>=!~&|^])
  | (?P<punct>[(),.\[\];:{}])
""", re.VERBOSE | re.DOTALL)

CAST_OPERATOR = "::"  # `x::type`, Spark's shorthand for CAST(x AS type)
PRECEDENCE = {"*": 2, "/": 2, "%": 2, "div": 2, "+": 1, "-": 1, "||": 1,
              # comparisons bind looser than arithmetic (`comparisons` rewrites some)
              "=": 0, "==": 0, "!=": 0, "<>": 0, "<": 0, ">": 0, "<=": 0, ">=": 0, "<=>": 0}
ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
_KEYWORDS = frozenset("""select from where and or not as on when then else end case is in between
like rlike ilike by group order having limit distinct all over partition rows range preceding
following unbounded current row interval join left right full inner outer cross semi anti union
except intersect minus with lateral view exists qualify window cluster distribute sort asc desc
nulls first last escape using values table div""".split())
KEYWORDS = _KEYWORDS  # words that never end an operand (for other finders)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    start: int
    end: int

    @property
    def lower(self) -> str:
        return self.text.lower()


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group(), match.start(), match.end()))
    return tokens


tokens = _tokens  # the tokens of a text, for other finders (`sql_case`, `set_operations`)
Token = _Token


def find_operations(text: str, operators: frozenset[str] = ARITHMETIC) -> list[Call]:
    """Every binary arithmetic operation in `operators`, as a Call named by the operator with
    its two operands as arguments."""
    tokens = _tokens(text)
    found: list[Call] = []
    for i, token in enumerate(tokens):
        op = token.lower if token.kind in ("op", "word") else ""
        if op == CAST_OPERATOR and op in operators:
            found.extend(_cast_operation(tokens, i))
            continue
        if op not in operators or op not in PRECEDENCE or not _is_binary(tokens, i):
            continue
        left = _left_operand(tokens, i, PRECEDENCE[op])
        right = _right_operand(tokens, i, PRECEDENCE[op])
        if left is None or right is None:
            continue
        start, end = tokens[left].start, tokens[right].end
        found.append(Call(op, start, end, ((start, token.start), (token.end, end))))
    return found


def _cast_operation(tokens: list[_Token], i: int) -> list[Call]:
    """`x::type` as a Call named `::` with the operands x and type (a name, with its
    parenthesised parameters: `decimal(10, 2)`)."""
    if not _is_binary(tokens, i) or i + 1 >= len(tokens) or tokens[i + 1].kind != "word":
        return []
    left = _primary_start(tokens, i - 1)
    if left is None:
        return []
    type_end = i + 1
    if type_end + 1 < len(tokens) and tokens[type_end + 1].text == "(":
        closing = _matching(tokens, type_end + 1, 1)
        if closing is None:
            return []
        type_end = closing
    start, end = tokens[left].start, tokens[type_end].end
    return [Call(CAST_OPERATOR, start, end,
                 ((start, tokens[i].start), (tokens[i + 1].start, end)))]


def _ends_operand(token: _Token) -> bool:
    if token.kind in ("string", "quoted", "number"):
        return True
    if token.kind == "word":
        return token.lower not in _KEYWORDS or token.lower == "end"
    return token.text in (")", "]")


def _is_binary(tokens: list[_Token], i: int) -> bool:
    return i > 0 and _ends_operand(tokens[i - 1])


def _matching(tokens: list[_Token], i: int, step: int) -> int | None:
    """The index of the bracket matching tokens[i] (searching in direction `step`)."""
    opening, closing = ("([", ")]") if step > 0 else (")]", "([")
    depth = 0
    j = i
    while 0 <= j < len(tokens):
        t = tokens[j].text
        if t in opening:
            depth += 1
        elif t in closing:
            depth -= 1
            if depth == 0:
                return j
        j += step
    return None


def _primary_start(tokens: list[_Token], j: int) -> int | None:
    """Where the primary expression ending at token j starts."""
    t = tokens[j]
    if t.kind == "word" and t.lower == "end":
        depth = 0
        k = j
        while k >= 0:
            if tokens[k].lower == "end" and tokens[k].kind == "word":
                depth += 1
            elif tokens[k].lower == "case" and tokens[k].kind == "word":
                depth -= 1
                if depth == 0:
                    return k
            k -= 1
        return None
    if t.text in (")", "]"):
        opening = _matching(tokens, j, -1)
        if opening is None:
            return None
        k = opening
        inner = tokens[k + 1:j]
        if _scalar_subquery(tokens, k, j):
            return k
        if any(x.lower in ("select", "interval") for x in inner if x.kind == "word"):
            return None
        if k > 0 and tokens[k - 1].lower == "over" and k > 1:
            return _primary_start(tokens, k - 2)
        if k > 0 and (tokens[k - 1].kind in ("word", "quoted") and
                      tokens[k - 1].lower not in _KEYWORDS or tokens[k - 1].text in (")", "]")):
            if tokens[k].text == "[" or tokens[k - 1].kind in ("word", "quoted"):
                return _primary_start(tokens, k - 1)
        return k
    if t.kind in ("word", "quoted"):
        if t.lower in _KEYWORDS and t.lower not in ("end",):
            return None
        k = j
        while k >= 2 and tokens[k - 1].text == "." and tokens[k - 2].kind in ("word", "quoted"):
            k -= 2
        if k >= 2 and tokens[k - 1].text == "::":
            return _primary_start(tokens, k - 2)
        return k
    if t.kind == "string":
        if j > 0 and tokens[j - 1].kind == "word" and tokens[j - 1].lower in (
                "date", "timestamp", "timestamp_ntz", "timestamp_ltz", "x"):
            return j - 1
        return j
    if t.kind == "number":
        return j
    return None


def _scalar_subquery(tokens: list[_Token], opening: int, closing: int) -> bool:
    """`(SELECT ...)` between `opening` and `closing`, an operand (not IN's or EXISTS' list,
    not a function's argument): `100 * sum(x) / (SELECT sum(x) FROM t)`."""
    if opening + 1 >= closing or tokens[opening + 1].lower != "select":
        return False
    if any(x.kind == "word" and x.lower == "interval" for x in tokens[opening + 1:closing]):
        return False
    before = tokens[opening - 1] if opening > 0 else None
    return before is None or before.kind not in ("word", "quoted") or before.lower in (
        "select", "when", "then", "else", "and", "or", "not", "by", "on", "where", "having")


def _left_operand(tokens: list[_Token], i: int, precedence: int) -> int | None:
    j = i - 1
    start = _primary_start(tokens, j)
    while start is not None:
        # unary minus/plus directly before the primary
        while start > 0 and tokens[start - 1].text in ("-", "+", "~") and \
                (start == 1 or not _ends_operand(tokens[start - 2])):
            start -= 1
        before = start - 1
        if before > 0 and tokens[before].lower in PRECEDENCE and \
                PRECEDENCE[tokens[before].lower] >= precedence and _is_binary(tokens, before):
            start = _primary_start(tokens, before - 1)
            continue
        return start
    return None


def _primary_end(tokens: list[_Token], j: int) -> int | None:
    """Where the primary expression starting at token j ends."""
    if j >= len(tokens):
        return None
    t = tokens[j]
    if t.text in ("-", "+", "~"):
        return _primary_end(tokens, j + 1)
    if t.kind == "word" and t.lower == "case":
        depth = 0
        k = j
        while k < len(tokens):
            if tokens[k].kind == "word" and tokens[k].lower == "case":
                depth += 1
            elif tokens[k].kind == "word" and tokens[k].lower == "end":
                depth -= 1
                if depth == 0:
                    return _postfix(tokens, k)
            k += 1
        return None
    if t.text == "(":
        closing = _matching(tokens, j, 1)
        if closing is not None and _scalar_subquery(tokens, j, closing):
            return closing
        if closing is None or any(x.lower in ("select", "interval") for x in tokens[j + 1:closing]
                                  if x.kind == "word"):
            return None
        return _postfix(tokens, closing)
    if t.kind in ("word", "quoted"):
        if t.lower in _KEYWORDS:
            return None
        if t.kind == "word" and j + 1 < len(tokens) and tokens[j + 1].kind == "string" and \
                t.lower in ("date", "timestamp", "timestamp_ntz", "timestamp_ltz", "x"):
            return _postfix(tokens, j + 1)
        k = j
        while k + 2 < len(tokens) and tokens[k + 1].text == "." and \
                tokens[k + 2].kind in ("word", "quoted"):
            k += 2
        if k + 1 < len(tokens) and tokens[k + 1].text == "(":
            close = _matching(tokens, k + 1, 1)
            if close is None:
                return None
            if any(x.kind == "word" and x.lower == "select" for x in tokens[k + 2:close]):
                return None
            k = close
            if k + 1 < len(tokens) and tokens[k + 1].lower == "over":
                if k + 2 < len(tokens) and tokens[k + 2].text == "(":
                    k = _matching(tokens, k + 2, 1) or k
                elif k + 2 < len(tokens):
                    k = k + 2
        return _postfix(tokens, k)
    if t.kind in ("string", "number"):
        return _postfix(tokens, j)
    return None


def _postfix(tokens: list[_Token], k: int) -> int | None:
    """Subscripts, field accesses and `::type` after a primary ending at k."""
    while k + 1 < len(tokens):
        nxt = tokens[k + 1]
        if nxt.text == "[":
            close = _matching(tokens, k + 1, 1)
            if close is None:
                return None
            k = close
        elif nxt.text == "." and k + 2 < len(tokens) and tokens[k + 2].kind in ("word", "quoted"):
            k += 2
        elif nxt.text == "::" and k + 2 < len(tokens) and tokens[k + 2].kind == "word":
            k += 2
            if k + 1 < len(tokens) and tokens[k + 1].text == "(":
                k = _matching(tokens, k + 1, 1) or k
        else:
            return k
    return k


def _right_operand(tokens: list[_Token], i: int, precedence: int) -> int | None:
    end = _primary_end(tokens, i + 1)
    while end is not None:
        after = end + 1
        if after < len(tokens) and tokens[after].lower in PRECEDENCE and \
                PRECEDENCE[tokens[after].lower] > precedence:
            end = _primary_end(tokens, after + 1)
            continue
        return end
    return None


# For other finders (`decimal_lists`): an operator's operands, a bracket's match.
left_operand = _left_operand
right_operand = _right_operand
matching = _matching
