"""How a regexp function call with a literal pattern gets Java's answer from the engine: the
pattern (and a literal replacement) in Rust's syntax (`java_regex`), a final `$` made exact
where it can be (`final_dollar`), and otherwise a guard or a refusal:
* line anchors Rust cannot read as Java does (a `$` that is not a solid final one, `(?m)`) fail
  the rows whose text holds `\\r`, U+0085, U+2028, U+2029 or ends with `\\n`; the rest agree;
* where every match counts (`regexp_count`, `split`, `regexp_extract_all`, `regexp_replace`
  with a non-empty replacement), a pattern that can match the empty string is refused before
  anything runs: Java reports an empty match right after another match, Rust skips it
  (`regexp_count('aab', 'a*')` is 3 on Spark, 2 on the engine)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lakesmith.engine.semantics.final_dollar import TERMINATOR, solid_end
from lakesmith.engine.semantics.java_regex import (
    JavaReplacementError,
    translate_pattern,
    translate_replacement,
)
from lakesmith.errors import NotSupportedYet

MATCH_ONLY = frozenset({"rlike", "regexp", "regexp_like"})
# Every match counts in these (and in regexp_replace with a non-empty replacement).
EMPTY_MATCHES_SHOW = frozenset({"regexp_count", "split", "regexp_extract_all"})
_EXTRACTS = frozenset({"regexp_extract", "regexp_extract_all"})
# Rows whose text Java's line anchors read differently from Rust's
LINE_TEXT = r"[\x0D\x{85}\x{2028}\x{2029}]|\x0A\z"
CRLF_TEXT = r"\x0D\x0A\z"
# A pattern that can only match empty strings: no empty match follows another match
_ANCHORS_ONLY = re.compile(r"(?:\^|\$|\\[AzbBG]|\(\?[a-zA-Z-]*\))*")


@dataclass(frozen=True)
class LiteralCall:
    """The rewrite of one call with a literal pattern."""

    pattern: str  # in Rust's syntax
    replacement: str | None  # in Rust's syntax (None: no literal replacement)
    changed: bool  # whether anything differs from the call as written
    whole_match_group: bool = False  # the whole match is extracted as group 1
    # split: the pattern's group holding the final line terminator its `$` consumed, which
    # becomes the last piece (Java's `$` matches before it and leaves it to the last piece)
    terminator_group: int | None = None
    guard_text: str | None = None  # rows whose text matches this fail (`regex_guard`)
    guard_reason: str = ""


def literal_call(name: str, java: str, replacement: str | None,
                 index: int | None) -> LiteralCall:
    """`name(text, java[, replacement | index])` with Java's answers. `index`: the literal group
    index of an extraction (1 when not given), None when it is not a literal."""
    translated = translate_pattern(java, match_only=name in MATCH_ONLY)
    rust = translated.rust
    rust_replacement = None
    if replacement is not None:
        try:
            rust_replacement = translate_replacement(replacement, translated)
        except JavaReplacementError as error:
            raise _refused(replacement, error) from error
    if name in EMPTY_MATCHES_SHOW or (name == "regexp_replace" and replacement != ""):
        _refuse_empty_matches(name, java, rust)
    whole_match = False
    guard, reason = None, ""
    terminator: int | None = None
    if translated.line_anchors:
        final = translated.final_dollar and translated.line_anchors == 1
        solid = final and solid_end(java)
        exact = solid and not (
            name == "regexp_replace" and rust_replacement is None) and not (
            name in _EXTRACTS and index is None)
        if name in MATCH_ONLY:
            if final and not solid:  # `Q$` where Q may end with \r: not between \r and \n
                guard, reason = CRLF_TEXT, _CRLF_REASON
            elif not final:
                guard, reason = LINE_TEXT, _LINE_REASON
        elif exact:
            q = rust[:-1]
            if name == "regexp_replace":
                rust = f"{q}({TERMINATOR}?)\\z"  # the terminator, given back by the replacement
                rust_replacement = f"{rust_replacement}${{{translated.groups + 1}}}"
            elif name == "split":
                # A final `$` matches at most once, at the end: the last piece is the
                # terminator Java leaves after the match (`split_terminator_sql`).
                rust, terminator = f"{q}({TERMINATOR}?)\\z", translated.groups + 1
            elif name == "regexp_substr" or (name in _EXTRACTS and index == 0):
                rust, whole_match = f"({q})(?:{TERMINATOR})?\\z", True
            else:
                rust = f"{q}(?:{TERMINATOR})?\\z"
        else:
            guard, reason = LINE_TEXT, _LINE_REASON
    changed = rust != java or rust_replacement != replacement or guard is not None
    return LiteralCall(rust, rust_replacement, changed, whole_match, guard_text=guard,
                       guard_reason=reason, terminator_group=terminator)


_LINE_REASON = ("holds $ or (?m) and the row's text holds \\r, U+0085, U+2028, U+2029 or ends "
                "with \\n (Java's $ also matches before a final line terminator, and its (?m) "
                "knows them all; Rust's only \\n)")
_CRLF_REASON = ("ends with $ and the row's text ends with \\r\\n (Java's $ never matches "
                "between \\r and \\n)")


def _refused(java: str, error: JavaReplacementError) -> NotSupportedYet:
    return NotSupportedYet(
        f"the replacement string '{java}' of regexp_replace: {error} (java.util.regex reads "
        "\\ as an escape and $ as a group reference; Spark fails the query with "
        "INVALID_REGEXP_REPLACE on the first row that matches).",
        hint="write \\$ for a literal $ and \\\\ for a literal backslash; $n or ${name} refer "
        "to the pattern's groups.")


def _refuse_empty_matches(name: str, java: str, rust: str) -> None:
    # (split differs even then: Java's never splits at a zero-width match at the start)
    if _ANCHORS_ONLY.fullmatch(java) and name != "split":
        return
    word_boundary = re.search(r"\\[bB]", java) and re.search(r"[*?]|\{0", java)
    if not word_boundary and not matches_empty(rust):
        return
    raise NotSupportedYet(
        f"{name} with the pattern '{java}': it can match an empty string, and java.util.regex "
        "(Spark) reports an empty match right after another match where the engine's Rust "
        "regex skips it (regexp_count('aab', 'a*') is 3 on Spark, 2 on the engine), and "
        "Java's split never splits at an empty match at the start.",
        hint="make the pattern match at least one character (a+ rather than a*), or use "
        "regexp_replace with an empty replacement.")


_WIDE_HEX = re.compile(r"\\x\{([0-9A-Fa-f]+)\}")
_NAMED = re.compile(r"\(\?<(?![=!])")
_PROPERTY = re.compile(r"\\[pP](?:\{[^}]*\}|[A-Za-z])")


def _classes_as_x(rust: str) -> str:
    """The pattern with each `[...]` class as `x`: a class is one character, but Python's `re`
    does not read the engine's nested classes (`[[A-Za-z]_]`: a class, then `_]`)."""
    out: list[str] = []
    i, depth = 0, 0
    while i < len(rust):
        c = rust[i]
        if c == "\\":
            if depth == 0:
                out.append(rust[i:i + 2])
            i += 2
            continue
        if c == "[":
            depth += 1
            i += 1
            if rust.startswith("^", i):
                i += 1
            if rust.startswith("]", i):  # a leading ']' is a literal
                i += 1
            continue
        if c == "]" and depth > 0:
            depth -= 1
            if depth == 0:
                out.append("x")
        elif depth == 0:
            out.append(c)
        i += 1
    return "".join(out) if depth == 0 else rust


def matches_empty(rust: str) -> bool:
    """Whether the Rust pattern matches the empty text (Python's `re` reads the constructs
    lakesmith's translations use the same way); True when Python cannot read it."""
    python = _WIDE_HEX.sub(lambda m: f"\\U{int(m.group(1), 16):08X}", _classes_as_x(rust))
    python = _PROPERTY.sub("x", python)  # one character of a class: never empty
    python = _NAMED.sub("(?P<", python.replace("\\z", "\\Z").replace("(?-u:", "(?:"))
    try:
        return re.search(python, "") is not None
    except re.error:
        return True
