"""`CASE ... END` expressions in Spark SQL text, with the spans of their parts, so the branch
values can be rewritten (`conditionals`) and every other character kept as written.

A CASE is returned as a `Call` named `CASE` whose arguments are, in order: the operand of a
simple CASE (`CASE x WHEN 1 THEN ...`; an empty span in a searched CASE), each WHEN condition
and its THEN value, and the ELSE value (an empty span when there is none).

A simple CASE whose operand and a WHEN value could be a DOUBLE and a DECIMAL is written as Spark
parses it (`searched_cases`): `CASE x WHEN v THEN ...` is `CASE WHEN x = v THEN ...`, each `=`
cast on its own (`comparisons`), where the engine would compare x and v in DECIMAL(30,15)."""

from __future__ import annotations

from lakesmith.engine.semantics.literal_types import literal_type
from lakesmith.engine.semantics.sql_operators import Token, tokens
from lakesmith.engine.semantics.sql_text import Call

CASE = "case"
_KEYWORDS = frozenset({"case", "when", "then", "else", "end"})


def find_cases(text: str) -> list[Call]:
    """Every CASE expression in `text`, outermost first in text order."""
    toks = tokens(text)
    words = [t.lower if t.kind == "word" and not (i > 0 and toks[i - 1].text == ".")
             else "" for i, t in enumerate(toks)]
    found: list[Call] = []
    for i, word in enumerate(words):
        if word != "case":
            continue
        marks: list[tuple[str, int]] = []  # (keyword, token index) of this CASE's own keywords
        depth, nesting = 0, 0
        j = i + 1
        while j < len(toks):
            t, w = toks[j], words[j]
            if t.text in ("(", "["):
                depth += 1
            elif t.text in (")", "]"):
                depth -= 1
                if depth < 0:
                    break
            elif w == "case":
                nesting += 1
            elif w == "end" and nesting:
                nesting -= 1
            elif w in _KEYWORDS and depth == 0 and nesting == 0:
                marks.append((w, j))
                if w == "end":
                    break
            j += 1
        call = _call(text, toks, i, marks)
        if call is not None:
            found.append(call)
    return found


def _call(text: str, toks: list[Token], case: int, marks: list[tuple[str, int]]) -> Call | None:
    if not marks or marks[-1][0] != "end" or marks[0][0] != "when":
        return None
    keywords = [k for k, _ in marks]
    # WHEN c THEN v, repeated, then an optional ELSE v, then END
    expected = ["when", "then"] * (keywords.count("when"))
    if keywords[:len(expected)] != expected or keywords[len(expected):] not in (
            ["else", "end"], ["end"]):
        return None
    bounds = [toks[case]] + [toks[j] for _, j in marks]
    args = [(bounds[0].end, bounds[1].start)]  # the operand, maybe empty
    for a, b in zip(bounds[1:-1], bounds[2:], strict=True):
        args.append((a.end, b.start))
    if keywords[-2] != "else":
        end = toks[marks[-1][1]].start
        args.append((end, end))  # no ELSE
    if not text[args[0][0]:args[0][1]].strip():
        args[0] = (args[0][0], args[0][0])
    return Call(CASE, toks[case].start, toks[marks[-1][1]].end, tuple(args))


def case_sql(args: list[str]) -> str:
    """A CASE written from its parts (as `find_cases` lays them out)."""
    operand, *pairs, otherwise = args
    parts = ["CASE"] + ([operand] if operand else [])
    for condition, value in zip(pairs[::2], pairs[1::2], strict=True):
        parts += ["WHEN", condition, "THEN", value]
    if otherwise:
        parts += ["ELSE", otherwise]
    return " ".join(parts + ["END"])


def value_positions(count: int) -> tuple[int, ...]:
    """The indices of the THEN and ELSE values among a CASE's parts."""
    return (*range(2, count - 1, 2), count - 1)


def searched_cases(text: str) -> str:
    """`text` with each simple CASE whose operand and a WHEN value could meet a DOUBLE with a
    DECIMAL written as the searched CASE Spark parses it into (`CASE WHEN x = v1 THEN ...`);
    the engine names both forms alike (`CASE WHEN (x = v1) THEN ... END`), as Spark does."""
    while True:
        simple = [c for c in find_cases(text) if _could_meet(c.arg_texts(text))]
        if not simple:
            return text
        call = simple[-1]  # the last: a CASE inside it is written out first, its spans kept
        operand, *pairs, otherwise = call.arg_texts(text)
        parts = ["CASE"]
        for value, result in zip(pairs[::2], pairs[1::2], strict=True):
            parts += ["WHEN", f"{_grouped(operand)} = {_grouped(value)}", "THEN", result]
        if otherwise:
            parts += ["ELSE", otherwise]
        text = text[:call.start] + " ".join([*parts, "END"]) + text[call.end:]


def _could_meet(args: list[str]) -> bool:
    """A simple CASE whose operand and some WHEN value could be the DOUBLE and the DECIMAL of a
    pair: such literals, or not literals."""
    from lakesmith.engine.semantics.decimal_lists import could_differ

    operand, *pairs, _ = args
    return bool(operand) and could_differ(operand) and any(map(could_differ, pairs[::2]))


def _grouped(text: str) -> str:
    """`text` as one operand of `=`: a name or a literal as it is, anything else parenthesized."""
    if literal_type(text) is not None or all(
            t.kind in ("word", "quoted") or t.text == "." for t in tokens(text)):
        return text
    return f"({text})"
