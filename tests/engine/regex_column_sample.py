# ruff: noqa: E501 - one pattern or text per line
"""A broad sample of patterns given as columns and texts, for checking the guard on column
patterns (`regex_guard`): Spark 4.3's answers for every (text, pattern) pair are recorded by
`scripts/golden/regex_columns.py` into `tests/golden/regex_columns.json`; on the engine, every
pair the guard lets through must give Spark's answer. Standard library only: Spark's
environment imports it too. Every pattern is valid for java.util.regex."""

from __future__ import annotations

PATTERNS = [
    r"\d+", r"[0-9]+", r"\w+", r"\s+", r"\S+", r"\W", r"\D", r"\b\w", r"^\d{3}-\d{4}$",
    r"[A-Z][a-z]+", r"(?i)abc", r"(?i)straße", r"(?i)k", r"(?i)s", r"a.c", r".*", r".+$",
    r"^.*$", r"b$", r"$", r"^", r"a*", r"x?", r"\s*", r"[^,]+", r"[^a-z]", r"(\w+)@(\w+)\.com",
    r"\.csv$", r"[[:alpha:]]", r"\p{Alpha}", r"\p{L}+", r"\Qa.b\E", r"a*+", r"(?s)a.b",
    r"(?m)^b", r"(?m)b$", r"[a-c&&[b-d]]", r"é", r"[é]", r"\u00e9", r"\x41", r"[\w-]+", r"\t",
    r"colou?r", r"a{2,}", r"(ab)+", r"(?<y>\d{4})", r"\\d", r"\\", r"[.]", r"\.", r"k",
    r"\bfoo\b", r"\Bo", r"[\d.]+", r"\h", r"\v", r"(?x) a b", r"[a-z]+\d", r"(a|b)c", r"\n",
    r"[\n\r]", r"(?i)[a-z]+", r"[^\s]+", r"\,", r"a|", r",", r"\s*,\s*", r"[ \t]+", r"\A\w",
    r"\w\z", r"(?-i)a", r"(?<=a)b", r"(\w)\1", r"\R",
    # shapes of real lookup and configuration tables
    r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$", r"^\+?[0-9 ()-]{7,}$",
    r"(?i)^(yes|no)$", r"[^\x00-\x7F]", r"\s{2,}", r"^\s+|\s+$", r"(\d{4})-(\d{2})-(\d{2})",
    r"[[:space:]]", r"^(?:[a-z]+_)+[a-z]+$", r"[,;|]", r"(?i)[aeiou]", r"\$\d+(\.\d\d)?",
    r"^$", r"[\[\]]", r"\p{Lu}", r"[^[:alnum:]]", r"(?m)^\w", r"[0-9]{3,}?", r"[a-z]+?",
]

TEXTS = [
    "abc", "ABC", "a1b22c333", "٣4", "café", "Straße", "STRASSE", "a\u00a0b", "a b\tc",
    "line1\nline2", "ab\n", "ab\r\n", "a\rb", "x@y.com", "data.csv", "data.csv\n", "", "KELVIN \u212a",
    "\u017f", "foo bar", "a.c abc", "555-1234", "aaa", "colour color", "\\d", "a\u2028b",
    "ab\u0085", "a,b,,c", "2024 and 1999", "x", "abab cd", "aa", "a b, c ,d",
    "john.doe@mail.com", "+1 (555) 123-4567", "YES", "  padded  ", "2024-01-05", "snake_case_name",
    "$12.50 or $3", "[x]", "Ünïcödé", "a;b|c", "tab\tend\n",
]

# (name, SQL over columns s and p): each call Spark answers per row
CALLS = [
    ("replace_x", "regexp_replace(s, p, 'X')"),
    ("replace_empty", "regexp_replace(s, p, '')"),
    ("rlike", "s RLIKE p"),
    ("extract", "regexp_extract(s, p, 0)"),
    ("extract_all", "regexp_extract_all(s, p, 0)"),
    ("count", "regexp_count(s, p)"),
    ("split", "split(s, p)"),
    ("instr", "regexp_instr(s, p)"),
    ("substr", "regexp_substr(s, p)"),
]


def rows() -> list[tuple[int, str, str]]:
    """(id, text, pattern) for every pair."""
    return [(i * len(TEXTS) + j, text, pattern)
            for i, pattern in enumerate(PATTERNS) for j, text in enumerate(TEXTS)]
