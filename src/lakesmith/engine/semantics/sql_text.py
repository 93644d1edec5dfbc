"""Spark SQL text read as Spark's lexer reads it: where string literals, quoted identifiers and
comments are, and where a function is called with which arguments, with their offsets, so a
rewrite replaces exactly one call and leaves every other character as the user wrote it.

Why not regenerate the query with sqlglot: a regenerated query gets new auto-generated column
names and identifier spellings, and sqlglot itself reads `'it''s'` as two literals."""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Call:
    """`name(arg, ...)` in a text: the call's span and each argument's span."""

    name: str
    start: int
    end: int  # one past the closing parenthesis
    args: tuple[tuple[int, int], ...]

    def arg_texts(self, text: str) -> list[str]:
        return [text[a:b].strip() for a, b in self.args]


def _skip_quoted(text: str, i: int) -> int:
    """From an opening quote at `i`, one past the closing one (backslash escapes honoured)."""
    quote = text[i]
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\" and quote != "`":
            i += 2
            continue
        if c == quote:
            if quote == "`" and text[i + 1:i + 2] == "`":
                i += 2
                continue
            return i + 1
        i += 1
    return i


def _skip_comment(text: str, i: int) -> int | None:
    if text.startswith("--", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end
    if text.startswith("/*", i):
        end = text.find("*/", i + 2)
        return len(text) if end < 0 else end + 2
    return None


def _skip_literal(text: str, i: int) -> int | None:
    """One past the comment or quoted literal / identifier starting at i; None if none does."""
    comment_end = _skip_comment(text, i)
    if comment_end is not None:
        return comment_end
    return _skip_quoted(text, i) if text[i] in "'\"`" else None


def escape_doubled_quotes(text: str) -> str:
    """`'it''s'` → `'it\\'s'` (and the same in double-quoted strings): Spark reads a doubled quote
    inside a string literal as one quote; the engine reads two literals and concatenates them.
    Literals separated by whitespace (`'a' 'b'`) stay two literals, as in Spark."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        comment_end = _skip_comment(text, i)
        if comment_end is not None:
            out.append(text[i:comment_end])
            i = comment_end
        elif c in "'\"" and not _raw_prefix(text, i):
            end = _skip_quoted(text, i)
            literal = text[i:end]
            while end < len(text) and text[end] == c and literal.endswith(c):
                # a doubled quote: the literal goes on
                more = _skip_quoted(text, end)
                literal = literal[:-1] + "\\" + c + text[end + 1:more]
                end = more
            out.append(literal)
            i = end
        elif c == "`":
            end = _skip_quoted(text, i)
            out.append(text[i:end])
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _raw_prefix(text: str, i: int) -> bool:
    return i > 0 and text[i - 1] in "rR" and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] == "_"))


def find_calls(text: str, names: frozenset[str]) -> list[Call]:
    """Every call of a function in `names` (lower case), outermost first in text order; calls
    nested in another's arguments are found too."""
    calls: list[Call] = []
    i = 0
    while i < len(text):
        skipped = _skip_literal(text, i)
        if skipped is not None:
            i = skipped
            continue
        match = _IDENT.match(text, i)
        if match is None:
            i += 1
            continue
        word_end = match.end()
        j = word_end
        while j < len(text) and text[j].isspace():
            j += 1
        preceded_by_dot = i > 0 and text[i - 1] == "."
        if match.group().lower() in names and j < len(text) and text[j] == "(" \
                and not preceded_by_dot:
            parsed = _arguments(text, j)
            if parsed is not None:
                args, end = parsed
                if match.group().lower() in ("cast", "try_cast") and args:
                    # one operand, whatever commas its type has (`MAP<STRING, INT>`)
                    args = _cast_operands(text, (args[0][0], args[-1][1]))
                calls.append(Call(match.group().lower(), i, end, args))
        i = word_end
    return calls


_AS = re.compile(r"\bas\b", re.IGNORECASE)


def _cast_operands(text: str, span: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """`x AS type` inside CAST(...): the spans of x and of the type (the last top-level AS)."""
    start, end = span
    depth = 0
    split = None
    i = start
    while i < end:
        c = text[i]
        if c in "'\"`":
            i = _skip_quoted(text, i)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif depth == 0 and _AS.match(text, i) and (i == start or not text[i - 1].isalnum()):
            split = i
        i += 1
    if split is None:
        return (span,)
    return ((start, split), (split + 2, end))


def _arguments(text: str, open_paren: int) -> tuple[tuple[tuple[int, int], ...], int] | None:
    """The top-level argument spans of the call whose `(` is at `open_paren`, and its end."""
    depth = 0
    args: list[tuple[int, int]] = []
    start = open_paren + 1
    i = open_paren
    while i < len(text):
        skipped = _skip_literal(text, i)
        if skipped is not None:
            i = skipped
            continue
        c = text[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
            if depth == 0:
                if text[start:i].strip():
                    args.append((start, i))
                return tuple(args), i + 1
        elif c == "," and depth == 1:
            args.append((start, i))
            start = i + 1
        i += 1
    return None


_ITEM_START = re.compile(r"(?:\bselect|\bdistinct|\ball|,)\s*$", re.IGNORECASE | re.DOTALL)
_ITEM_END = re.compile(r"\s*(?:,|\bfrom\b|$)", re.IGNORECASE)


def is_unaliased_select_item(text: str, call: Call) -> bool:
    """Whether the call is a whole SELECT item with no alias (its column is named after it), at
    the same parenthesis depth as the SELECT that lists it."""
    if not _ITEM_END.match(text, call.end):
        return False
    depth = 0
    i = call.start - 1
    prefix = text[:call.start]
    if not _ITEM_START.search(prefix):
        return False
    while i >= 0:  # the nearest SELECT at this depth, without leaving the parentheses
        c = text[i]
        if c == ")":
            depth += 1
        elif c == "(":
            if depth == 0:
                return False
            depth -= 1
        elif depth == 0 and text[i:i + 6].lower() == "select" and \
                (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            return True
        i -= 1
    return False


_OVER = re.compile(r"\s*over\b\s*", re.IGNORECASE)
_FILTER = re.compile(r"\s*filter\s*(?=\()", re.IGNORECASE)
_WINDOW = re.compile(r"(?:^|\))\s*over\b", re.IGNORECASE)


def window_after(text: str, end: int) -> tuple[str, int]:
    """The clauses that apply to an aggregate call ending at `end` — `FILTER (WHERE ...)`, then
    `OVER (...)` / `OVER name` — and where they end; ("", end) when there are none. A rewrite
    puts them after each aggregate it makes."""
    filtered = _FILTER.match(text, end)
    if filtered is not None:
        parsed = _arguments(text, filtered.end())
        if parsed is not None:
            close = parsed[1]
            window, window_end = _over_after(text, close)
            return " " + text[end:close].strip() + window, window_end
    return _over_after(text, end)


def is_window(clauses: str) -> bool:
    """Whether the clauses after a call (`window_after`) make it a window function."""
    return _WINDOW.search(clauses) is not None


def _over_after(text: str, end: int) -> tuple[str, int]:
    match = _OVER.match(text, end)
    if match is None:
        return "", end
    i = match.end()
    if i < len(text) and text[i] == "(":
        parsed = _arguments(text, i)
        if parsed is None:
            return "", end
        close = parsed[1]
        return " " + text[end:close].strip(), close
    name = _IDENT.match(text, i)
    if name is None:
        return "", end
    return " " + text[end:name.end()].strip(), name.end()
