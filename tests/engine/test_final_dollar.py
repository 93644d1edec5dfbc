"""Java's final `$` and the other line anchors in Rust's syntax (`final_dollar`,
`regex_literals`), without an engine: the answers are checked against Spark in the conformance
suite (`regex/final_line_terminator*`) and on the sample in `test_regex_guard.py`."""

from __future__ import annotations

import pytest

from lakesmith.engine.semantics.final_dollar import TERMINATOR, solid_end
from lakesmith.engine.semantics.regex_literals import (
    CRLF_TEXT,
    LINE_TEXT,
    literal_call,
    matches_empty,
)
from lakesmith.engine.semantics.sql_rewrite import rewrite_sql
from lakesmith.errors import NotSupportedYet

END = f"(?:{TERMINATOR})?\\z"


@pytest.mark.parametrize(("java", "solid"), [
    ("b$", True), (r"\.csv$", True), ("[0-9]{4}$", True), (r"(\w+)\.(csv|txt)$", True),
    ("a+$", True), ("[a-c]+?$", True), (r"\p{Alpha}$", True), (".$", True), ("(?:ab)+$", True),
    (r"\s*$", False), (".*$", False), ("a|b$", False), ("$", False), ("a*$", False),
    ("a{0,2}$", False), ("[^a]$", False), (r"[\n]$", False), (r"\D$", False), ("(?s).$", False),
    ("(a|)$", False), ("(?=a)$", False), ("[\t-\r]$", False), ("x^$", False),
])
def test_a_pattern_is_solid_at_its_end_when_its_last_character_is_never_a_terminator(
        java: str, solid: bool) -> None:
    assert solid_end(java) is solid


def test_a_solid_final_dollar_is_exact_in_each_function() -> None:
    replace = literal_call("regexp_replace", r"(a)(b)$", "$2$1", None)
    assert (replace.pattern, replace.replacement) == (
        f"(a)(b)({TERMINATOR}?)\\z", "$2$1${3}")  # the terminator given back
    assert literal_call("regexp_count", "b$", None, None).pattern == f"b{END}"
    extract = literal_call("regexp_extract", "b$", None, 0)
    assert (extract.pattern, extract.whole_match_group) == (f"(b){END}", True)
    assert literal_call("regexp_extract", "(b)$", None, 1).pattern == f"(b){END}"
    for call in (replace, extract):
        assert call.guard_text is None


def test_split_with_a_solid_final_dollar_gives_the_terminator_back_as_its_last_piece() -> None:
    """Java's `b$` matches before a final line terminator, which stays in the last piece: the
    translation consumes it (group 1) and the rewrite puts it back (`split('ab\\n', 'b$')` is
    ['a', '\\n'] on Spark, conformance `regex/final_line_terminator_split`)."""
    call = literal_call("split", "(b)$", None, None)
    assert (call.guard_text, call.terminator_group) == (None, 2)
    assert call.pattern == r"(b)((?:\r\n|[\n\r\x{85}\x{2028}\x{2029}])?)\z"
    sql = rewrite_sql("SELECT split(s, 'b$', 2) FROM t", None)
    pattern = r"'b((?:\\r\\n|[\\n\\r\\x{85}\\x{2028}\\x{2029}])?)\\z'"
    assert sql.startswith(f"SELECT (CASE WHEN size(split(s, {pattern}, 2)) > 1 THEN concat("
                          f"slice(split(s, {pattern}, 2), 1, size(split(s, {pattern}, 2)) - 1), "
                          f"array(regexp_extract(s, {pattern}, 1))) ELSE split(s, {pattern}, 2)"
                          " END) AS `split(s, b$, 2)`"), sql


def test_other_line_anchors_guard_the_rows_they_could_read_differently() -> None:
    assert literal_call("regexp_replace", r"\s+$", "", None).guard_text == LINE_TEXT
    assert literal_call("split", r"\s$", None, None).guard_text == LINE_TEXT  # not solid
    assert literal_call("regexp_extract", "b$", None, 1).guard_text is None
    # an index that is not a literal: the whole match may be asked for
    assert literal_call("regexp_extract", "b$", None, None).guard_text == LINE_TEXT
    assert literal_call("rlike", "(?m)^b", None, None).guard_text == LINE_TEXT
    assert literal_call("rlike", r"\s$", None, None).guard_text == CRLF_TEXT
    assert literal_call("rlike", "b$", None, None).guard_text is None  # exact
    assert literal_call("regexp_replace", "b", "x", None).guard_text is None


def test_guarded_rows_fail_naming_the_function_and_pattern() -> None:
    rewritten = rewrite_sql(r"SELECT regexp_replace(s, '\\s+$', '') AS v FROM t", None)
    assert rewritten.startswith(r"SELECT (CASE WHEN s RLIKE '[\\x0D\\x{85}\\x{2028}\\x{2029}]|"
                                r"\\x0A\\z' THEN raise_error('[UNSUPPORTED_FEATURE.REGEX_PATTERN]"
                                r" regexp_replace: the pattern \'\\s+$\' holds $ or (?m)")
    operation = rewrite_sql("SELECT s NOT RLIKE '(?m)^b' FROM t", None)
    assert operation.startswith("SELECT (NOT (CASE WHEN s RLIKE ")
    assert operation.endswith(" ELSE rlike(s, '(?m)^b') END)) AS `(NOT RLIKE(s, (?m)^b))` FROM t")


@pytest.mark.parametrize("call", [
    "regexp_count(s, 'a*')", "split(s, '')", "split(s, '^')", "regexp_extract_all(s, 'x?', 0)",
    "regexp_replace(s, '\\\\s*', '-')", "regexp_count(s, '\\\\b\\\\w*')",
])
def test_patterns_matching_empty_strings_are_refused_where_every_match_counts(call: str) -> None:
    with pytest.raises(NotSupportedYet, match="can match an empty string"):
        rewrite_sql(f"SELECT {call} FROM t", None)


@pytest.mark.parametrize("call", [
    "regexp_replace(s, '\\\\s*', '')", "regexp_replace(s, '^', '>')", "regexp_count(s, 'a+')",
    "regexp_extract(s, 'a*', 0)", "split(s, ',')", "regexp_replace(s, '', '-')",
])
def test_empty_matches_that_cannot_show_are_left_alone(call: str) -> None:
    rewrite_sql(f"SELECT {call} FROM t", None)


def test_matching_the_empty_text_is_read_from_the_rust_pattern() -> None:
    assert matches_empty("a*") and matches_empty("(?i)x?") and matches_empty(r"[\x{85}]*\z")
    assert not matches_empty("a+") and not matches_empty(r"\p{L}") and not matches_empty(
        "(?<year>[0-9]{4})")
