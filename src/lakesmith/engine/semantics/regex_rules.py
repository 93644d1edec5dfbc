"""The regular-expression functions with Java's answers: a literal pattern (and a literal
`regexp_replace` replacement) is translated from Java's syntax, Spark's, to the Rust `regex`
crate's, the engine's (`java_regex`), in SQL text, in the `RLIKE`/`REGEXP` operators and in
DataFrame calls. A pattern or replacement that is not a literal (a column) is read by the engine
with Rust's syntax, guarded (`regex_guard`): a row whose answer could differ fails naming the
pattern. A pattern written as a concatenation of literals is a literal.

Each call is rewritten once (arguments first, the rewrite never read again); a translated
pattern is also its own translation, so a pattern read twice keeps its meaning."""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import DataType

from lakesmith.engine.semantics.java_regex import translate_pattern
from lakesmith.engine.semantics.literal_types import column_literal
from lakesmith.engine.semantics.regex_guard import (
    guarded_column,
    guarded_sql,
    literal_guarded_column,
    literal_guarded_sql,
    literal_replacement_refused,
    replacement_guarded_column,
    replacement_guarded_sql,
)
from lakesmith.engine.semantics.regex_literals import (
    EMPTY_MATCHES_SHOW,
    LiteralCall,
    literal_call,
)
from lakesmith.engine.semantics.rules import Rule
from lakesmith.engine.semantics.sql_operators import KEYWORDS, tokens
from lakesmith.errors import NotSupportedYet
from lakesmith.sql_literal import sql_string

# The functions whose second argument is a pattern (`regexp_replace`'s third a replacement).
PATTERN_FUNCTIONS = frozenset({
    "regexp_replace", "regexp_extract", "regexp_extract_all", "rlike", "regexp",
    "regexp_like", "regexp_count", "regexp_substr", "regexp_instr", "split"})
_OPERATORS = frozenset({"rlike", "regexp"})
# These answer with every match, so an empty match right after another one shows (Java reports
# it, Rust does not); so does regexp_replace's with a non-empty replacement.
_EMPTY_MATCHES_SHOW = EMPTY_MATCHES_SHOW
_DIFFERENCE = ("the engine reads patterns with Rust's regex syntax (\\d, \\w, \\s Unicode; "
               "\\Q...\\E an error; replacements with $$ and literal backslashes); Spark with "
               "Java's")

_SQL_STRING = re.compile(r"""^([rR]?)(['"])(.*)\2$""", re.DOTALL)
_OCTAL = re.compile(r"[0-3][0-7][0-7]")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
_SIMPLE = {"b": "\b", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "0": "\0"}


def sql_string_value(text: str) -> str | None:
    """The value of a SQL string literal as Spark's parser reads it (`'\\\\d'` is `\\d`), or
    None when `text` is not one literal."""
    match = _SQL_STRING.match(text.strip())
    if match is None:
        return None
    raw, quote, body = match.groups()
    if raw:
        return None if quote in body else body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == quote:
            return None  # two literals: `'a' 'b'`
        if c != "\\" or i + 1 >= len(body):
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if _OCTAL.match(body, i + 1):
            out.append(chr(int(body[i + 1:i + 4], 8)))
            i += 4
        elif e == "u" and _HEX4.match(body, i + 2):
            out.append(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif e in "%_":
            out.append("\\" + e)
            i += 2
        else:
            out.append(_SIMPLE.get(e, e))
            i += 2
    return "".join(out)


def _regex_sql(name: str) -> Any:
    def rewrite(args: list[str], _: list[DataType | None], over: str) -> str | None:
        result = _sql_call(name, args)
        if name == "regexp_count" and len(args) == 2:  # the engine's is BIGINT; Spark's INT
            return f"CAST({result or f'regexp_count({args[0]}, {args[1]})'} AS INT)"
        if name == "regexp_substr" and len(args) == 2:  # Spark: NULL for an empty match
            return f"nullif({result or f'regexp_substr({args[0]}, {args[1]})'}, '')"
        return result

    return rewrite


def _sql_call(name: str, args: list[str]) -> str | None:
    if len(args) < 2:
        return None
    pattern = folded_string(args[1])
    replaced = name == "regexp_replace" and len(args) > 2
    replacement = folded_string(args[2]) if replaced else None
    if pattern is None:
        return _guarded_sql_call(name, args, replacement)
    plan = literal_call(name, pattern, replacement, _index(name, args))
    if not plan.changed and not (replaced and replacement is None):
        return None
    rewritten = list(args)
    rewritten[1] = sql_string(plan.pattern)
    if plan.replacement is not None:
        rewritten[2] = sql_string(plan.replacement)
    if plan.whole_match_group:  # the whole match, without the terminator `$` consumed
        rewritten[2:] = ["1"]
    call = f"{_called(name, plan)}({', '.join(rewritten)})"
    if plan.terminator_group is not None:
        call = _split_terminator_sql(call, args[0], rewritten[1], plan.terminator_group)
    if replaced and replacement is None:  # a literal pattern, a replacement column
        call = replacement_guarded_sql(name, args[2], call)
    if plan.guard_text is not None:
        call = literal_guarded_sql(name, pattern, args[0], call, plan.guard_text,
                                   plan.guard_reason)
    return call


def _split_terminator_sql(call: str, text: str, pattern: str, group: int) -> str:
    """`split` with a final `$` (`regex_literals.literal_call`): the pattern consumed the final
    line terminator Java's `$` leaves after the match, so the last piece, empty, becomes it.
    The `$` matches once at most, at the end: only a call with two pieces has one."""
    return (f"(CASE WHEN size({call}) > 1 THEN concat(slice({call}, 1, size({call}) - 1), "
            f"array(regexp_extract({text}, {pattern}, {group}))) ELSE {call} END)")


def _called(name: str, plan: LiteralCall) -> str:
    return "regexp_extract" if name == "regexp_substr" and plan.whole_match_group else name


def _index(name: str, args: list[Any]) -> int | None:
    """An extraction's literal group index (1 when not given), else None."""
    if name not in ("regexp_extract", "regexp_extract_all"):
        return None
    if len(args) < 3:
        return 1
    text = args[2] if isinstance(args[2], str) else _integer_literal(args[2])
    return int(text) if isinstance(text, str) and text.strip().isdigit() else None


def _guarded_sql_call(name: str, args: list[str], replacement: str | None) -> str:
    """A call whose pattern is a column: as written, its rows guarded (`regex_guard`)."""
    column_replacement, empty_matters = _column_pattern_call(name, args, replacement)
    return guarded_sql(name, args[0], args[1], f"{name}({', '.join(args)})",
                       empty_matters=empty_matters, replacement=column_replacement)


def _column_pattern_call(name: str, args: list[Any], replacement: str | None
                         ) -> tuple[Any | None, bool]:
    """For a call with a column pattern: its replacement if that is a column too, and whether
    empty matches show in its answer. A literal replacement with Java escapes is refused."""
    if name != "regexp_replace" or len(args) <= 2:
        return None, name in _EMPTY_MATCHES_SHOW
    if replacement is None:
        return args[2], True
    literal_replacement_refused(name, replacement)
    return None, replacement != ""


def folded_string(text: str) -> str | None:
    """The value of a SQL string literal, or of literals joined with `concat(...)` or `||`
    (a constant the engine folds); None for anything else."""
    value = sql_string_value(text)
    if value is not None:
        return value
    found = tokens(text)
    if len(found) >= 3 and found[0].lower == "concat" and found[1].text == "(" \
            and found[-1].text == ")":
        parts, separator = found[2:-1:2], found[3:-1:2]
        if not all(t.text == "," for t in separator):
            return None
    else:
        parts, separator = found[::2], found[1::2]
        if len(parts) < 2 or not all(t.text == "||" for t in separator):
            return None
    values = [sql_string_value(t.text) if t.kind == "string" else None for t in parts]
    return None if any(v is None for v in values) else "".join(v or "" for v in values)


def _string_literal(column: Any) -> str | None:
    """A DataFrame string literal's value (`F.regexp_replace(c, '\\\\d', '')` passes literals),
    or literals joined by `F.concat` (a constant the engine folds), else None."""
    plan = getattr(getattr(column, "_expr", None), "_plan", None)
    if plan is None:
        plan = column._expr.to_plan(None)
    return _folded_plan_string(plan)


def _folded_plan_string(plan: Any) -> str | None:
    kind = plan.WhichOneof("expr_type")
    if kind == "literal":
        return str(plan.literal.string) if plan.literal.WhichOneof(
            "literal_type") == "string" else None
    if kind == "unresolved_function" and plan.unresolved_function.function_name == "concat" \
            and not plan.unresolved_function.is_distinct:
        parts = [_folded_plan_string(a) for a in plan.unresolved_function.arguments]
        return None if not parts or any(p is None for p in parts) else "".join(
            p or "" for p in parts)
    return None


def _regex_column(name: str) -> Any:
    def rewrite(args: list[Any], _: list[DataType | None]) -> Any | None:
        result = _column_call(name, args)
        if name == "regexp_count" and len(args) == 2:
            return (result if result is not None else F.regexp_count(*args)).cast("int")
        if name == "regexp_substr" and len(args) == 2:
            return F.nullif(result if result is not None else F.regexp_substr(*args), F.lit(""))
        return result

    return rewrite


def _column_call(name: str, args: list[Any]) -> Any | None:
    if len(args) < 2:
        return None
    pattern = _string_literal(args[1])
    replaced = name == "regexp_replace" and len(args) > 2
    replacement = _string_literal(args[2]) if replaced else None
    if pattern is None:
        return _guarded_column_call(name, args, replacement)
    plan = literal_call(name, pattern, replacement, _index(name, args))
    if not plan.changed and not (replaced and replacement is None):
        return None
    rewritten = list(args)
    rewritten[1] = F.lit(plan.pattern)
    if plan.replacement is not None:
        rewritten[2] = F.lit(plan.replacement)
    if plan.whole_match_group:
        rewritten[2:] = [F.lit(1)]
    call = F.call_function(_called(name, plan), *rewritten)
    if plan.terminator_group is not None:
        terminator = F.call_function("regexp_extract", args[0], rewritten[1],
                                     F.lit(plan.terminator_group))
        call = F.when(F.size(call) > 1, F.concat(F.slice(call, F.lit(1), F.size(call) - 1),
                                                 F.array(terminator))).otherwise(call)
    if replaced and replacement is None:  # a literal pattern, a replacement column
        call = replacement_guarded_column(name, args[2], call)
    if plan.guard_text is not None:
        call = literal_guarded_column(name, pattern, args[0], call, plan.guard_text,
                                      plan.guard_reason)
    return call


def _integer_literal(column: Any) -> str | None:
    """A DataFrame integer literal's value as text, else None."""
    found = column_literal(column)
    return str(found[1]) if found is not None and found[0] in ("integer", "long", "short") \
        else None


def _guarded_column_call(name: str, args: list[Any], replacement: str | None) -> Any:
    column_replacement, empty_matters = _column_pattern_call(name, args, replacement)
    return guarded_column(name, args[0], args[1], F.call_function(name, *args),
                          empty_matters=empty_matters, replacement=column_replacement)


def translate_regex_operators(text: str) -> str:
    """`x RLIKE '<Java pattern>'` (and `REGEXP`) with the literal pattern in Rust's syntax."""
    lowered = text.lower()
    if "rlike" not in lowered and "regexp" not in lowered:
        return text  # (tokenizing every text costs more than the rest of most rewrites)
    found = tokens(text)
    spans: list[tuple[int, int, str]] = []
    for index, (operator, operand) in enumerate(zip(found, found[1:], strict=False)):
        if operator.kind != "word" or operator.lower not in _OPERATORS or \
                operand.text == "(" and _is_call(found, index):
            continue
        pattern = sql_string_value(operand.text) if operand.kind == "string" else None
        if operand.kind != "string" or (
                pattern is not None and literal_call("rlike", pattern, None, None).guard_text):
            spans.append(_guarded_operation(text, found, index))  # as rlike(x, p)
            continue
        if pattern is None:
            continue
        translated = translate_pattern(pattern, match_only=True)
        if translated.rust != pattern:
            literal = sql_string(translated.rust)
            name = _unaliased_operation_name(found, index, pattern)
            if name is not None:  # the column keeps Spark's name, which shows the pattern
                literal += f" AS `{name.replace('`', '``')}`"
            spans.append((operand.start, operand.end, literal))
    for start, end, literal in reversed(spans):
        text = text[:start] + literal + text[end:]
    return text


def _is_call(found: list[Any], index: int) -> bool:
    """Whether `regexp` / `rlike` at `index` (before a `(`) is a function call, not the
    operator: the operator follows an operand (a name, a literal, a closing bracket)."""
    if index == 0:
        return True
    before = found[index - 1]
    if before.text in (")", "]"):
        return False
    return before.kind not in ("word", "quoted", "string", "number") or (
        before.kind == "word" and before.lower in KEYWORDS)


_OPERAND = ("word", "quoted")
# Tokens that bind an operand tighter than RLIKE does (its operand is then more than a name)
_TIGHTER = frozenset({"||", "+", "-", "*", "/", "%", "&", "|", "^", "::", "(", "[", ".", "div",
                      "collate"})


def _guarded_operation(text: str, found: list[Any], index: int) -> tuple[int, int, str]:
    """`column [NOT] RLIKE pattern_column` as the call `rlike(column, pattern_column)`, which
    its rule guards (`regex_guard`); operands that are more than (qualified) names are
    refused: write rlike(x, pattern)."""
    negated = index > 0 and found[index - 1].lower == "not"
    left_end = index - 2 if negated else index - 1
    left_start = _name_start(found, left_end)
    right_end = index + 1 if found[index + 1].kind == "string" else _name_end(found, index + 1)
    after = found[right_end + 1] if right_end + 1 < len(found) else None
    before = found[left_start - 1] if left_start is not None and left_start > 0 else None
    if left_start is None or right_end < 0 or (after is not None and after.lower in _TIGHTER) \
            or (before is not None and before.lower in _TIGHTER - {"("}):
        raise NotSupportedYet(
            f"`... {found[index].text.upper()} {found[index + 1].text} ...`: lakesmith guards "
            "this pattern (Java's and Rust's regex read some of its constructs differently on "
            "some texts) in the form rlike(text, pattern) only, or after a column name.",
            hint="write rlike(text, pattern) (or NOT rlike(text, pattern)).")
    left = text[found[left_start].start:found[left_end].end]
    right = text[found[index + 1].start:found[right_end].end]
    guarded = f"rlike({left}, {right})"
    if negated:
        guarded = f"(NOT {guarded})"
    name = _unaliased_column_operation_name(found, left_start, right_end, negated, left, right)
    if name is not None:
        guarded += f" AS `{name.replace('`', '``')}`"
    return found[left_start].start, found[right_end].end, guarded


def _name_start(found: list[Any], end: int) -> int | None:
    """The first token of the (qualified) name ending at token `end`, or None."""
    if end < 0 or found[end].kind not in _OPERAND:
        return None
    start = end
    while start >= 2 and found[start - 1].text == "." and found[start - 2].kind in _OPERAND:
        start -= 2
    return start


def _name_end(found: list[Any], start: int) -> int:
    """The last token of the (qualified) name starting at token `start`, or -1."""
    if start >= len(found) or found[start].kind not in _OPERAND:
        return -1
    end = start
    while end + 2 < len(found) and found[end + 1].text == "." and \
            found[end + 2].kind in _OPERAND:
        end += 2
    return end


def _unaliased_column_operation_name(found: list[Any], left_start: int, right_end: int,
                                     negated: bool, left: str, right: str) -> str | None:
    """Spark's name of a whole unaliased SELECT item `a [NOT] RLIKE b`."""
    before = found[left_start - 1] if left_start > 0 else None
    after = found[right_end + 1] if right_end + 1 < len(found) else None
    if before is None or not (before.lower in ("select", "distinct") or before.text == ","):
        return None
    if after is not None and not (after.text == "," or after.lower == "from"):
        return None
    shown = sql_string_value(right)
    call = f"RLIKE({left.replace('`', '')}, {right.replace('`', '') if shown is None else shown})"
    return f"(NOT {call})" if negated else call


def _unaliased_operation_name(found: list[Any], index: int, pattern: str) -> str | None:
    """Spark's name of `column [NOT] RLIKE 'p'` when it is a whole unaliased SELECT item
    (`RLIKE(column, p)`, `(NOT RLIKE(column, p))`); None otherwise (other operands, aliased)."""
    negated = index > 0 and found[index - 1].lower == "not"
    left = index - 2 if negated else index - 1
    if left < 1 or found[left].kind not in ("word", "quoted"):
        return None
    before = found[left - 1]
    after = found[index + 2] if index + 2 < len(found) else None
    if not (before.lower in ("select", "distinct") or before.text == ","):
        return None
    if after is not None and not (after.text == "," or after.lower == "from"):
        return None
    column = found[left].text.strip("`")
    call = f"RLIKE({column}, {pattern})"  # REGEXP too
    return f"(NOT {call})" if negated else call


# Spark's name of an unaliased call: its pretty name, the arguments' values, and the defaults
# of the arguments left out (Spark 4.3).
_PRETTY = {"rlike": "RLIKE", "regexp": "REGEXP", "regexp_like": "REGEXP_LIKE"}
_DEFAULTS = {"regexp_replace": ("1",), "regexp_extract": ("1",), "regexp_extract_all": ("1",),
             "regexp_instr": ("0",), "split": ("-1",)}


def _spark_name(name: str) -> Any:
    def named(args: list[str]) -> str | None:
        shown = []
        for arg in args:
            value = sql_string_value(arg)
            shown.append(value if value is not None else " ".join(arg.split()))
        defaults = _DEFAULTS.get(name, ())
        missing = 2 + len(defaults) - len(args) if name != "regexp_replace" \
            else 4 - len(args)
        if missing > 0:
            shown += list(defaults[len(defaults) - missing:])
        return f"{_PRETTY.get(name, name)}({', '.join(shown)})"

    return named


REGEX_RULES: tuple[Rule, ...] = tuple(
    Rule(frozenset({name}), _DIFFERENCE + (
        "; regexp_count returns BIGINT, Spark INT" if name == "regexp_count" else
        "; regexp_substr of an empty match is '', Spark's NULL" if name == "regexp_substr" else ""),
        _regex_sql(name), _regex_column(name), sql_name=_spark_name(name))
    for name in sorted(PATTERN_FUNCTIONS))
