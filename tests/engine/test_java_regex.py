"""Java patterns and replacements in Rust's syntax (`java_regex`), and the SQL text of the
regular-expression functions rewritten with them (`regex_rules`), without an engine: the
answers themselves are checked against Spark in the conformance suite (`regex` category)."""

from __future__ import annotations

import pytest

from lakesmith.engine.semantics.java_regex import (
    JavaReplacementError,
    translate_pattern,
    translate_replacement,
)
from lakesmith.engine.semantics.regex_rules import sql_string_value
from lakesmith.engine.semantics.sql_rewrite import rewrite_sql
from lakesmith.errors import NotSupportedYet


@pytest.mark.parametrize(("java", "rust"), [
    (r"\d+", "[0-9]+"),
    (r"\D", "[^0-9]"),
    (r"\w", "[0-9A-Za-z_]"),
    (r"\S", r"[^\x09-\x0D\x20]"),
    (r"[\d.]", "[0-9.]"),
    (r"[^\d]", "[^0-9]"),
    (r"[\W1]", "[[^0-9A-Za-z_]1]"),
    (r"\p{Alpha}\P{Digit}", "[A-Za-z][^0-9]"),
    (r"\p{L}\p{IsAlphabetic}", r"\p{L}\p{IsAlphabetic}"),  # Unicode in both
    (r"\Q[a].\E", r"\[a\]\."),
    (r"(?i)àb", "(?i)(?-i:à)b"),
    (r"(?i:à)à", "(?i:(?-i:à))à"),  # the flag ends with its group
    (r"(?iu)à", "(?iu)à"),  # UNICODE_CASE: Java folds it too
    ("a.b", r"a[^\x0A\x0D\x{85}\x{2028}\x{2029}]b"),
    ("(?s)a.b", "(?s)a.b"),
    (r"\\d", r"\\d"),  # an escaped backslash, then a letter
    (r"\<a\>", "<a>"),  # Java: the characters; Rust: word boundaries
    ("[[:alpha:]]", r"[[\:alpha:]]"),  # Java: a nested class of ':', 'a', 'l', ...
    ("^([0-9]{4})-([a-z]+)$", "^([0-9]{4})-([a-z]+)$"),  # ASCII-only: unchanged
    # Java's (?i) folds ASCII only: not k, s with the Kelvin sign, the long s (Rust does)
    ("(?i)ask", "(?i)a(?-i:[sS])(?-i:[kK])"),
    (r"(?i)[a-z]\w", r"(?i)(?-u:[a-z])(?-i:[0-9A-Za-z_])"),
    (r"(?i)[0-9.]", "(?i)[0-9.]"),  # no letter: as it is
    ("(?i-u:[a-z])", "(?i-u:[a-z])"),  # Rust's ASCII mode already
])
def test_pattern(java: str, rust: str) -> None:
    translated = translate_pattern(java)
    assert translated.rust == rust
    # Java reads the translation with the same meaning: translating it again changes nothing
    assert translate_pattern(translated.rust).rust == rust


def test_groups_are_counted_as_java_counts_them() -> None:
    pattern = translate_pattern(r"(a)(?:b)(?<name>c)\(d\)[(]")
    assert (pattern.groups, pattern.names) == (2, ("name",))


@pytest.mark.parametrize("java", [r"(?i)[é]", r"(?i)[\Qé\E]", r"(?U)\w", r"(?d).", "a*+a",
                                  "a{2}+", "(?i)[^a-z]", r"(?i)[a-z\xA0]", r"(?i)\p{Lower}",
                                  r"\p{IsPunct}"])
def test_patterns_without_a_rust_equivalent_are_refused(java: str) -> None:
    with pytest.raises(NotSupportedYet, match="regular expression"):
        translate_pattern(java)


@pytest.mark.parametrize(("java", "pattern", "rust"), [
    (r"\$", "a", "$$"),
    ("\\\\", "a", "\\"),
    ("$10", "(b)", "${1}0"),  # no group 10: group 1, then "0"
    ("$10", "(((((((((((b)))))))))))", "$10"),
    (r"\$1", "(a)", "$$1"),
    ("$1x", "(a)", "${1}x"),
    ("$2$1", "(a)(b)", "$2$1"),
    ("[$0]", "a", "[$0]"),
    ("${first}!", "(?<first>a)", "${first}!"),
    ("plain", "a", "plain"),
])
def test_replacement(java: str, pattern: str, rust: str) -> None:
    assert translate_replacement(java, translate_pattern(pattern)) == rust


@pytest.mark.parametrize(("java", "message"), [
    ("x$", "group index is missing"),
    ("$2", "No group 2"),
    ("${x}", "No group with name {x}"),
    ("$a", "Illegal group reference"),
    ("a\\", "character to be escaped is missing"),
])
def test_replacements_java_rejects(java: str, message: str) -> None:
    with pytest.raises(JavaReplacementError, match=message):
        translate_replacement(java, translate_pattern("(a)"))


def test_sql_string_values_are_read_as_spark_reads_them() -> None:
    assert sql_string_value(r"'\\d'") == r"\d"
    assert sql_string_value(r"'\d'") == "d"
    assert sql_string_value(r"'it\'s'") == "it's"
    assert sql_string_value(r"r'\d'") == r"\d"
    assert sql_string_value(r"'\u00e9\%'") == "é\\%"
    assert sql_string_value("concat('a', 'b')") is None


def test_sql_calls_and_operators_are_rewritten() -> None:
    text = (r"SELECT regexp_replace(name, '\\W', '') AS a, "
            r"regexp_replace(s, '(b)', '\\$1$10') AS b, s RLIKE '^\\d+$' AS c, "
            r"regexp_count(s, '\\s') AS d FROM t WHERE s NOT REGEXP '\\p{Alpha}'")
    assert rewrite_sql(text, None) == (
        r"SELECT regexp_replace(name, '[^0-9A-Za-z_]', '') AS a, "
        r"regexp_replace(s, '(b)', '$$1${1}0') AS b, "
        r"s RLIKE '^[0-9]+(?:\\r\\n|[\\n\\r\\x{85}\\x{2028}\\x{2029}])?$' AS c, "
        r"CAST(regexp_count(s, '[\\x09-\\x0D\\x20]') AS INT) AS d FROM t "
        r"WHERE s NOT REGEXP '[A-Za-z]'")


def test_nested_calls_are_rewritten_once() -> None:
    text = r"SELECT regexp_replace(regexp_replace(s, '\\d', '\\$'), '\\$', '\\\\') AS v"
    assert rewrite_sql(text, None) == (
        r"SELECT regexp_replace(regexp_replace(s, '[0-9]', '$$'), '\\$', '\\') AS v")


def test_ascii_patterns_are_left_as_written() -> None:
    text = ("SELECT regexp_replace(s, '^([0-9]{4})-([0-9]{2})', '$2/$1') AS a, "
            "regexp_extract(s, '[a-z]+', 0) AS b, split(s, ',') AS c FROM t")
    assert rewrite_sql(text, None) == text


def test_patterns_given_as_columns_are_guarded() -> None:
    rewritten = rewrite_sql("SELECT regexp_extract(s, t.p, 1) AS b FROM t", None)
    # a pattern none of the checks can refuse runs as written after one look
    assert rewritten.startswith("SELECT (CASE WHEN NOT (t.p RLIKE ")
    assert ") THEN regexp_extract(s, t.p, 1) WHEN t.p RLIKE " in rewritten
    assert rewritten.endswith(" ELSE regexp_extract(s, t.p, 1) END) AS b FROM t")
    assert "regexp_extract: the pattern \\'', t.p, " in rewritten
    # where empty matches show, the guard also refuses patterns that match ''
    assert "'' RLIKE (CASE WHEN p RLIKE " in rewrite_sql("SELECT split(s, p) FROM t", None)
    assert "'' RLIKE" not in rewrite_sql("SELECT regexp_replace(s, p, '') FROM t", None)


def test_patterns_folded_from_literals_take_the_literal_path() -> None:
    assert rewrite_sql(r"SELECT regexp_replace(s, concat('\\d', '+'), '') AS a, "
                       r"split(s, '\\s' || ',') AS b FROM t", None) == (
        r"SELECT regexp_replace(s, '[0-9]+', '') AS a, split(s, '[\\x09-\\x0D\\x20],') AS b "
        "FROM t")


def test_a_literal_replacement_with_escapes_beside_a_column_pattern_is_refused() -> None:
    with pytest.raises(NotSupportedYet, match=r"replacement '\$1' and a pattern given as a "
                       "column"):
        rewrite_sql("SELECT regexp_replace(s, p, '$1') FROM t", None)


def test_a_replacement_column_beside_a_literal_pattern_is_guarded() -> None:
    rewritten = rewrite_sql("SELECT regexp_replace(s, 'a', r) AS v FROM t", None)
    assert rewritten.startswith(
        r"SELECT (CASE WHEN r RLIKE '[\\x5C$]' THEN raise_error(concat('[UNSUPPORTED_FEATURE."
        r"REGEX_PATTERN] regexp_replace: the replacement \'', r, '\' (a column\'s value) holds "
        r"\\ or $, which Java reads as an escape and a group reference")
    assert rewritten.endswith(" ELSE regexp_replace(s, 'a', r) END) AS v FROM t")


def test_regexp_substr_of_an_empty_match_is_null() -> None:
    assert rewrite_sql("SELECT regexp_substr(s, 'a*') AS v FROM t", None) == (
        "SELECT nullif(regexp_substr(s, 'a*'), '') AS v FROM t")


def test_replacement_java_rejects_is_refused_naming_it() -> None:
    with pytest.raises(NotSupportedYet, match=r"replacement string 'x\$' of regexp_replace"):
        rewrite_sql("SELECT regexp_replace(s, 'a', 'x$') FROM t", None)


def test_unaliased_calls_keep_sparks_column_names() -> None:
    text = (r"SELECT regexp_replace(s, '\\W', ''), regexp_extract(s, '(\\d)'), "
            r"split(s, '\\d'), rlike(s, '\\d') FROM t")
    assert rewrite_sql(text, None) == (
        r"SELECT regexp_replace(s, '[^0-9A-Za-z_]', '') AS `regexp_replace(s, \W, , 1)`, "
        r"regexp_extract(s, '([0-9])') AS `regexp_extract(s, (\d), 1)`, "
        r"split(s, '[0-9]') AS `split(s, \d, -1)`, rlike(s, '[0-9]') AS `RLIKE(s, \d)` FROM t")


def test_unaliased_rlike_operations_keep_sparks_column_names() -> None:
    text = r"SELECT s RLIKE '\\d', s NOT REGEXP '\\w', s RLIKE '\\d' AS b, 'x' RLIKE 'x' FROM t"
    assert rewrite_sql(text, None) == (
        r"SELECT s RLIKE '[0-9]' AS `RLIKE(s, \d)`, "
        r"s NOT REGEXP '[0-9A-Za-z_]' AS `(NOT RLIKE(s, \w))`, s RLIKE '[0-9]' AS b, "
        r"'x' RLIKE 'x' FROM t")


def test_patterns_lakesmith_writes_read_the_same_as_java() -> None:
    """lakesmith's own regexp calls (`java_doubles`, `json_functions`, `string_dates`, `strings`,
    the file readers, the guards) are in plans the rules read as Spark's, and type probes re-read
    rewritten arguments: read as Java's patterns in the functions they are used in, they must
    not change (no `$`: Java's also matches before a final line terminator; `\\z` is the end for
    both)."""
    from lakesmith.engine.semantics import (
        final_dollar,
        java_doubles,
        json_functions,
        regex_guard,
        regex_literals,
        string_dates,
        strings,
    )
    from lakesmith.sources.files.formats import inference, records

    uses = [("regexp_extract", java_doubles._INTEGER), ("regexp_extract", java_doubles._FRACTION),
            ("regexp_extract", java_doubles._EXPONENT), ("regexp_extract", "^(0*)"),
            ("regexp_replace", java_doubles._TRAILING_ZEROS), ("regexp_replace", "^0+"),
            ("regexp_replace", json_functions._MARKED),
            ("rlike", json_functions._ARRAY_START.replace("\\\\", "\\")),
            ("regexp_replace", string_dates.DATE_PART), ("rlike", strings._PLAIN),
            ("rlike", inference._OBJECT_TEXT), ("rlike", inference._NOTHING_TEXT),
            ("regexp_replace", f"({records.line_separator_pattern(None)})" + r"\z"),
            ("split", records.line_separator_pattern(None)),
            ("rlike", regex_literals.LINE_TEXT), ("rlike", regex_literals.CRLF_TEXT),
            ("regexp_extract", f"(b)(?:{final_dollar.TERMINATOR})?\\z")]
    uses += [("rlike", pattern) for pattern in (
        regex_guard._ALWAYS, regex_guard._WORD_BOUNDARY, regex_guard._REPLACEMENT_ESCAPES,
        regex_guard._ANY_CHECK,
        *(text for check in regex_guard._CHECKS for text in (check.pattern, check.text)
          if text is not None))]
    for name, pattern in uses:
        replacement = "$1" if name == "regexp_replace" and "(" in pattern else (
            "" if name == "regexp_replace" else None)
        call = regex_literals.literal_call(name, pattern, replacement, 1)
        assert (call.pattern, call.changed) == (pattern, False), (name, pattern)


def test_a_final_dollar_matches_before_a_final_line_terminator_where_only_matching_counts() -> None:
    final = r"(?:\r\n|[\n\r\x{85}\x{2028}\x{2029}])?$"
    assert translate_pattern(r"^\d+$", match_only=True).rust == "^[0-9]+" + final
    assert translate_pattern("^a+" + final, match_only=True).rust == "^a+" + final  # once
    for left_as_written in ("(?m)a$", "a$|b", "(a$)", r"a\$"):
        assert translate_pattern(left_as_written, match_only=True).rust == left_as_written
    assert translate_pattern("a$").rust == "a$"  # regexp_replace: the terminator would go
    assert rewrite_sql(r"SELECT s RLIKE 'b$' AS a, regexp_like(s, 'b$') AS b FROM t", None) == (
        rf"SELECT s RLIKE 'b{final.replace(chr(92), chr(92) * 2)}' AS a, "
        rf"regexp_like(s, 'b{final.replace(chr(92), chr(92) * 2)}') AS b FROM t")


def test_rlike_operations_on_pattern_columns_are_guarded() -> None:
    rewritten = rewrite_sql("SELECT t.s RLIKE c.p, s NOT REGEXP p AS b FROM t", None)
    assert rewritten.startswith("SELECT (CASE WHEN NOT (c.p RLIKE ")
    assert " ELSE rlike(t.s, c.p) END) AS `RLIKE(t.s, c.p)`, (NOT (CASE WHEN NOT (p RLIKE " \
        in rewritten
    assert rewritten.endswith(" ELSE rlike(s, p) END)) AS b FROM t")
    assert rewrite_sql("SELECT rlike(s, p) FROM t", None).startswith(
        "SELECT (CASE WHEN NOT (p ")
    assert rewrite_sql("SELECT count_if(s RLIKE p) FROM t", None).startswith(
        "SELECT count_if((CASE WHEN NOT (p ")
    for called in ("flag = rlike(s, p)", "x AND regexp(s, p)", "coalesce(rlike(s, p), true)"):
        assert "ELSE " in rewrite_sql(f"SELECT {called} FROM t", None)  # the function's guard
    with pytest.raises(NotSupportedYet, match="write rlike"):
        rewrite_sql("SELECT lower(s) RLIKE p FROM t", None)
    with pytest.raises(NotSupportedYet, match="write rlike"):
        rewrite_sql("SELECT s RLIKE p || 'x' FROM t", None)


@pytest.mark.parametrize("rust, empty", [
    (r"[[A-Za-z]_]*", True),  # a nested class: Python's re would read a class, then `_]*`
    (r"[[A-Za-z]_]", False),
    (r"[]a]?", True),
    (r"[^\]]+", False),
    (r"[a-z&&[^aeiou]]{0,3}", True),
])
def test_the_empty_match_check_reads_nested_classes_as_one_character(rust: str,
                                                                     empty: bool) -> None:
    from lakesmith.engine.semantics.regex_literals import matches_empty

    assert matches_empty(rust) is empty
