"""Java's final `$` in Rust's syntax, for the functions that use the match itself (replace,
extract, count, instr, substr, split), not only whether there is one (`RLIKE`).

Java's `$` without MULTILINE matches at the end of the text and before a final line terminator
(`\\r\\n`, `\\n`, `\\r`, U+0085, U+2028, U+2029); Rust's only at the end, and Rust has no
lookahead to say "before". So the translation consumes the terminator: `Q$` becomes
`Q(T?)\\z`, and each function gives the terminator back (a replacement ends with the group
holding it; an extraction of the whole match wraps `Q` in a group of its own).

That is exact when `Q` always ends with a character that is not a line terminator (`b$`,
`\\.csv$`, `[0-9]{4}$`, `(\\w+)\\.(csv|txt)$`): then `Q` can match at most once at the end, never
between `\\r` and `\\n`, and nothing is left for Java to match inside the terminator. Such a
pattern is *solid* at its end (`solid_end`); others (`\\s*$`, `.*$`, `a|b$`) are guarded instead
(`regex_guard`: rows whose text ends with a line terminator fail)."""

from __future__ import annotations

import re

# A final line terminator, as Java's `$` sees it (the same text in Java and Rust)
TERMINATOR = r"(?:\r\n|[\n\r\x{85}\x{2028}\x{2029}])"
_TERMINATORS = frozenset("\n\r\x85\u2028\u2029")
# \p{...} classes without a line terminator
_SOLID_PROPERTIES = frozenset({"Alpha", "Digit", "Alnum", "Upper", "Lower", "Punct", "Graph",
                               "XDigit", "L", "Lu", "Ll", "N", "Nd"})
_QUANTIFIER = re.compile(r"(?:[*+?]|\{(\d+)(?:,\d*)?\})[?+]?")


def solid_end(java: str) -> bool:
    """Whether every match of `java` (a pattern ending with `$`, without it) ends with one
    character that is not a line terminator."""
    if re.search(r"\(\?[a-zA-Z-]*s", java):  # DOTALL: `.` matches terminators
        return False
    text = java.removesuffix("$")
    # a top-level alternative without the `$` matches anywhere, inside the terminator too
    return "|" not in _items(text) and _solid(text)


def _solid(text: str) -> bool:
    items = _items(text)
    if not items:
        return False
    if any(item == "|" for item in items):
        return all(_solid(branch) for branch in _branches(text))
    atom, quantifier = _split_quantifier(items[-1])
    if quantifier:
        match = _QUANTIFIER.fullmatch(quantifier)
        if match is None or quantifier[0] in "*?" or (match.group(1) is not None
                                                      and int(match.group(1)) == 0):
            return False
    return _solid_atom(atom)


def _solid_atom(atom: str) -> bool:
    if atom.startswith("("):
        inner = atom[1:-1]
        if inner.startswith("?"):
            named = re.match(r"\?<[A-Za-z][A-Za-z0-9]*>", inner)
            flags = re.match(r"\?[a-zA-Z-]*:", inner)
            if named is None and flags is None:
                return False  # lookaround, atomic group, flags only
            inner = inner[(named or flags).end():]  # type: ignore[union-attr]
        return _solid(inner)
    if atom.startswith("["):
        return _solid_class(atom)
    if atom.startswith("\\"):
        return _solid_escape(atom)
    return atom not in _TERMINATORS and atom not in ("^", "$")


def _solid_escape(escape: str) -> bool:
    e = escape[1:2]
    if e in ("d", "w", "t", "f", "a", "e"):
        return True
    if e in ("p",) and escape[2:3] == "{":
        return escape[3:-1] in _SOLID_PROPERTIES
    return e.isascii() and not e.isalnum() and e != " " and len(escape) == 2


def _solid_class(text: str) -> bool:
    body = text[1:-1]
    if body.startswith("^") or "[" in body or "&&" in body:
        return False
    members: list[str] = []
    i = 0
    while i < len(body):
        if body[i] == "\\":
            escape = body[i:i + 2]
            if escape[1:] in ("d", "w", "t") or (escape[1:].isascii() and not escape[1:].isalnum()
                                                  and escape[1:] != " "):
                members.append(escape[1:] if not escape[1:].isalpha() else "a")
                i += 2
                continue
            return False
        members.append(body[i])
        i += 1
    for index, member in enumerate(members):
        if member == "-" and 0 < index < len(members) - 1:
            low, high = ord(members[index - 1]), ord(members[index + 1])
            if any(low <= ord(t) <= high for t in _TERMINATORS):
                return False
        elif member in _TERMINATORS:
            return False
    return bool(members)


def _split_quantifier(item: str) -> tuple[str, str]:
    if item.startswith("\\"):
        size = _escape_size(item, 0)
        return item[:size], item[size:]
    if item.startswith(("(", "[")):
        end = _closing(item, 0) + 1
        return item[:end], item[end:]
    return item[:1], item[1:]


def _items(text: str) -> list[str]:
    """The top-level items of `text` (atoms with their quantifiers, and `|`)."""
    items: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            end = i + _escape_size(text, i)
        elif c in "([":
            end = _closing(text, i) + 1
        elif c in "*+?{" and items and items[-1] != "|":
            match = _QUANTIFIER.match(text, i)
            end = match.end() if match else i + 1
            items[-1] += text[i:end]
            i = end
            continue
        else:
            end = i + 1
        items.append(text[i:end])
        i = end
    return items


def _branches(text: str) -> list[str]:
    branches, start, depth, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += _escape_size(text, i)
            continue
        if c == "[":
            i = _closing(text, i) + 1
            continue
        depth += c == "("
        depth -= c == ")"
        if c == "|" and depth == 0:
            branches.append(text[start:i])
            start = i + 1
        i += 1
    return [*branches, text[start:]]


def _escape_size(text: str, i: int) -> int:
    if text.startswith(("\\x{", "\\p{", "\\P{", "\\N{"), i):
        end = text.find("}", i)
        return (end + 1 - i) if end > 0 else len(text) - i
    if text.startswith("\\x", i):
        return 4
    if text.startswith("\\u", i):
        return 6
    if text.startswith(("\\p", "\\P"), i):
        return 3
    if text.startswith("\\Q", i):
        end = text.find("\\E", i)
        return (end + 2 - i) if end > 0 else len(text) - i
    return 2


def _closing(text: str, i: int) -> int:
    """The index of the `)` or `]` closing the group or class opened at i (or the last index)."""
    opening = text[i]
    closing = ")" if opening == "(" else "]"
    depth = 0
    j = i
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += _escape_size(text, j)
            continue
        if opening == "(" and c == "[":
            j = _closing(text, j) + 1
            continue
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return len(text) - 1
