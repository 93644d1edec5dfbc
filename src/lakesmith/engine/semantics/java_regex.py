"""Java regular expressions (`java.util.regex.Pattern`, Spark's) translated to the Rust `regex`
crate's syntax with the same meaning (the engine's), and Java replacement strings
(`Matcher.appendReplacement`) to Rust's (`regex::Regex::replace`).

Where the two read the same text differently:
* `\\d \\w \\s` (and their negations, and the POSIX classes `\\p{Alpha}` ...) are ASCII in Java,
  Unicode in Rust; `.` stops at every Java line terminator (`\\r`, U+0085, U+2028, U+2029), in
  Rust only at `\\n`; `(?i)` folds ASCII letters only in Java; `\\Q...\\E` quotes in Java and is
  an error in Rust; `\\<`/`\\>` are literal in Java, word boundaries in Rust.
* a replacement's `\\c` is a literal `c` in Java, `$n` takes digits while the group exists;
  Rust reads a backslash literally, `$$` as `$` and `$1a` as the group named "1a".

The pattern is written with explicit ASCII classes (`[0-9]`, `[A-Za-z]`, `\\x..` escapes), which
Java reads with the same meaning: translating a translated pattern gives it back unchanged, so a
pattern rewritten twice (a rewrite's output read again) keeps its meaning. A replacement has no
such form (Rust's `$$` is an error in Java); rules apply to each call once.

Constructs Rust lacks (lookaround, back references, atomic groups) are left as written: the
engine refuses them, naming the pattern. A possessive quantifier (`a*+`) is refused here: Rust
reads it as a repetition of a repetition, with another answer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lakesmith.errors import NotSupportedYet

_DIGIT, _WORD, _SPACE = "0-9", "0-9A-Za-z_", r"\x09-\x0D\x20"
_HSPACE = r"\x09\x20\xA0\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}"
_VSPACE = r"\x0A-\x0D\x{85}\x{2028}\x{2029}"
# Java's classes that are ASCII-only (without UNICODE_CHARACTER_CLASS), as class members
_ESCAPE_CLASSES = {"d": _DIGIT, "w": _WORD, "s": _SPACE, "h": _HSPACE, "v": _VSPACE}
_POSIX = {
    "Lower": "a-z", "Upper": "A-Z", "ASCII": r"\x00-\x7F", "Alpha": "A-Za-z", "Digit": "0-9",
    "Alnum": "0-9A-Za-z", "Punct": r"\x21-\x2F\x3A-\x40\x5B-\x60\x7B-\x7E",
    "Graph": r"\x21-\x7E", "Print": r"\x20-\x7E", "Blank": r"\x09\x20",
    "Cntrl": r"\x00-\x1F\x7F", "XDigit": "0-9A-Fa-f", "Space": _SPACE,
}
# Java's line terminators: `.` matches anything else (without DOTALL)
_DOT = r"[^\x0A\x0D\x{85}\x{2028}\x{2029}]"
# Java's `$` (without MULTILINE) also matches before a final line terminator; Rust's only at
# the end. Where only a match's existence counts, a final `$` is this, which consumes it.
_FINAL_END = r"(?:\r\n|[\n\r\x{85}\x{2028}\x{2029}])?$"
_META = set("\\.+*?()|[]{}^$#&-~")
_JAVA_FLAGS = set("idmsuxU")
_ASCII_CASE = "-u"  # a flag of the state: Rust's ASCII mode is on (`(?-u)` written)


def _hex(c: str) -> str:
    return f"\\x{ord(c):02X}" if ord(c) < 0x100 else f"\\x{{{ord(c):X}}}"


def _literal(c: str, in_class: bool) -> str:
    """One character matched literally, written alike for Java and Rust."""
    if c in _META or (in_class and c in "^"):
        return "\\" + c
    if c.isascii() and not c.isprintable() or c == " ":
        return _hex(c)
    return c


def _cased(c: str) -> bool:
    """A non-ASCII letter with another case: Java's (?i) does not fold it, Rust's does."""
    return not c.isascii() and c.lower() != c.upper()


@dataclass
class _State:
    pattern: str
    flags: set[str]
    out: list[str] = field(default_factory=list)
    groups: int = 0
    names: list[str] = field(default_factory=list)
    line_anchors: int = 0  # `$` (and `^` under MULTILINE) outside classes
    final_dollar: bool = False


@dataclass(frozen=True)
class JavaPattern:
    """A Java pattern, its Rust translation and its capturing groups.

    `line_anchors` counts its `$`, and `^` under (?m): anchors whose Java meaning depends on the
    line terminators at the text's end ($) or inside it (MULTILINE), which Rust's do not share.
    `final_dollar`: the pattern ends with a `$` outside groups and MULTILINE (Java: the end, or
    before a final line terminator)."""

    java: str
    rust: str
    groups: int
    names: tuple[str, ...]
    line_anchors: int = 0
    final_dollar: bool = False


def translate_pattern(java: str, *, match_only: bool = False) -> JavaPattern:
    """`java` in Rust's syntax with Java's meaning. Raises NotSupportedYet where no Rust
    pattern means the same. `match_only`: only whether it matches counts (`rlike`), so a final
    `$` may consume the line terminator Java's `$` matches before (`_FINAL_END`)."""
    state = _State(java, set())
    stack: list[set[str]] = []
    i, n = 0, len(java)
    if match_only and java.endswith(_FINAL_END):  # already translated: Rust's meaning
        n -= len(_FINAL_END)
    while i < n:
        c = java[i]
        if c == "$" and match_only and i == n - 1 and not stack and "m" not in state.flags \
                and n == len(java):
            state.out.append(_FINAL_END)
            state.line_anchors += 1
            state.final_dollar = True
            i += 1
        elif c == "$" or (c == "^" and "m" in state.flags):
            state.line_anchors += 1
            state.final_dollar = c == "$" and i == len(java) - 1 and not stack \
                and "m" not in state.flags
            state.out.append(c)
            i += 1
        elif c == "\\":
            i = _escape(state, i, in_class=False)
        elif c == "[":
            i = _class(state, i)
        elif c == "(":
            flags = set(state.flags)
            i, opened = _group(state, i)
            if opened:
                stack.append(flags)
        elif c == ")":
            if stack:
                state.flags = stack.pop()
            state.out.append(c)
            i += 1
        elif c == "." and "s" not in state.flags:
            state.out.append(_DOT)
            i += 1
        elif c == "#" and "x" in state.flags:  # a comment to the end of the line
            end = java.find("\n", i)
            end = n if end < 0 else end
            i = end
        else:
            if c in "*+?}" and java.startswith("+", i + 1):
                raise _refuse(state, f"the possessive quantifier {c}+ (Rust has none; it reads "
                              "the second + otherwise)")
            state.out.append(_case_sensitive(state, c))
            i += 1
    if n < len(java):
        state.out.append(_FINAL_END)
        state.line_anchors += 1
        state.final_dollar = True
    return JavaPattern(java, "".join(state.out), state.groups, tuple(state.names),
                       state.line_anchors, state.final_dollar)


def _case_sensitive(state: _State, c: str) -> str:
    if _folds_ascii(state) and _cased(c):
        return f"(?-i:{c})"
    if _folds_ascii(state) and c in "kKsS":  # not the Kelvin sign, not the long s
        return f"(?-i:[{c.lower()}{c.upper()}])"
    return c


def _refuse(state: _State, what: str) -> NotSupportedYet:
    return NotSupportedYet(
        f"the regular expression '{state.pattern}': {what}; Spark reads it with "
        "java.util.regex, the engine with Rust's regex crate, and lakesmith has no Rust "
        "pattern with Java's meaning.",
        hint="write the pattern without it (e.g. list both cases of a non-ASCII letter: "
        "[éÉ]).")


def _group(state: _State, i: int) -> tuple[int, bool]:
    """From `(` at i: a group's opening, with inline flags (`(?i)`, `(?i:`) applied; returns
    the index after it and whether it opens a group (a `(?i)` sets flags for the rest of the
    enclosing group instead)."""
    java = state.pattern
    if not java.startswith("(?", i):
        state.groups += 1
        state.out.append("(")
        return i + 1, True
    if java.startswith("(?<", i) and not java.startswith(("(?<=", "(?<!"), i):
        end = java.find(">", i)
        if end > 0:
            state.groups += 1
            state.names.append(java[i + 3:end])
            state.out.append(java[i:end + 1])
            return end + 1, True
    j = i + 2
    on = True
    added: set[str] = set()
    removed: set[str] = set()
    while j < len(java) and (java[j] in _JAVA_FLAGS or java[j] == "-"):
        if java[j] == "-":
            on = False
        else:
            (added if on else removed).add(java[j])
        j += 1
    if j >= len(java) or java[j] not in ":)" or (j == i + 2 and java[j] == ")"):
        state.out.append("(?")  # lookaround, atomic group: left for the engine to refuse
        return i + 2, True
    for flag, name in (("d", "UNIX_LINES"), ("U", "UNICODE_CHARACTER_CLASS")):
        if flag in added | removed:
            raise _refuse(state, f"the inline flag {flag} ({name})")
    state.flags = (state.flags | added) - removed
    if "u" in removed:  # Rust's ASCII mode: its (?i) folds ASCII letters only, as Java's
        state.flags.add(_ASCII_CASE)
    # Rust's `u` is its Unicode mode (on by default: kept); Java's UNICODE_CASE is applied
    # here instead. Rust's `-u` (ASCII mode) folds ASCII letters only, as Java's default does
    # (a negated class in it can match non-UTF-8 bytes: the engine refuses it)
    keep_on = "".join(sorted(added))
    keep_off = "".join(sorted(removed))
    flags = keep_on + ("-" + keep_off if keep_off else "")
    closing = java[j]
    if flags or closing == ":":
        state.out.append(f"(?{flags}{closing}")
    return j + 1, closing == ":"


def _escape(state: _State, i: int, in_class: bool) -> int:
    """From `\\` at i: one escape, translated; returns the index after it."""
    java = state.pattern
    if i + 1 >= len(java):
        state.out.append("\\")  # a dangling backslash: the engine refuses it
        return i + 1
    e = java[i + 1]
    if e == "Q":
        end = java.find("\\E", i + 2)
        end = len(java) if end < 0 else end
        for c in java[i + 2:end]:
            if in_class and "i" in state.flags and "u" not in state.flags and _cased(c):
                raise _refuse(state, f"'{c}' in a character class under (?i)")
            state.out.append(_literal(c, in_class) if in_class else _case_sensitive(
                state, _literal(c, in_class)))
        return end + 2
    if e.lower() in _ESCAPE_CLASSES:
        members = _ESCAPE_CLASSES[e.lower()]
        negated = e.isupper()
        if in_class:
            state.out.append(f"[^{members}]" if negated else members)
        else:
            state.out.append(_closed_class(state, f"[{'^' if negated else ''}{members}]"))
        return i + 2
    if e in "pP":
        if java.startswith("{", i + 2):
            end = java.find("}", i + 3)
            name = java[i + 3:end] if end > 0 else ""
            after = end + 1
        else:
            name, after = java[i + 2:i + 3], i + 3
        if name.startswith("Is") and name[2:] in _POSIX:
            # Java reads some as Unicode properties (IsAlnum), others as POSIX (IsPunct)
            raise _refuse(state, f"\\{e}{{{name}}} (write \\{e}{{{name[2:]}}} for the ASCII "
                          "class)")
        posix = _POSIX.get(name)
        if posix is None:
            state.out.append(java[i:after])  # a Unicode property: the same in both
            return after
        negated = e == "P"
        if name in ("Lower", "Upper") and _folds_ascii(state):
            raise _refuse(state, f"\\{e}{{{name}}} under (?i)")
        if in_class:
            state.out.append(f"[^{posix}]" if negated else posix)
        else:
            state.out.append(_closed_class(state, f"[{'^' if negated else ''}{posix}]"))
        return after
    if e in "<>":
        state.out.append(e)  # Java: the character; Rust: a word boundary
        return i + 2
    if not e.isascii() or e == " ":
        state.out.append(_literal(e, in_class))
        return i + 2
    state.out.append(java[i:i + 2])
    return i + 2


def _class(state: _State, i: int) -> int:
    """From `[` at i: a character class (nested classes, `&&`), translated; under Java's
    ASCII-only (?i), in Rust's ASCII case folding (`_ascii_folded`)."""
    start = len(state.out)
    end = _class_members(state, i)
    if _folds_ascii(state):
        text = "".join(state.out[start:])
        del state.out[start:]
        state.out.append(_ascii_folded(state, text))
    return end


def _folds_ascii(state: _State) -> bool:
    """Whether Java folds ASCII letters only here ((?i) without UNICODE_CASE); Rust's (?i)
    also folds k and s with the Kelvin sign and the long s (U+212A, U+017F)."""
    return "i" in state.flags and "u" not in state.flags and _ASCII_CASE not in state.flags


def _closed_class(state: _State, text: str) -> str:
    """A class lakesmith writes (`\\w` → [0-9A-Za-z_]): both cases of its letters, so
    case-sensitive it is Java's under (?i) too."""
    return f"(?-i:{text})" if _folds_ascii(state) else text


_NON_ASCII_ESCAPE = re.compile(r"\\x\{|\\x[89A-Fa-f]|\\[pP]")
_ESCAPED = re.compile(r"\\x\{[0-9A-Fa-f]+\}|\\x[0-9A-Fa-f]{2}|\\.")


def _ascii_folded(state: _State, text: str) -> str:
    """A class under Java's (?i): in Rust's ASCII mode (`(?-u:...)`, ASCII case folding)
    when it holds ASCII characters only; as it is when it holds no letter; else refused."""
    plain = _ESCAPED.sub("", text)
    if not _has_ascii_letter(text):
        return text
    if text.isascii() and not _NON_ASCII_ESCAPE.search(text) and "^" not in plain:
        return f"(?-u:{text})"
    raise _refuse(state, f"the character class {text} under (?i) (Java folds ASCII letters "
                  "only; Rust also k and s with the Kelvin sign and the long s, and in a "
                  "negated or non-ASCII class there is no Rust class with Java's meaning)")


_ATOM = re.compile(r"\\x\{([0-9A-Fa-f]+)\}|\\x([0-9A-Fa-f]{2})|\\([pP])|\\(.)|(.)", re.DOTALL)
_LETTERS = (range(ord("A"), ord("Z") + 1), range(ord("a"), ord("z") + 1))


def _has_ascii_letter(text: str) -> bool:
    """Whether a class's text can hold an ASCII letter: a letter, a range over one, or a
    Unicode property."""
    codes: list[int | None] = []  # None: a `-` between two members (a range)
    for match in _ATOM.finditer(text):
        wide, hex2, prop, escaped, plain = match.groups()
        if prop:
            return True
        if plain == "-" and codes and codes[-1] is not None:
            codes.append(None)
            continue
        char = chr(int(wide or hex2, 16)) if (wide or hex2) else (escaped or plain)
        codes.append(ord(char))
    for index, code in enumerate(codes):
        if code is None:
            continue
        low = high = code
        if index + 2 < len(codes) and codes[index + 1] is None:
            high = codes[index + 2] or code
        if any(low <= r[-1] and high >= r[0] for r in _LETTERS):
            return True
    return False


def _class_members(state: _State, i: int) -> int:
    java = state.pattern
    state.out.append("[")
    i += 1
    if java.startswith("^", i):
        state.out.append("^")
        i += 1
    if java.startswith(":", i):  # Java: a literal ':'; Rust: a POSIX class `[:alpha:]`
        state.out.append("\\:")
        i += 1
    while i < len(java):
        c = java[i]
        if c == "]":
            state.out.append("]")
            return i + 1
        if c == "\\":
            i = _escape(state, i, in_class=True)
        elif c == "[":
            i = _class_members(state, i)
        else:
            if "i" in state.flags and "u" not in state.flags and _cased(c):
                raise _refuse(state, f"'{c}' in a character class under (?i) (Java matches "
                              "only its own case; Rust both)")
            state.out.append("\\~" if c == "~" else c)
            i += 1
    return i


@dataclass(frozen=True)
class _Group:
    number: int | None = None
    name: str | None = None


class JavaReplacementError(ValueError):
    """A replacement string Java rejects (Spark fails the query with it)."""


def translate_replacement(java: str, pattern: JavaPattern) -> str:
    """The Java replacement `java` for `pattern` as a Rust replacement with the same output.
    Raises JavaReplacementError with Java's message where Java rejects it."""
    out: list[str] = []
    i, n = 0, len(java)
    while i < n:
        c = java[i]
        if c == "\\":
            if i + 1 >= n:
                raise JavaReplacementError("character to be escaped is missing")
            out.append("$$" if java[i + 1] == "$" else java[i + 1])
            i += 2
        elif c == "$":
            group, i = _group_reference(java, i + 1, pattern)
            if group.name is not None:
                out.append(f"${{{group.name}}}")
            else:
                after = java[i:i + 1]
                plain = not (after.isalnum() or after == "_")
                out.append(f"${group.number}" if plain else f"${{{group.number}}}")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _group_reference(java: str, i: int, pattern: JavaPattern) -> tuple[_Group, int]:
    """After a `$` (i: the next index): the group it names, as Matcher.appendExpandedReplacement
    reads it, and the index after the reference."""
    if i >= len(java):
        raise JavaReplacementError("Illegal group reference: group index is missing")
    if java[i] == "{":
        j = i + 1
        while j < len(java) and java[j].isascii() and java[j].isalnum():
            j += 1
        name = java[i + 1:j]
        if not name:
            raise JavaReplacementError("named capturing group has 0 length name")
        if j >= len(java) or java[j] != "}":
            raise JavaReplacementError("named capturing group is missing trailing '}'")
        if name[0].isdigit():
            raise JavaReplacementError(f"capturing group name {{{name}}} starts with digit "
                                       "character")
        if name not in pattern.names:
            raise JavaReplacementError(f"No group with name {{{name}}}")
        return _Group(name=name), j + 1
    if not ("0" <= java[i] <= "9"):
        raise JavaReplacementError("Illegal group reference")
    number = int(java[i])
    i += 1
    while i < len(java) and "0" <= java[i] <= "9":
        longer = number * 10 + int(java[i])
        if longer > pattern.groups:
            break
        number = longer
        i += 1
    if number > pattern.groups:
        raise JavaReplacementError(f"No group {number}")
    return _Group(number=number), i
