"""SQL text with Spark's meaning: doubled quotes escaped, `RLIKE` patterns in the engine's
syntax (`regex_rules`), then each call of a function and each
arithmetic operation with a rule (`registry`) replaced by its rewrite — arguments first, so
nested calls are handled, and a column named after a rewritten call keeps its name.

Typed rules ask a `Typer` for the types of their arguments: the engine's own analysis, so a type
is never guessed."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from pyspark.sql.types import DataType, DoubleType, FloatType

from lakesmith.engine.semantics.decimal_lists import (
    DECIMAL_LIST_NAMES,
    decimal_list_name,
    find_decimal_lists,
)
from lakesmith.engine.semantics.field_access import FIELD, find_field_accesses
from lakesmith.engine.semantics.in_subqueries import (
    IN_QUERY_NAMES,
    find_in_subqueries,
    in_query_name,
)
from lakesmith.engine.semantics.literal_types import literal_type
from lakesmith.engine.semantics.regex_rules import translate_regex_operators
from lakesmith.engine.semantics.registry import FUNCTION_NAMES, OPERATORS, RULES_BY_NAME
from lakesmith.engine.semantics.sql_case import CASE, find_cases, searched_cases
from lakesmith.engine.semantics.sql_operators import CAST_OPERATOR, find_operations, tokens
from lakesmith.engine.semantics.sql_text import (
    Call,
    escape_doubled_quotes,
    find_calls,
    is_unaliased_select_item,
    window_after,
)
from lakesmith.errors import NotSupportedYet

# (the whole text, a call, an argument's index) → that argument's type, or None when unknown.
Typer = Callable[[str, Call, int], DataType | None]


# (the whole text, a call) → the name the engine gives the call unaliased, or None.
Namer = Callable[[str, Call], str | None]

# (the whole text, every call found in it) → the calls that need no rewrite, found without
# asking their types; it may put the types of other calls' arguments where the typer finds them
# (`operand_types`: a query's comparison operands typed together).
Prefetch = Callable[[str, list[Call]], set[Call]]


def rewrite_sql(text: str, typer: Typer | None, namer: Namer | None = None,
                prefetch: Prefetch | None = None) -> str:
    """`text` rewritten for Spark's answers."""
    escaped = searched_cases(translate_regex_operators(escape_doubled_quotes(text)))
    calls = find_calls(escaped, FUNCTION_NAMES) + find_operations(escaped, OPERATORS) \
        + find_field_accesses(escaped) + find_cases(escaped) + find_decimal_lists(escaped) \
        + find_in_subqueries(escaped)
    if not calls:
        return escaped
    settled = prefetch(escaped, calls) if prefetch is not None and typer is not None else set()
    return _Rewriter(escaped, calls, typer, namer, settled).span(0, len(escaped))


class _Rewriter:
    def __init__(self, text: str, calls: list[Call], typer: Typer | None,
                 namer: Namer | None = None, settled: set[Call] | None = None) -> None:
        self.text = text
        self.calls = calls
        self.typer = typer
        self.namer = namer
        self.settled = settled or set()
        self._qualifiers: frozenset[str] | None = None

    def span(self, start: int, end: int, exclude: Call | None = None) -> str:
        """text[start:end] with every call inside it rewritten, outermost calls last."""
        inside = [c for c in self.calls if c is not exclude and start <= c.start and c.end <= end]
        outermost = [c for c in inside if not any(
            o is not c and o.start <= c.start and c.end <= o.end and (o.start, o.end) != (
                c.start, c.end) for o in inside)]
        outermost = _first_of_equal_spans(outermost)
        out: list[str] = []
        position = start
        for call in sorted(outermost, key=lambda c: c.start):
            if call.start < position:
                continue  # overlapping spans: keep the first
            out.append(self.text[position:call.start])
            operation = call.name in OPERATORS
            over, call_end = ("", call.end) if operation else window_after(self.text, call.end)
            rewritten = self.call(call, over)
            if rewritten != self.text[call.start:call_end] and not (
                    not operation and RULES_BY_NAME[call.name].generator) and \
                    is_unaliased_select_item(self.text, call):
                # the column keeps the name it has without the rewrite (Spark's for one call)
                name = self._name(self.text[call.start:call.end]).replace("`", "``")
                if call.name == CAST_OPERATOR:  # Spark names x::type as CAST(x AS TYPE)
                    x, type_text = (self._name(self.text[a:b]) for a, b in call.args)
                    name = f"CAST({x} AS {type_text.upper()})".replace("`", "``")
                elif call.name in IN_QUERY_NAMES:
                    name = in_query_name(call.name, self._name(call.arg_texts(self.text)[0]))
                elif call.name in DECIMAL_LIST_NAMES:
                    name = decimal_list_name(
                        call.name, [self._name(t) for t in call.arg_texts(self.text)]
                    ).replace("`", "``")
                elif call.name in _EQUALITY_NAMES:  # `a != b` is parsed as NOT (a = b)
                    a, b = (self._name(t) for t in call.arg_texts(self.text))
                    name = _EQUALITY_NAMES[call.name].format(a=a, b=b).replace("`", "``")
                elif operation and call.name != FIELD:
                    name = f"({name})"
                elif call.name == CASE and self.namer is not None:
                    # Spark names a CASE by its parsed form (`CASE WHEN (id = 1) THEN ...`)
                    name = (self.namer(self.text, call) or name).replace("`", "``")
                elif not operation and (named := RULES_BY_NAME[call.name].sql_name):
                    name = (named(call.arg_texts(self.text)) or name).replace("`", "``")
                rewritten = f"{rewritten} AS `{name}`"
            out.append(rewritten)
            position = call_end
        out.append(self.text[position:end])
        return "".join(out)

    def _name(self, text: str) -> str:
        """`_auto_name` of a part of the text, its columns without the table qualifiers the
        text's FROM clauses define (Spark names `t.x > t.d` as `(x > d)`)."""
        if self._qualifiers is None:
            self._qualifiers = _table_qualifiers(self.text) if "." in self.text else frozenset()
        return _auto_name(text, self._qualifiers)

    def call(self, call: Call, over: str) -> str:
        """The call rewritten (with its window clause `over`, when it is a window function)."""
        args = [self.span(a, b, exclude=call).strip() for a, b in call.args]
        rule = RULES_BY_NAME[call.name]
        if call in self.settled or not rule.candidate(args):
            return self._unchanged(call, args, over)
        types: list[DataType | None] = []
        positions = rule.typed_positions(len(args))
        distinct = _DISTINCT.match(self.text, call.args[0][0]) if call.args else None
        if positions and (distinct is None or rule.distinct_column is not None):
            typed = call if distinct is None else _after_distinct(call, distinct.end())
            # an absent part (a CASE without ELSE) has no type to ask for
            probed = {i: self._type(typed, i, _without_distinct(args[i]) if i == 0 else args[i])
                      for i in positions if args[i]}
            if None in probed.values():
                if rule.refuse_untyped:
                    raise _untyped(self.text[call.start:call.end], call.name, rule.difference)
                return self._unchanged(call, args, over)
            types = [probed.get(i) for i in range(max(positions) + 1)]
        elif rule.typed or rule.positions is not None:
            return self._unchanged(call, args, over)
        if rule.typed_result:
            whole = Call(call.name, call.start, call.end, ((call.start, call.end),))
            result = self.typer(self.text, whole, 0) if self.typer is not None else None
            if result is None:
                if rule.refuse_untyped:
                    raise _untyped(self.text[call.start:call.end], call.name, rule.difference)
                return self._unchanged(call, args, over)
            types = [*types, result]
        replacement = rule.sql(args, types, over)
        return replacement if replacement is not None else self._unchanged(call, args, over)

    def _type(self, call: Call, index: int, rewritten: str) -> DataType | None:
        """The type of an argument as rewritten (a nested rewrite may change it: Spark's type),
        or, where that cannot be analysed, as written."""
        if self.typer is None:
            return None
        start, end = call.args[index]
        if rewritten != self.text[start:end].strip():
            text = self.text[:start] + f" {rewritten} " + self.text[end:]
            spans = list(call.args)
            spans[index] = (start, start + len(rewritten) + 2)
            found = self.typer(text, Call(call.name, call.start, call.end, tuple(spans)), index)
            if found is not None:
                return found
        return self.typer(self.text, call, index)

    def _unchanged(self, call: Call, args: list[str], over: str) -> str:
        if call.name == CASE or call.name in DECIMAL_LIST_NAMES | IN_QUERY_NAMES:
            # as written, its parts rewritten
            spliced, position = [], call.start
            for (a, b), arg in zip(call.args, args, strict=True):
                spliced += [self.text[position:a], f" {arg} " if arg else ""]
                position = b
            return "".join(spliced) + self.text[position:call.end]
        if call.name in ("cast", "try_cast") and len(args) == 2:
            return f"{self.text[call.start:call.args[0][0]]}{args[0]} AS {args[1]}){over}"
        if call.name == CAST_OPERATOR:
            return f"{args[0]}::{args[1]}"
        if call.name == FIELD:
            return f"{args[0]}.{args[1]}"
        if call.name in OPERATORS:
            return f"{args[0]} {self.text[call.args[0][1]:call.args[1][0]].strip()} {args[1]}"
        if not call.args:
            return self.text[call.start:call.end] + over
        return f"{self.text[call.start:call.args[0][0]]}{', '.join(args)}){over}"


_DISTINCT = re.compile(r"(?is)\s*distinct\s+")
# Spark's names of comparisons it parses as other expressions (`!=` and `<>` are NOT of `=`).
_EQUALITY_NAMES = {"==": "({a} = {b})", "!=": "(NOT ({a} = {b}))", "<>": "(NOT ({a} = {b}))"}


def _without_distinct(argument: str) -> str:
    match = _DISTINCT.match(argument)
    return argument[match.end():] if match else argument


def _after_distinct(call: Call, start: int) -> Call:
    """`call` with its first argument's span after the DISTINCT keyword (the value typed)."""
    return Call(call.name, call.start, call.end, ((start, call.args[0][1]), *call.args[1:]))


_STRING_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _auto_name(call_text: str, qualifiers: frozenset[str] = frozenset()) -> str:
    """Spark's name for an unaliased call: its text with white space collapsed, string
    literals shown by their value (`to_date('2026-11-02')` is named `to_date(2026-11-02)`),
    typed number literals as Spark prints their values (`x > 0.5D` is named `(x > 0.5)`) and
    columns without a qualifier among `qualifiers` (`t.x` is named `x`)."""
    collapsed = " ".join(call_text.split())
    shown, position = [], 0
    toks = tokens(collapsed)
    for i, token in enumerate(toks):
        if token.kind == "number":
            shown += [collapsed[position:token.start], _number_name(token.text)]
            position = token.end
        elif token.kind in ("word", "quoted") and token.text.strip("`").lower() in qualifiers \
                and i + 2 < len(toks) and toks[i + 1].text == "." \
                and toks[i + 2].kind in ("word", "quoted") and (i == 0 or toks[i - 1].text != "."):
            shown.append(collapsed[position:token.start])
            position = toks[i + 2].start
    text = "".join(shown) + collapsed[position:]
    return _STRING_LITERAL.sub(lambda m: m.group(1), text)


def _table_qualifiers(text: str) -> frozenset[str]:
    """The names that qualify columns in `text`: its tables' names and aliases, its subqueries'
    and common table expressions' aliases (lower case); none when sqlglot cannot read it."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read="spark")
    except sqlglot.errors.SqlglotError:
        return frozenset()
    names = {t.name for t in tree.find_all(exp.Table)} | {
        n.alias for n in tree.find_all(exp.Table, exp.Subquery, exp.CTE, exp.Values) if n.alias}
    return frozenset(n.lower() for n in names if n)


def _number_name(literal: str) -> str:
    """A number literal as Spark shows it in a column name: a DOUBLE or FLOAT as Java prints it
    (`1e3` is `1000.0`, `1e20` is `1.0E20`), a typed integer or a DECIMAL without its suffix
    (`10L` is `10`, `1.5BD` is `1.5`); other literals as written."""
    t = literal_type(literal)
    bare = literal[:-2] if literal.lower().endswith("bd") else \
        literal[:-1] if literal[-1:].lower() in "lsydf" else literal
    if isinstance(t, (DoubleType, FloatType)):
        return _java_double(float(bare))
    return bare


def _java_double(value: float) -> str:
    """Java's `Double.toString`: plain from 1.0E-3 up to 1.0E7, else d.dddE±n, with the shortest
    digits (Python's `repr`)."""
    if value != value or value in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        text = repr(value)
        if "e" not in text:
            return text
        return format(Decimal(text), "f") if "." in format(Decimal(text), "f") \
            else format(Decimal(text), "f") + ".0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    shown = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{'-' if sign else ''}{shown[0]}.{shown[1:] or '0'}E{exponent + len(digits) - 1}"


def _first_of_equal_spans(calls: list[Call]) -> list[Call]:
    seen: set[tuple[int, int]] = set()
    kept = []
    for call in calls:
        if (call.start, call.end) not in seen:
            seen.add((call.start, call.end))
            kept.append(call)
    return kept


def _untyped(text: str, name: str, difference: str) -> NotSupportedYet:
    if name == CASE:
        return NotSupportedYet(
            f"{text}: lakesmith could not find the types of the values of this CASE, and the "
            f"engine's answer differs from Spark's when they differ ({difference}).",
            hint="cast every THEN and ELSE value to the type you mean, e.g. "
            "CASE WHEN ... THEN CAST(x AS DOUBLE) ELSE CAST(y AS DOUBLE) END.")
    return NotSupportedYet(
        f"{text}: lakesmith could not find the type of the argument of {name}(), and the "
        f"engine's answer differs from Spark's for some types ({difference}).",
        hint=f"cast the argument of {name}() to the type you mean, e.g. "
        f"{name}(CAST(x AS DOUBLE), ...), or compute it in a DataFrame.")
