"""A regular expression given as a column (`regexp_replace(s, p, r)` with `p` from a lookup or
configuration table): the engine's Rust regex reads it, with Java's meaning where the two agree,
and a row where they could disagree fails with an error naming the function and the pattern.

Why a guard and not a translation: a translation must know, for every construct, whether it is
inside a character class, escaped, or under an inline flag — a parser the engine cannot run per
row in SQL. The guard only has to recognise the few constructs whose meaning differs, and most
of them differ only on some texts, so it looks at the row's text too:
* always refused: constructs the two read differently whatever the text (`\\p{...}`, `\\Q...\\E`,
  `\\<`, possessive quantifiers `a*+`, `[:alpha:]`, class operators `--` `~~`, inline flags other
  than `i m s`, lookaround, back references and other escapes Rust lacks, a non-ASCII character
  under `(?i)`);
* refused when the text holds a character they read differently: `\\s` (and `\\S`) a non-ASCII
  space, `\\d` a non-ASCII digit, `\\w \\b` a non-ASCII letter, digit or mark (Java's classes
  are ASCII's, Rust's Unicode's), `(?i)` the long s or the Kelvin sign (Rust folds them into s
  and k), `.` a line terminator other than `\\n`, `$` and `(?m)` one too or a final `\\n` (Java's
  `$` also matches before a final line terminator);
* where empty matches show (`regexp_count`, `split`, `regexp_extract_all`, a non-empty
  replacement): refused when the pattern matches the empty string or uses `\\b`, because Java
  reports an empty match right after another match and Rust does not;
* a replacement given as a column is refused on a row holding `\\` or `$` (Java's escapes and
  group references), as is a literal one with a column pattern (the groups it refers to are the
  row's).

The guard's own patterns read the same in Java and Rust (`java_regex` leaves them unchanged)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import functions as F

from lakesmith.errors import NotSupportedYet
from lakesmith.sql_literal import sql_string

# A position not escaped: after the start or a character that is not a backslash, and pairs of
# backslashes (escaped backslashes).
_UNESCAPED = r"(?:\A|[^\x5C])(?:\x5C\x5C)*"
# (?i) with a non-ASCII letter in the pattern: Rust folds the Kelvin sign into k, the long s
# into s (ASCII texts too); Java folds ASCII letters only
_FOLDED = r"\(\?[ms-]*i(?s:.)*[^\x00-\x7F]|[^\x00-\x7F](?s:.)*\(\?[ms-]*i"
_ALWAYS = "|".join([
    _FOLDED,
    _UNESCAPED + r"\x5C(?:[0-9ceghijklmopqvyCEFGHIJKLMNOPQRTUVXYZ<>]|[^\x00-\x7F]|[bB]\{)",
    _UNESCAPED + r"[*+?}]\+",
    r"\[:",
    r"\[[^\]]*(?:--|~~)",
    r"\(\?(?:[=!>]|<[=!])",
    r"\(\?[ims-]*[a-hj-ln-rt-zA-Z]",
])
# Each construct whose Java meaning is ASCII's or Java's line terminators', with the texts on
# which Rust's Unicode meaning answers otherwise
_SPACES = _UNESCAPED + r"\x5C[sS]"
_NON_ASCII_SPACE = r"[\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]"
_DIGITS = _UNESCAPED + r"\x5C[dD]"
_NON_ASCII_DIGIT = r"[\p{Nd}&&[^\x00-\x7F]]"
_WORDS = _UNESCAPED + r"\x5C[wWbB]"
_NON_ASCII_WORD = r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}&&[^\x00-\x7F]]"
_CASE = r"\(\?[ms-]*i"
_FOLDING = r"[\x{17F}\x{212A}]"  # the long s and the Kelvin sign: Rust folds them into s, k
_DOT = _UNESCAPED + r"\."
_DOT_TEXT = r"[\x0D\x{85}\x{2028}\x{2029}]"
_LINES = _UNESCAPED + r"\$|\(\?[is-]*m"
_LINE_TEXT = r"[\x0D\x{85}\x{2028}\x{2029}]|\x0A\z"
_WORD_BOUNDARY = _UNESCAPED + r"\x5C[bB]"
_REPLACEMENT_ESCAPES = r"[\x5C$]"

_CLASS = "[UNSUPPORTED_FEATURE.REGEX_PATTERN]"
_WHY = ("; Spark reads patterns with java.util.regex, the engine with Rust's regex crate, and "
        "lakesmith fails the row rather than give another answer.")
_HINT = (" Write it with ASCII classes ([0-9], [A-Za-z0-9_], [ \\t\\n\\x0B\\f\\r]) and without "
         "the construct, or give the pattern as a literal, which lakesmith translates.")


@dataclass(frozen=True)
class _Check:
    """One reason to fail a row: SQL and Column conditions over (text, pattern, replacement)."""

    pattern: str  # a regex the pattern value is matched against
    text: str | None  # and one the row's text must match too (None: any text)
    message: str


_CHECKS = (
    _Check(_ALWAYS, None, "holds a construct java.util.regex and Rust's regex read differently "
           "(\\p{...}, \\Q...\\E, \\< \\>, possessive quantifiers, [:class:], inline flags other "
           "than i m s, lookaround, back references, a non-ASCII character under (?i))"),
    _Check(_SPACES, _NON_ASCII_SPACE, "holds \\s or \\S and the row's text holds a non-ASCII "
           "space (Java's \\s is [ \\t\\n\\x0B\\f\\r]; Rust's Unicode's)"),
    _Check(_DIGITS, _NON_ASCII_DIGIT, "holds \\d or \\D and the row's text holds a non-ASCII "
           "digit (Java's \\d is [0-9]; Rust's Unicode's)"),
    _Check(_WORDS, _NON_ASCII_WORD, "holds \\w \\W \\b or \\B and the row's text holds a "
           "non-ASCII letter, digit or mark (Java's \\w is [A-Za-z0-9_]; Rust's Unicode's)"),
    _Check(_CASE, _FOLDING, "holds (?i) and the row's text holds the long s or the Kelvin sign "
           "(Rust folds them into s and k; Java folds ASCII letters only)"),
    _Check(_DOT, _DOT_TEXT, "holds . and the row's text holds \\r, U+0085, U+2028 or U+2029 "
           "(Java's . stops at them; Rust's only at \\n)"),
    _Check(_LINES, _LINE_TEXT, "holds $ or (?m) and the row's text holds \\r, U+0085, U+2028, "
           "U+2029 or ends with \\n (Java's $ also matches before a final line terminator, and "
           "its (?m) knows them all; Rust's only \\n)"),
)
# A pattern none of the checks can refuse
_ANY_CHECK = "|".join(check.pattern for check in _CHECKS)
_EMPTY = ("can match an empty string (Java counts an empty match right after another match, "
          "Rust does not)")


def literal_replacement_refused(name: str, replacement: str) -> None:
    """A literal replacement beside a column pattern: its `\\` and `$` mean Java's escapes and
    the row pattern's groups, which no single Rust replacement has."""
    if "\\" in replacement or "$" in replacement:
        raise NotSupportedYet(
            f"{name} with the replacement '{replacement}' and a pattern given as a column: "
            "Java reads \\ as an escape and $n as the row's pattern's group n; lakesmith can "
            "translate that only for a literal pattern.",
            hint="give the pattern as a literal, or a replacement without \\ and $.")


def guarded_sql(name: str, text: str, pattern: str, call: str, *, empty_matters: bool,
                replacement: str | None = None) -> str:
    """`call` (SQL) with its rows failed where Java and Rust could read the column `pattern`
    differently on `text`. `replacement`: a replacement column's SQL, checked too."""
    whens = _whens_sql(name, text, pattern, empty_matters, replacement)
    cases = " ".join(f"WHEN {condition} THEN {error}" for condition, error in whens)
    if not empty_matters and replacement is None:  # most patterns: one look at the pattern
        cases = f"WHEN NOT ({pattern} RLIKE {sql_string(_ANY_CHECK)}) THEN {call} {cases}"
    return f"(CASE {cases} ELSE {call} END)"


def refused_sql(name: str, text: str, pattern: str, *, empty_matters: bool,
                replacement: str | None = None) -> str:
    """Whether `guarded_sql` fails a row, as a BOOLEAN (for checking the guard on samples)."""
    whens = _whens_sql(name, text, pattern, empty_matters, replacement)
    cases = " ".join(f"WHEN {condition} THEN true" for condition, _ in whens)
    return f"(CASE {cases} ELSE false END)"


def _whens_sql(name: str, text: str, pattern: str, empty_matters: bool,
               replacement: str | None) -> list[tuple[str, str]]:
    whens = []
    for check in _CHECKS:
        condition = f"{pattern} RLIKE {sql_string(check.pattern)}"
        if check.text is not None:
            condition += f" AND {text} RLIKE {sql_string(check.text)}"
        whens.append((condition, _message_sql(name, pattern, check.message)))
    if empty_matters:
        # (the engine may evaluate this on every row: a pattern Rust cannot compile, which
        # the first check refuses, is not compiled here)
        safe = f"CASE WHEN {pattern} RLIKE {sql_string(_ALWAYS)} THEN '' ELSE {pattern} END"
        condition = f"'' RLIKE ({safe}) OR {pattern} RLIKE {sql_string(_WORD_BOUNDARY)}"
        if replacement is not None:
            condition = f"{replacement} <> '' AND ({condition})"
        whens.append((condition, _message_sql(name, pattern, _EMPTY)))
    if replacement is not None:
        whens.append((f"{replacement} RLIKE {sql_string(_REPLACEMENT_ESCAPES)}",
                      f"raise_error(concat({sql_string(_replacement_text(name))}, "
                      f"{replacement}, {sql_string(_REPLACEMENT_END)}))"))
    return whens


def guarded_column(name: str, text: Any, pattern: Any, call: Any, *, empty_matters: bool,
                   replacement: Any | None = None) -> Any:
    """`guarded_sql` for DataFrame columns."""
    result = None

    def when(condition: Any, error: Any) -> None:
        nonlocal result
        result = F.when(condition, error) if result is None else result.when(condition, error)

    if not empty_matters and replacement is None:  # most patterns: one look at the pattern
        when(~F.regexp_like(pattern, F.lit(_ANY_CHECK)), call)

    for check in _CHECKS:
        condition = F.regexp_like(pattern, F.lit(check.pattern))
        if check.text is not None:
            condition = condition & F.regexp_like(text, F.lit(check.text))
        when(condition, _message_column(name, pattern, check.message))
    if empty_matters:
        safe = F.when(F.regexp_like(pattern, F.lit(_ALWAYS)), F.lit("")).otherwise(pattern)
        condition = F.regexp_like(F.lit(""), safe) | F.regexp_like(
            pattern, F.lit(_WORD_BOUNDARY))
        if replacement is not None:
            condition = (replacement != F.lit("")) & condition
        when(condition, _message_column(name, pattern, _EMPTY))
    if replacement is not None:
        when(F.regexp_like(replacement, F.lit(_REPLACEMENT_ESCAPES)),
             F.raise_error(F.concat(F.lit(_replacement_text(name)), replacement,
                                    F.lit(_REPLACEMENT_END))))
    assert result is not None
    return result.otherwise(call)


def replacement_guarded_sql(name: str, replacement: str, call: str) -> str:
    """`call` with a literal pattern and a replacement column: a row whose replacement holds
    `\\` or `$` fails (Java's escapes and group references)."""
    return (f"(CASE WHEN {replacement} RLIKE {sql_string(_REPLACEMENT_ESCAPES)} THEN "
            f"raise_error(concat({sql_string(_replacement_text(name))}, {replacement}, "
            f"{sql_string(_REPLACEMENT_END)})) ELSE {call} END)")


def replacement_guarded_column(name: str, replacement: Any, call: Any) -> Any:
    """`replacement_guarded_sql` for DataFrame columns."""
    return F.when(F.regexp_like(replacement, F.lit(_REPLACEMENT_ESCAPES)), F.raise_error(
        F.concat(F.lit(_replacement_text(name)), replacement, F.lit(_REPLACEMENT_END)))
    ).otherwise(call)


def literal_guarded_sql(name: str, java: str, text: str, call: str, guard_text: str,
                        reason: str) -> str:
    """`call` (a literal pattern's) with the rows whose `text` matches `guard_text` failed."""
    message = f"{_CLASS} {name}: the pattern '{java}' {reason}{_WHY}"
    return (f"(CASE WHEN {text} RLIKE {sql_string(guard_text)} THEN "
            f"raise_error({sql_string(message)}) ELSE {call} END)")


def literal_guarded_column(name: str, java: str, text: Any, call: Any, guard_text: str,
                           reason: str) -> Any:
    """`literal_guarded_sql` for DataFrame columns."""
    message = f"{_CLASS} {name}: the pattern '{java}' {reason}{_WHY}"
    return F.when(F.regexp_like(text, F.lit(guard_text)), F.raise_error(F.lit(message))
                  ).otherwise(call)


def _message_start(name: str) -> str:
    return f"{_CLASS} {name}: the pattern '"


def _message_end(message: str) -> str:
    return f"' (a column's value) {message}{_WHY}{_HINT}"


def _message_sql(name: str, pattern: str, message: str) -> str:
    return (f"raise_error(concat({sql_string(_message_start(name))}, {pattern}, "
            f"{sql_string(_message_end(message))}))")


def _message_column(name: str, pattern: Any, message: str) -> Any:
    return F.raise_error(F.concat(F.lit(_message_start(name)), pattern,
                                  F.lit(_message_end(message))))


def _replacement_text(name: str) -> str:
    return f"{_CLASS} {name}: the replacement '"


_REPLACEMENT_END = ("' (a column's value) holds \\ or $, which Java reads as an escape and a "
                    "group reference and Rust's regex otherwise" + _WHY +
                    " Give the replacement as a literal, or without \\ and $.")
