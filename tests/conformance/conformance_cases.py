# ruff: noqa: E501 - each case is one line of code, as a user would write it
"""The conformance cases: SQL and DataFrame code of the kind medallion pipelines run, each with
one answer in Apache Spark 4.3 (recorded by `scripts/golden/conformance.py` into
`tests/golden/conformance.json`).

A case is data: an id (`category/name`), SQL text or a DataFrame expression (Python evaluated with
`spark`, `F` = `pyspark.sql.functions`, `W` = `Window`, `T` = `pyspark.sql.types` and `dir`, a
folder holding the case's `files`), and whether row order is part of the answer. Every case first
sees the temporary views of `SETUP`. Standard library only: Spark's environment imports it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    id: str
    sql: str | None = None
    dataframe: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    ordered: bool = False

    @property
    def category(self) -> str:
        return self.id.split("/", 1)[0]

    @property
    def code(self) -> str:
        return self.sql if self.sql is not None else f"python: {self.dataframe}"


# Session settings both engines run the cases with (Spark 4.3's defaults otherwise: ANSI on).
SESSION_CONF = {"spark.sql.session.timeZone": "UTC"}

SETUP = [
    """CREATE OR REPLACE TEMP VIEW nums AS SELECT
         CAST(id AS INT) AS id, CAST(i AS INT) AS i, CAST(l AS BIGINT) AS l,
         CAST(d AS DOUBLE) AS d, CAST(m AS DECIMAL(10,2)) AS m, CAST(s AS STRING) AS s
       FROM VALUES
         (1, 10, 100, 1.5, '1.25', 'a'),
         (2, -3, 2147483648, -0.5, '0.01', 'b'),
         (3, NULL, NULL, NULL, NULL, NULL),
         (4, 7, -7, 2.675, '2.675', ' c '),
         (5, 0, 0, 0.0, '0.00', '')
       AS t(id, i, l, d, m, s)""",
    """CREATE OR REPLACE TEMP VIEW sales AS SELECT
         CAST(region AS STRING) AS region, CAST(product AS STRING) AS product,
         CAST(amount AS DECIMAL(12,2)) AS amount, CAST(qty AS INT) AS qty,
         CAST(day AS DATE) AS day
       FROM VALUES
         ('east', 'apple', '10.10', 3, '2024-01-01'),
         ('east', 'pear', '0.01', 1, '2024-01-01'),
         ('east', 'apple', '0.01', 2, '2024-01-02'),
         ('west', 'apple', '0.03', NULL, '2024-01-02'),
         ('west', 'fig', NULL, 5, '2024-01-03'),
         (NULL, 'fig', '99.99', 1, NULL)
       AS t(region, product, amount, qty, day)""",
    """CREATE OR REPLACE TEMP VIEW events AS SELECT
         CAST(id AS INT) AS id, CAST(ts AS TIMESTAMP) AS ts, CAST(raw AS STRING) AS raw,
         CAST(j AS STRING) AS j
       FROM VALUES
         (1, '2024-03-10 01:30:00', '2024-03-10T01:30:00Z', '{"a":1,"b":{"c":"x"},"arr":[1,2]}'),
         (2, '2024-12-31 23:59:59.999', '31/12/2024', '{"a":null,"b":{}}'),
         (3, '1970-01-01 00:00:00', 'garbage', 'not json'),
         (4, NULL, NULL, NULL)
       AS t(id, ts, raw, j)""",
    """CREATE OR REPLACE TEMP VIEW iso_strings AS SELECT CAST(id AS INT) AS id, CAST(s AS STRING) AS s
       FROM VALUES
         (1, '2026-11-02T10:00:00'), (2, '2026-11-02T23:30:00Z'), (3, '2026-11-02T23:30:00+05:00'),
         (4, '2026-11-02T23:30:00-05:00'), (5, '2026-11-02T23:59:59.123456'), (6, '2026-11-02'),
         (7, '2026-11-02 10:00:00'), (8, ' 2026-11-02T10:00 '), (9, '2026-11-02T'), (10, NULL)
       AS t(id, s)""",
    """CREATE OR REPLACE TEMP VIEW fkeys AS SELECT CAST(d AS DOUBLE) AS d, CAST(d AS FLOAT) AS f, CAST(o AS INT) AS o
       FROM VALUES (-CAST('NaN' AS DOUBLE), 1), (CAST('NaN' AS DOUBLE), 2), (-0.0D, 3), (0.0D, 4), (1.5D, 5)
       AS t(d, o)""",
    # doubles whose natural logarithm (or log2, log10, log base b) the engine's libm rounds
    # otherwise than fdlibm (Spark's StrictMath), with Spark's NULL cases around them
    """CREATE OR REPLACE TEMP VIEW logs AS SELECT CAST(id AS INT) AS id, CAST(x AS DOUBLE) AS x, CAST(b AS DOUBLE) AS b
       FROM VALUES (1, 3.0D, 10.0D), (2, 1.2025074695114542D, 0.5D), (3, 1.1116335878400865D, 4.10085773532975D),
         (4, 0.0592688888700802D, 2.718281828459045D), (5, 0.9498871135024098D, 3.0D), (6, 5.4868888267500875D, 3.0D),
         (7, 6.605854038191745e-07D, 1.5D), (8, 1.0461749602693562e+157D, 4.721177756834603D), (9, 4.9e-324D, 2.0D),
         (10, 1.0D, 1.0D), (11, 0.0D, 2.0D), (12, -2.0D, -2.0D), (13, CAST('NaN' AS DOUBLE), 2.0D),
         (14, CAST('Infinity' AS DOUBLE), CAST('NaN' AS DOUBLE)), (15, NULL, 2.0D), (16, 8.0D, NULL)
       AS t(id, x, b)""",
    """CREATE OR REPLACE TEMP VIEW texts AS SELECT CAST(k AS STRING) AS k, CAST(s AS STRING) AS s
       FROM VALUES ('a', '2.5'), ('a', '-3'), ('b', ' 4 '), ('b', '4'), ('b', NULL) AS t(k, s)""",
    """CREATE OR REPLACE TEMP VIEW grouped AS SELECT * FROM VALUES ('a', 1), ('a', 2), ('b', 3), (NULL, 4) AS t(d, o)""",
    """CREATE OR REPLACE TEMP VIEW wide_sums AS SELECT CAST(k AS STRING) AS k, CAST(x AS DECIMAL(38,0)) AS x
       FROM VALUES ('a', 99999999999999999999999999999999999999), ('a', 1), ('b', 5), ('b', 6), ('b', 6), ('c', NULL)
       AS t(k, x)""",
]


def _sql(category: str, items: list[tuple[str, str]], *, ordered: bool = False) -> list[Case]:
    return [Case(f"{category}/{name}", sql=text, ordered=ordered) for name, text in items]


def _df(category: str, items: list[tuple[str, str]]) -> list[Case]:
    return [Case(f"{category}/{name}", dataframe=code) for name, code in items]


CASTS = _sql("casts", [
    ("string_to_int", "SELECT CAST('42' AS INT) AS v"),
    ("string_to_int_spaces", "SELECT CAST(' 42 ' AS INT) AS v"),
    ("string_to_int_invalid", "SELECT CAST('4x2' AS INT) AS v"),
    ("try_cast_invalid", "SELECT try_cast('4x2' AS INT) AS v"),
    ("string_decimal_to_int", "SELECT CAST('4.7' AS INT) AS v"),
    ("double_to_int_truncates", "SELECT CAST(4.7D AS INT) AS v, CAST(-4.7D AS INT) AS w"),
    ("bigint_to_int_overflow", "SELECT CAST(3000000000L AS INT) AS v"),
    ("try_cast_overflow", "SELECT try_cast(3000000000L AS INT) AS v"),
    ("double_to_bigint_overflow", "SELECT CAST(1e20D AS BIGINT) AS v"),
    ("string_to_double", "SELECT CAST('1.5e3' AS DOUBLE) AS v, CAST('NaN' AS DOUBLE) AS w"),
    ("string_to_double_inf", "SELECT CAST('Infinity' AS DOUBLE) AS v, CAST('-inf' AS DOUBLE) AS w"),
    ("string_to_decimal", "SELECT CAST('123.456' AS DECIMAL(10,2)) AS v"),
    ("string_to_decimal_round", "SELECT CAST('1.005' AS DECIMAL(10,2)) AS v, CAST('-1.005' AS DECIMAL(10,2)) AS w"),
    ("double_to_decimal", "SELECT CAST(1.005D AS DECIMAL(10,2)) AS v, CAST(0.1D AS DECIMAL(20,18)) AS w"),
    ("double_column_to_decimal", "SELECT id, CAST(d AS DECIMAL(10,2)) AS v, CAST(d * 1.1 AS DECIMAL(12, 1)) AS w FROM nums"),
    ("decimal_overflow", "SELECT CAST('12345.6' AS DECIMAL(5,2)) AS v"),
    ("try_cast_decimal_overflow", "SELECT try_cast('12345.6' AS DECIMAL(5,2)) AS v"),
    ("string_to_boolean", "SELECT CAST('true' AS BOOLEAN) AS a, CAST('F' AS BOOLEAN) AS b, CAST('yes' AS BOOLEAN) AS c, CAST('0' AS BOOLEAN) AS d"),
    ("string_to_boolean_invalid", "SELECT CAST('maybe' AS BOOLEAN) AS v"),
    ("int_to_boolean", "SELECT CAST(2 AS BOOLEAN) AS v, CAST(0 AS BOOLEAN) AS w"),
    ("boolean_to_string", "SELECT CAST(true AS STRING) AS v"),
    ("double_to_string", "SELECT CAST(1.0D AS STRING) AS a, CAST(0.1D AS STRING) AS b, CAST(1e20D AS STRING) AS c, CAST(1e-5D AS STRING) AS d"),
    ("double_to_string_large", "SELECT CAST(12345678.9D AS STRING) AS a, CAST(1234567.0D AS STRING) AS b"),
    ("float_to_string", "SELECT CAST(CAST(0.1 AS FLOAT) AS STRING) AS v"),
    ("decimal_to_string", "SELECT CAST(CAST(1.50 AS DECIMAL(5,2)) AS STRING) AS v, CAST(CAST(0 AS DECIMAL(5,2)) AS STRING) AS w"),
    ("date_to_string", "SELECT CAST(DATE'2024-02-29' AS STRING) AS v"),
    ("timestamp_to_string", "SELECT CAST(TIMESTAMP'2024-02-29 01:02:03.450' AS STRING) AS v"),
    ("string_to_date", "SELECT CAST('2024-02-29' AS DATE) AS v"),
    ("string_to_date_short", "SELECT CAST('2024-2-9' AS DATE) AS v"),
    ("string_to_date_invalid", "SELECT CAST('2024-02-30' AS DATE) AS v"),
    ("try_cast_date_invalid", "SELECT try_cast('2024-02-30' AS DATE) AS v"),
    ("string_to_date_with_time", "SELECT CAST('2024-02-29 10:11:12' AS DATE) AS v"),
    ("string_to_timestamp", "SELECT CAST('2024-02-29 10:11:12' AS TIMESTAMP) AS v"),
    ("string_to_timestamp_iso", "SELECT CAST('2024-02-29T10:11:12Z' AS TIMESTAMP) AS v"),
    ("string_to_timestamp_offset", "SELECT CAST('2024-02-29T10:11:12+02:00' AS TIMESTAMP) AS v"),
    ("string_to_timestamp_date_only", "SELECT CAST('2024-02-29' AS TIMESTAMP) AS v"),
    ("timestamp_to_date", "SELECT CAST(TIMESTAMP'2024-02-29 23:59:59' AS DATE) AS v"),
    ("date_to_timestamp", "SELECT CAST(DATE'2024-02-29' AS TIMESTAMP) AS v"),
    ("timestamp_to_bigint", "SELECT CAST(TIMESTAMP'2024-01-01 00:00:01' AS BIGINT) AS v"),
    ("bigint_to_timestamp", "SELECT CAST(1700000000L AS TIMESTAMP) AS v"),
    ("int_to_string", "SELECT CAST(-5 AS STRING) AS v"),
    ("string_to_bigint_large", "SELECT CAST('9223372036854775807' AS BIGINT) AS v"),
    ("string_to_binary", "SELECT CAST('ab' AS BINARY) AS v"),
    ("column_casts", "SELECT id, CAST(i AS STRING) AS a, CAST(d AS INT) AS b, CAST(m AS DOUBLE) AS c, CAST(s AS INT) AS e FROM nums WHERE id <> 4 AND id <> 5"),
    ("column_casts_blank", "SELECT try_cast(s AS INT) AS v FROM nums"),
    ("double_colon_cast", "SELECT '7'::INT AS v"),
])

QUOTING = _sql("quoting", [
    ("doubled_single_quote", "SELECT 'it''s' AS v"),
    ("doubled_single_quote_middle", "SELECT 'a''''b' AS v, 'x''' AS w"),
    ("backslash_quote", "SELECT 'it\\'s' AS v"),
    ("double_quoted_string", "SELECT \"it's\" AS v"),
    ("doubled_double_quote", "SELECT \"say \"\"hi\"\"\" AS v"),
    ("adjacent_literals", "SELECT 'a' 'b' AS v"),
    ("escape_sequences", "SELECT 'a\\tb' AS v, length('a\\nb') AS n"),
    ("raw_string", "SELECT r'a\\tb' AS v"),
    ("backtick_identifier", "SELECT 1 AS `my col`, 2 AS `it``s`"),
    ("unicode_escape", "SELECT '\\u00e9' AS v"),
    ("quote_in_filter", "SELECT count(*) AS n FROM nums WHERE s <> 'it''s'"),
    ("quote_in_concat", "SELECT concat(s, '''') AS v FROM nums WHERE id = 1"),
    ("empty_string", "SELECT '' AS v, length('') AS n"),
    ("percent_literal", "SELECT '50%' AS v"),
])

STRINGS = _sql("strings", [
    ("upper_lower", "SELECT upper('straße') AS u, lower('ÀB') AS l"),
    ("trim", "SELECT trim('  x  ') AS a, ltrim('  x') AS b, rtrim('x  ') AS c, trim(BOTH 'x' FROM 'xxaxx') AS d"),
    ("trim_tabs", "SELECT trim('\\tx\\t') AS v"),
    ("substring", "SELECT substring('hello', 2, 3) AS a, substring('hello', -3) AS b, substr('hello', 0, 2) AS c"),
    ("substring_out_of_range", "SELECT substring('hello', 10) AS a, substring('hello', 2, -1) AS b"),
    ("substring_negative_start", "SELECT substring('hello', -10, 7) AS a, substring('hello', -10, 3) AS b, substr('hello', -3, 2) AS c, substring('hello', NULL, 2) AS d"),
    ("substring_column", "SELECT id, substring(s, i, 2) AS a, substring('hello', 2, i) AS b, substring('hello', i) AS c FROM nums"),
    ("concat_null", "SELECT concat('a', NULL) AS a, concat_ws('-', 'a', NULL, 'b') AS b"),
    ("concat_ws_array", "SELECT concat_ws(',', array('a', 'b'), 'c') AS v"),
    ("pipe_concat", "SELECT 'a' || 'b' || 1 AS v"),
    ("length_unicode", "SELECT length('héllo') AS a, char_length('日本') AS b, octet_length('é') AS c"),
    ("lpad_rpad", "SELECT lpad('7', 3, '0') AS a, rpad('ab', 5, 'xy') AS b, lpad('abcdef', 3, '0') AS c"),
    ("replace", "SELECT replace('a.b.c', '.', '') AS a, replace('aaa', 'a', 'bb') AS b"),
    ("regexp_replace", "SELECT regexp_replace('a1b22c', '[0-9]+', '#') AS v"),
    ("regexp_replace_group", "SELECT regexp_replace('2024-01-05', '(\\\\d+)-(\\\\d+)-(\\\\d+)', '$3/$2/$1') AS v"),
    ("regexp_extract", "SELECT regexp_extract('id=123;x', 'id=(\\\\d+)', 1) AS a, regexp_extract('none', 'id=(\\\\d+)', 1) AS b"),
    ("regexp_extract_all", "SELECT regexp_extract_all('a1b22c333', '(\\\\d+)', 1) AS v"),
    ("rlike", "SELECT 'abc' RLIKE '^a.c$' AS a, 'ABC' RLIKE 'b' AS b"),
    ("like_escape", "SELECT 'a_b' LIKE 'a\\\\_b' AS a, 'axb' LIKE 'a\\\\_b' AS b, 'A' LIKE 'a' AS c"),
    ("ilike", "SELECT 'ABC' ILIKE 'a%' AS v"),
    ("split", "SELECT split('a,b,,c', ',') AS a, split('a1b2c', '[0-9]') AS b"),
    ("split_limit", "SELECT split('a,b,c', ',', 2) AS v"),
    ("split_part", "SELECT split_part('a.b.c', '.', 2) AS a, split_part('a.b.c', '.', -1) AS b, split_part('a.b', '.', 5) AS c"),
    ("instr_locate", "SELECT instr('hello', 'l') AS a, locate('l', 'hello', 4) AS b, position('z' IN 'hello') AS c"),
    ("initcap", "SELECT initcap('hello wORLD foo-bar') AS v"),
    ("left_right_negative", "SELECT left('hello', -1) AS a, right('hello', -1) AS b, left('hello', 0) AS c, right('hello', 2) AS d, left(s, i) AS e FROM nums WHERE id IN (1, 2)"),
    ("regexp_count_type", "SELECT regexp_count('aaa', 'a') AS v"),
    ("cast_to_map_and_struct", "SELECT CAST(NULL AS MAP<STRING,INT>) AS a, CAST(named_struct('a', 1, 'b', 2) AS STRUCT<a: BIGINT, b: STRING>) AS b, try_cast(map('k', '1') AS MAP<STRING, INT>) AS c"),
    ("initcap_unicode", "SELECT initcap('ßa éa ǆx o''brien mc-donald\tx') AS v"),
    ("initcap_column", "SELECT id, initcap(s) AS v, initcap(concat(s, '-x y')) AS w FROM nums"),
    ("reverse_repeat", "SELECT reverse('abc') AS a, repeat('ab', 3) AS b"),
    ("translate", "SELECT translate('abcabc', 'ab', 'x') AS v"),
    ("left_right", "SELECT left('hello', 2) AS a, right('hello', 2) AS b"),
    ("format_number", "SELECT format_number(1234567.891, 2) AS a, format_number(0.5, 0) AS b"),
    ("format_string", "SELECT format_string('%s-%03d', 'x', 7) AS v"),
    ("md5_sha", "SELECT md5('abc') AS a, sha2('abc', 256) AS b, sha1('abc') AS c"),
    ("hash_functions", "SELECT hash('abc') AS a, xxhash64('abc') AS b, crc32('abc') AS c"),
    ("base64", "SELECT base64(CAST('hi' AS BINARY)) AS a, CAST(unbase64('aGk=') AS STRING) AS b"),
    ("hex", "SELECT hex(255) AS a, hex('A') AS b, unhex('41') AS c"),
    ("ascii_chr", "SELECT ascii('A') AS a, chr(66) AS b"),
    ("startswith_contains", "SELECT startswith('hello', 'he') AS a, endswith('hello', 'lo') AS b, contains('hello', 'ell') AS c"),
    ("string_compare_case", "SELECT 'a' < 'B' AS a, 'a' = 'A' AS b"),
    ("nullif_blank", "SELECT id, nullif(trim(s), '') AS v FROM nums"),
    ("coalesce_blank", "SELECT id, coalesce(nullif(s, ''), 'none') AS v FROM nums"),
    ("uuid_shape", "SELECT length(uuid()) AS v"),
    ("soundex_levenshtein", "SELECT levenshtein('kitten', 'sitting') AS a, soundex('Robert') AS b"),
    ("overlay", "SELECT overlay('abcdef' PLACING 'xy' FROM 2 FOR 3) AS v"),
    ("btrim_chars", "SELECT btrim('--a--', '-') AS v"),
    ("string_agg_order", "SELECT array_join(sort_array(collect_list(s)), '|') AS v FROM nums"),
    ("mask", "SELECT mask('AbC-123') AS v"),
    ("to_char_number", "SELECT to_char(1234.5, '9,999.99') AS v"),
])

NUMBERS = _sql("numbers", [
    ("int_division", "SELECT 7 / 2 AS a, 7 DIV 2 AS b, -7 DIV 2 AS c"),
    ("modulo_sign", "SELECT -7 % 3 AS a, 7 % -3 AS b, pmod(-7, 3) AS c, mod(-7.5, 2) AS d"),
    ("division_by_zero", "SELECT 1 / 0 AS v"),
    ("try_divide_zero", "SELECT try_divide(1, 0) AS v"),
    ("double_division_by_zero", "SELECT 1.0D / 0.0D AS v"),
    ("modulo_by_zero", "SELECT 5 % 0 AS v"),
    ("int_plus_overflow", "SELECT CAST(2147483647 AS INT) + 1 AS v"),
    ("int_times_overflow", "SELECT CAST(100000 AS INT) * CAST(100000 AS INT) AS v"),
    ("int_minus_overflow", "SELECT CAST(-2147483648 AS INT) - 1 AS v"),
    ("bigint_plus_overflow", "SELECT 9223372036854775807L + 1L AS v"),
    ("bigint_times_overflow", "SELECT 9223372036854775807L * 2L AS v"),
    ("try_add_overflow", "SELECT try_add(CAST(2147483647 AS INT), 1) AS v"),
    ("int_column_overflow", "SELECT i + 2147483647 AS v FROM nums WHERE id = 1"),
    ("int_column_no_overflow", "SELECT i + 100 AS v FROM nums"),
    ("int_times_column", "SELECT i * 1000000 AS v FROM nums WHERE id = 1"),
    ("abs_min_int", "SELECT abs(CAST(-2147483648 AS INT)) AS v"),
    ("negate_min_int", "SELECT -CAST(-2147483648 AS INT) AS v"),
    ("int_plus_bigint", "SELECT CAST(1 AS INT) + 2L AS v"),
    ("int_plus_double", "SELECT 1 + 0.5D AS v"),
    ("int_plus_decimal", "SELECT 1 + 0.5 AS v"),
    ("smallint_overflow", "SELECT CAST(32767 AS SMALLINT) + CAST(1 AS SMALLINT) AS v"),
    ("tinyint_sum", "SELECT CAST(100 AS TINYINT) + CAST(100 AS TINYINT) AS v"),
    ("float_arith", "SELECT 0.1D + 0.2D AS a, 1.1D * 3 AS b"),
    ("nan_comparisons", "SELECT CAST('NaN' AS DOUBLE) = CAST('NaN' AS DOUBLE) AS a, CAST('NaN' AS DOUBLE) > 1D AS b"),
    ("nan_in_group", "SELECT x, count(*) AS n FROM VALUES (CAST('NaN' AS DOUBLE)), (CAST('NaN' AS DOUBLE)), (1D) AS t(x) GROUP BY x"),
    ("negative_zero", "SELECT -0.0D = 0.0D AS a, CAST(-0.0D AS STRING) AS b"),
    ("power_sqrt", "SELECT power(2, 10) AS a, sqrt(2) AS b, pow(2, -1) AS c"),
    ("sqrt_negative", "SELECT sqrt(-1) AS v"),
    ("log_exp", "SELECT ln(1) AS a, log10(1000) AS b, log(2, 8) AS c, exp(0) AS d"),
    ("log_zero", "SELECT ln(0) AS v"),
    ("ceil_floor", "SELECT ceil(1.2D) AS a, floor(-1.2D) AS b, ceil(1.2) AS c, floor(CAST(-1.25 AS DECIMAL(5,2))) AS d"),
    ("ceil_scale", "SELECT ceil(3.14159, 2) AS a, floor(3.14159, 2) AS b"),
    ("greatest_least", "SELECT greatest(1, NULL, 3) AS a, least('b', 'a') AS b, greatest(1, 2.5D) AS c"),
    ("sign_abs", "SELECT sign(-3) AS a, abs(-3.5) AS b, signum(0.0D) AS c"),
    ("bitwise", "SELECT 5 & 3 AS a, 5 | 3 AS b, 5 ^ 3 AS c, ~5 AS d, shiftleft(1, 4) AS e"),
    ("conv_bin", "SELECT conv('ff', 16, 10) AS a, bin(5) AS b"),
    ("width_bucket", "SELECT width_bucket(5.3, 0.2, 10.6, 5) AS v"),
    ("int_literal_types", "SELECT 2147483648 AS a, 1L AS b, 1S AS c, 1Y AS d, 1.5F AS e, 1.5BD AS f"),
    ("exponent_literal", "SELECT 1E2 AS a, 1.5e-3 AS b"),
    ("column_arith", "SELECT id, i * 2 + l AS a, d * 2 AS b, m * 2 AS c FROM nums"),
    ("integer_avg_type", "SELECT avg(i) AS v FROM nums"),
    ("bround", "SELECT bround(2.5D) AS a, bround(3.5D) AS b, bround(CAST(2.25 AS DECIMAL(4,2)), 1) AS c"),
    ("random_seeded_range", "SELECT rand(1) BETWEEN 0 AND 1 AS v"),
])

ROUNDING = _sql("rounding", [
    ("round_double_half_up_1005", "SELECT round(1.005D, 2) AS v"),
    ("round_double_half_up_0285", "SELECT round(0.285D, 2) AS v"),
    ("round_double_2675", "SELECT round(2.675D, 2) AS v"),
    ("round_double_negative", "SELECT round(-1.005D, 2) AS v, round(-2.5D) AS w"),
    ("round_double_half", "SELECT round(2.5D) AS a, round(0.5D) AS b, round(1.5D) AS c"),
    ("round_double_negative_scale", "SELECT round(1250.0D, -2) AS a, round(1350D, -2) AS b"),
    ("round_double_large", "SELECT round(1e20D, 2) AS a, round(123456789.125D, 2) AS b"),
    ("round_double_nan", "SELECT round(CAST('NaN' AS DOUBLE), 2) AS v"),
    ("round_double_column", "SELECT id, round(d, 1) AS v FROM nums"),
    ("round_double_column_2", "SELECT id, round(d * 1.1, 2) AS v FROM nums"),
    ("round_double_division", "SELECT round(10D / 3, 2) AS v, round(2D / 3, 4) AS w"),
    ("round_float", "SELECT round(CAST(1.005 AS FLOAT), 2) AS v"),
    ("round_decimal", "SELECT round(1.005, 2) AS a, round(CAST(2.675 AS DECIMAL(10,3)), 2) AS b"),
    ("round_decimal_column", "SELECT id, round(m, 1) AS v FROM nums"),
    ("round_int", "SELECT round(15, -1) AS a, round(25, -1) AS b, round(7) AS c"),
    ("round_decimal_type", "SELECT round(CAST(1.2345 AS DECIMAL(10,4)), 2) AS v"),
    ("round_avg", "SELECT round(avg(d), 2) AS v FROM nums"),
    ("round_sum_decimal", "SELECT round(sum(amount), 1) AS v FROM sales"),
    ("bround_double", "SELECT bround(2.675D, 2) AS v"),
    ("round_string_arg", "SELECT round('1.005', 2) AS v"),
    ("round_lateral_alias", "SELECT d * 2 AS dd, round(dd, 1) AS v FROM nums"),
    ("round_in_lambda", "SELECT id, transform(array(d), x -> round(x, 2)) AS v FROM nums"),
])

DECIMALS = _sql("decimals", [
    ("avg_decimal", "SELECT avg(x) AS v FROM VALUES (CAST(0.01 AS DECIMAL(5,2))), (0.01), (0.03) AS t(x)"),
    ("avg_decimal_two_thirds", "SELECT avg(x) AS v FROM VALUES (CAST(0.01 AS DECIMAL(5,2))), (0.01), (0.00) AS t(x)"),
    ("avg_decimal_column", "SELECT region, avg(amount) AS v FROM sales GROUP BY region"),
    ("avg_decimal_negative", "SELECT avg(x) AS v FROM VALUES (CAST(-0.01 AS DECIMAL(5,2))), (-0.01), (-0.03) AS t(x)"),
    ("sum_decimal", "SELECT sum(amount) AS v FROM sales"),
    ("sum_decimal_type", "SELECT region, sum(amount) AS v FROM sales GROUP BY region"),
    ("division", "SELECT CAST(1 AS DECIMAL(10,2)) / CAST(3 AS DECIMAL(10,2)) AS v"),
    ("division_two_thirds", "SELECT CAST(2 AS DECIMAL(10,2)) / CAST(3 AS DECIMAL(10,2)) AS v"),
    ("division_literals", "SELECT 1.0 / 3 AS a, 2.0 / 3 AS b, 10.5 / 4 AS c"),
    ("division_negative", "SELECT CAST(-2 AS DECIMAL(10,2)) / CAST(3 AS DECIMAL(10,2)) AS v"),
    ("division_column", "SELECT id, m / 3 AS v FROM nums"),
    ("division_wide", "SELECT CAST(1 AS DECIMAL(38,10)) / CAST(3 AS DECIMAL(38,10)) AS v"),
    ("multiply_wide", "SELECT CAST(123.45 AS DECIMAL(38,18)) * CAST(2 AS DECIMAL(38,18)) AS v"),
    ("multiply", "SELECT CAST(1.25 AS DECIMAL(10,2)) * CAST(1.25 AS DECIMAL(10,2)) AS v"),
    ("multiply_column", "SELECT id, m * m AS v FROM nums"),
    ("add_types", "SELECT CAST(1.5 AS DECIMAL(5,1)) + CAST(1.25 AS DECIMAL(10,2)) AS v"),
    ("add_overflow", "SELECT CAST(99999999999999999999999999999999999999 AS DECIMAL(38,0)) + 1 AS v"),
    ("literal_type", "SELECT 0.1 AS a, 100.25 AS b, -1.0 AS c"),
    ("compare_scales", "SELECT CAST(1.10 AS DECIMAL(5,2)) = CAST(1.1 AS DECIMAL(5,1)) AS v"),
    ("decimal_times_double", "SELECT CAST(1.1 AS DECIMAL(5,1)) * 2.0D AS v"),
    ("decimal_times_int", "SELECT CAST(1.1 AS DECIMAL(5,1)) * 3 AS v"),
    ("sum_of_products", "SELECT sum(amount * qty) AS v FROM sales"),
    ("avg_of_int_as_decimal", "SELECT avg(CAST(qty AS DECIMAL(10,0))) AS v FROM sales"),
    ("max_min_decimal", "SELECT max(amount) AS a, min(amount) AS b FROM sales"),
    ("decimal_modulo", "SELECT CAST(10.5 AS DECIMAL(5,1)) % 3 AS v"),
    ("decimal_in_case", "SELECT CASE WHEN true THEN CAST(1.5 AS DECIMAL(5,1)) ELSE 2 END AS v"),
    ("percent_of_total", "SELECT region, round(100 * sum(amount) / (SELECT sum(amount) FROM sales), 2) AS v FROM sales GROUP BY region"),
])

DATES = _sql("dates", [
    ("weekday_sunday", "SELECT weekday(DATE'2024-01-07') AS v"),
    ("weekday_week", "SELECT d, weekday(d) AS v FROM VALUES (DATE'2024-01-01'), (DATE'2024-01-03'), (DATE'2024-01-06'), (DATE'2024-01-07') AS t(d)"),
    ("dayofweek", "SELECT dayofweek(DATE'2024-01-07') AS a, dayofweek(DATE'2024-01-08') AS b"),
    ("extract_dow", "SELECT extract(DOW FROM DATE'2024-01-07') AS a, extract(DAYOFWEEK_ISO FROM DATE'2024-01-07') AS b"),
    ("extract_weekday_fields", "SELECT d, extract(DAYOFWEEK FROM d) AS a, extract(DOW_ISO FROM d) AS b, extract(YEAROFWEEK FROM d) AS c, date_part('dow', d) AS e, date_part('DAYOFWEEK_ISO', d) AS f FROM VALUES (DATE'2024-01-01'), (DATE'2024-12-30'), (DATE'2021-01-03') AS t(d)"),
    ("extract_dow_timestamp", "SELECT id, extract(DOW FROM ts) AS v FROM events"),
    ("date_parts", "SELECT year(d) AS y, month(d) AS m, day(d) AS dd, dayofyear(d) AS doy, quarter(d) AS q, weekofyear(d) AS w FROM VALUES (DATE'2024-12-30') AS t(d)"),
    ("extract", "SELECT extract(YEAR FROM TIMESTAMP'2024-05-06 07:08:09') AS y, extract(HOUR FROM TIMESTAMP'2024-05-06 07:08:09') AS h, date_part('minute', TIMESTAMP'2024-05-06 07:08:09') AS m"),
    ("extract_second", "SELECT extract(SECOND FROM TIMESTAMP'2024-05-06 07:08:09.5') AS v"),
    ("to_date_format", "SELECT to_date('05/01/2024', 'dd/MM/yyyy') AS v"),
    ("to_date_default", "SELECT to_date('2024-01-05') AS v"),
    ("to_date_invalid", "SELECT to_date('2024-13-05') AS v"),
    ("to_date_invalid_format", "SELECT to_date('garbage', 'yyyy-MM-dd') AS v"),
    ("try_to_date", "SELECT try_to_date('2024-01-05', 'yyyy-MM-dd') AS v"),
    ("try_to_date_invalid", "SELECT try_to_date('garbage', 'yyyy-MM-dd') AS v"),
    ("try_to_date_no_format", "SELECT try_to_date('2024-01-05') AS a, try_to_date('x') AS b"),
    ("try_to_date_column", "SELECT id, try_to_date(raw, 'dd/MM/yyyy') AS v FROM events"),
    ("to_date_timestamp", "SELECT to_date(TIMESTAMP'2024-01-05 23:00:00') AS v"),
    ("date_format", "SELECT date_format(TIMESTAMP'2024-01-05 13:04:05', 'yyyy-MM-dd HH:mm:ss') AS a, date_format(DATE'2024-01-05', 'EEE, d MMM yyyy') AS b"),
    ("date_format_week", "SELECT date_format(DATE'2024-01-05', 'EEEE') AS a, date_format(DATE'2024-01-05', 'E') AS b"),
    ("date_format_ampm", "SELECT date_format(TIMESTAMP'2024-01-05 13:04:05', 'hh:mm a') AS v"),
    ("date_format_fraction", "SELECT date_format(TIMESTAMP'2024-01-05 13:04:05.123456', 'HH:mm:ss.SSS') AS v"),
    ("date_add_sub", "SELECT date_add(DATE'2024-02-28', 2) AS a, date_sub(DATE'2024-03-01', 1) AS b, DATE'2024-01-31' + 1 AS c"),
    ("add_months", "SELECT add_months(DATE'2024-01-31', 1) AS a, add_months(DATE'2024-03-31', -1) AS b"),
    ("datediff", "SELECT datediff(DATE'2024-03-01', DATE'2024-02-01') AS a, datediff('2024-01-01', '2024-01-10') AS b"),
    ("months_between", "SELECT months_between(DATE'2024-03-31', DATE'2024-02-29') AS a, months_between(TIMESTAMP'2024-03-15 00:00:00', DATE'2024-01-01') AS b"),
    ("last_day_next_day", "SELECT last_day(DATE'2024-02-10') AS a, next_day(DATE'2024-01-05', 'Mon') AS b"),
    ("trunc_date", "SELECT trunc(DATE'2024-05-17', 'MM') AS a, trunc(DATE'2024-05-17', 'YEAR') AS b, trunc(DATE'2024-05-17', 'week') AS c"),
    ("date_trunc", "SELECT date_trunc('hour', TIMESTAMP'2024-05-17 10:45:30') AS a, date_trunc('week', TIMESTAMP'2024-05-17 10:45:30') AS b, date_trunc('quarter', TIMESTAMP'2024-05-17 10:45:30') AS c"),
    ("make_date", "SELECT make_date(2024, 2, 29) AS a"),
    ("make_date_invalid", "SELECT make_date(2023, 2, 29) AS v"),
    ("date_from_parts_column", "SELECT id, make_date(2024, 1, id) AS v FROM nums"),
    ("current_date_type", "SELECT typeof(current_date()) AS a, typeof(current_timestamp()) AS b"),
    ("date_compare_string", "SELECT DATE'2024-01-05' = '2024-01-05' AS a, DATE'2024-01-05' > '2024-01-04' AS b"),
    ("date_between", "SELECT count(*) AS n FROM sales WHERE day BETWEEN '2024-01-01' AND '2024-01-02'"),
    ("date_sequence", "SELECT sequence(DATE'2024-01-30', DATE'2024-02-02', INTERVAL 1 DAY) AS v"),
    ("date_diff_function", "SELECT date_diff(DATE'2024-01-10', DATE'2024-01-01') AS v"),
    ("dateadd_function", "SELECT dateadd(DATE'2024-01-10', 3) AS v"),
    ("unix_date", "SELECT unix_date(DATE'2024-01-01') AS a, date_from_unix_date(19723) AS b"),
    ("weekofyear_edge", "SELECT weekofyear(DATE'2021-01-03') AS a, weekofyear(DATE'2024-12-31') AS b"),
])

# ISO-8601 date-time strings (JSON landing data) read as DATE and TIMESTAMP.
ISO_DATES = _sql("iso_dates", [
    ("to_date", "SELECT id, to_date(s) AS v FROM iso_strings"),
    ("cast_date", "SELECT id, CAST(s AS DATE) AS v FROM iso_strings"),
    ("try_cast_date", "SELECT id, try_cast(s AS DATE) AS v FROM iso_strings"),
    ("date_function", "SELECT id, date(s) AS v FROM iso_strings"),
    ("to_date_literal_unaliased", "SELECT to_date('2026-11-02T10:00:00')"),
    ("cast_literal_unaliased", "SELECT CAST('2026-11-02T10:00:00' AS DATE)"),
    ("cast_operator", "SELECT id, s::date AS v, upper(s)::date AS w FROM iso_strings WHERE id <= 4"),
    ("cast_operator_unaliased", "SELECT '2026-11-02T10:00:00'::date, ' 2026-11-02 '::date"),
    ("cast_operator_arithmetic", "SELECT date_add('2026-11-02T23:30:00-05:00'::date, 1) AS a, 1 + '2'::int * 3 AS b, 1.005D::decimal(10, 2) AS c"),
    ("cast_in_where", "SELECT count(*) AS n FROM iso_strings WHERE CAST(s AS DATE) = DATE'2026-11-02'"),
    ("to_date_grouped", "SELECT to_date(s) AS d, count(*) AS n FROM iso_strings GROUP BY to_date(s)"),
    ("to_date_nested", "SELECT id, date_add(to_date(upper(s)), 1) AS v FROM iso_strings WHERE id <= 3"),
    ("to_date_of_timestamp", "SELECT id, to_date(CAST(s AS TIMESTAMP)) AS v FROM iso_strings WHERE id <= 5"),
    ("to_date_timestamp_column", "SELECT id, to_date(ts) AS v FROM events"),
    ("cast_invalid_month", "SELECT CAST('2026-13-02T10:00:00' AS DATE) AS v"),
    ("to_date_invalid_separator", "SELECT to_date('2026-11-02X10:00:00') AS v"),
    ("cast_year_month_t", "SELECT CAST('2026-11T10:00' AS DATE) AS v"),
    ("cast_garbage", "SELECT CAST('garbage' AS DATE) AS v"),
    ("try_cast_invalid", "SELECT try_cast('2026-13-02T10:00:00' AS DATE) AS a, try_cast('2026-11-02X10' AS DATE) AS b, try_cast('garbage' AS DATE) AS c"),
    ("try_to_date_t", "SELECT try_to_date('2026-11-02T10:00:00') AS a, try_to_date('2026-13-02T10:00:00') AS b"),
    ("to_date_format_t", "SELECT to_date('2026-11-02T10:00:00', 'yyyy-MM-dd') AS v"),
    ("to_date_format_iso", "SELECT to_date('2026-11-02T23:30:00', \"yyyy-MM-dd'T'HH:mm:ss\") AS v"),
    ("cast_timestamp", "SELECT id, CAST(s AS TIMESTAMP) AS v FROM iso_strings WHERE id NOT IN (8, 9)"),
    ("cast_timestamp_trailing_t", "SELECT CAST('2026-11-02T' AS TIMESTAMP) AS v"),
    ("cast_timestamp_padded", "SELECT CAST(' 2026-11-02T10:00 ' AS TIMESTAMP) AS v"),
    ("to_timestamp", "SELECT id, to_timestamp(s) AS v FROM iso_strings WHERE id NOT IN (8, 9)"),
    ("try_cast_timestamp_invalid", "SELECT try_cast('2026-13-02T10:00:00' AS TIMESTAMP) AS a, try_cast('2026-11-02X10' AS TIMESTAMP) AS b"),
    ("cast_timestamp_invalid", "SELECT CAST('2026-11-02X10:00:00' AS TIMESTAMP) AS v"),
    ("cast_timestamp_ntz", "SELECT id, CAST(s AS TIMESTAMP_NTZ) AS v FROM iso_strings WHERE id IN (1, 5, 6, 7)"),
])

TIMESTAMPS = _sql("timestamps", [
    ("to_timestamp_seconds", "SELECT to_timestamp(1700000000) AS v"),
    ("to_timestamp_fractional", "SELECT to_timestamp(1700000000.5D) AS v"),
    ("to_timestamp_bigint_column", "SELECT id, to_timestamp(l) AS v FROM nums WHERE id IN (1, 4, 5)"),
    ("to_timestamp_string", "SELECT to_timestamp('2024-01-05 10:11:12') AS v"),
    ("to_timestamp_format", "SELECT to_timestamp('05/01/2024 10:11', 'dd/MM/yyyy HH:mm') AS v"),
    ("to_timestamp_iso_z", "SELECT to_timestamp('2024-03-10T01:30:00Z') AS v"),
    ("to_timestamp_fraction", "SELECT to_timestamp('2024-01-05 10:11:12.123456') AS v"),
    ("to_timestamp_invalid", "SELECT to_timestamp('garbage') AS v"),
    ("try_to_timestamp_invalid", "SELECT try_to_timestamp('garbage') AS v"),
    ("try_to_timestamp_format", "SELECT try_to_timestamp('2024/01/05', 'yyyy/MM/dd') AS v"),
    ("timestamp_seconds", "SELECT timestamp_seconds(1700000000) AS a, timestamp_millis(1700000000123) AS b, timestamp_micros(1700000000123456) AS c"),
    ("unix_timestamp", "SELECT unix_timestamp(TIMESTAMP'2024-01-01 00:00:00') AS a, unix_timestamp('2024-01-01', 'yyyy-MM-dd') AS b"),
    ("from_unixtime", "SELECT from_unixtime(0) AS a, from_unixtime(1700000000, 'yyyy-MM-dd') AS b"),
    ("unix_seconds_millis", "SELECT unix_seconds(TIMESTAMP'2024-01-01 00:00:01') AS a, unix_millis(TIMESTAMP'2024-01-01 00:00:01.5') AS b"),
    ("from_utc_timestamp", "SELECT from_utc_timestamp(TIMESTAMP'2024-03-10 10:00:00', 'America/New_York') AS a, from_utc_timestamp(TIMESTAMP'2024-07-01 10:00:00', 'Europe/Paris') AS b"),
    ("to_utc_timestamp", "SELECT to_utc_timestamp(TIMESTAMP'2024-03-10 10:00:00', 'America/New_York') AS v"),
    ("from_utc_dst_gap", "SELECT to_utc_timestamp(TIMESTAMP'2024-03-10 02:30:00', 'America/New_York') AS v"),
    ("timestamp_literal_offset", "SELECT TIMESTAMP'2024-01-01 00:00:00+05:00' AS v"),
    ("timestamp_ntz", "SELECT TIMESTAMP_NTZ'2024-01-01 10:00:00' AS v"),
    ("timestamp_ntz_type", "SELECT typeof(to_timestamp_ntz('2024-01-01 10:00:00')) AS v"),
    ("timestamp_interval", "SELECT TIMESTAMP'2024-01-31 10:00:00' + INTERVAL 1 DAY AS a, TIMESTAMP'2024-01-31 10:00:00' - INTERVAL '90' MINUTE AS b"),
    ("timestamp_interval_month", "SELECT TIMESTAMP'2024-01-31 10:00:00' + INTERVAL 1 MONTH AS v"),
    ("timestamp_diff_seconds", "SELECT CAST(TIMESTAMP'2024-01-01 01:00:00' AS BIGINT) - CAST(TIMESTAMP'2024-01-01 00:00:00' AS BIGINT) AS v"),
    ("timestampdiff", "SELECT timestampdiff(HOUR, TIMESTAMP'2024-01-01 00:00:00', TIMESTAMP'2024-01-02 03:00:00') AS a, timestampdiff(MONTH, DATE'2024-01-31', DATE'2024-02-29') AS b"),
    ("timestamp_subtract", "SELECT TIMESTAMP'2024-01-02 03:04:05' - TIMESTAMP'2024-01-01 00:00:00' AS v"),
    ("date_trunc_column", "SELECT id, date_trunc('DAY', ts) AS v FROM events"),
    ("date_trunc_of_date", "SELECT date_trunc('MONTH', DATE'2024-03-15') AS a, date_trunc('MONTH', TIMESTAMP_NTZ'2024-03-15 10:00:00') AS b, date_trunc('MONTH', '2024-03-15 10:00:00') AS c, date_trunc('QUARTER', TIMESTAMP'2024-05-15 10:00:00') AS d"),
    ("hour_minute_second", "SELECT id, hour(ts) AS h, minute(ts) AS m, second(ts) AS s FROM events"),
    ("window_bucket", "SELECT window(TIMESTAMP'2024-01-01 10:07:00', '5 minutes').start AS v"),
    ("make_timestamp", "SELECT make_timestamp(2024, 1, 2, 3, 4, 5.5) AS v"),
    ("timestamp_to_string_column", "SELECT id, CAST(ts AS STRING) AS v FROM events"),
    ("to_timestamp_column_formats", "SELECT id, to_timestamp(raw) AS v FROM events WHERE id IN (1, 4)"),
    ("date_format_column", "SELECT id, date_format(ts, 'yyyyMMdd') AS v FROM events"),
    ("timestamp_order", "SELECT max(ts) AS a, min(ts) AS b FROM events"),
    ("convert_timezone", "SELECT convert_timezone('UTC', 'America/Los_Angeles', TIMESTAMP_NTZ'2024-01-01 12:00:00') AS v"),
])

NULLS = _sql("nulls", [
    ("null_equality", "SELECT NULL = NULL AS a, NULL <=> NULL AS b, 1 <=> NULL AS c"),
    ("null_in", "SELECT 1 IN (1, NULL) AS a, 2 IN (1, NULL) AS b, 2 NOT IN (1, NULL) AS c"),
    ("null_arith", "SELECT 1 + NULL AS a, NULL * 0 AS b"),
    ("null_logic", "SELECT NULL AND false AS a, NULL OR true AS b, NOT NULL AS c, NULL AND true AS d"),
    ("coalesce_types", "SELECT coalesce(NULL, 1, 2.5D) AS a, coalesce(i, 0) AS b FROM nums WHERE id = 3"),
    ("nvl_functions", "SELECT nvl(NULL, 'x') AS a, nvl2(NULL, 'y', 'n') AS b, ifnull(NULL, 2) AS c, nullif(1, 1) AS d"),
    ("count_nulls", "SELECT count(*) AS a, count(i) AS b, count(DISTINCT s) AS c FROM nums"),
    ("sum_all_null", "SELECT sum(x) AS a, avg(x) AS b, max(x) AS c, count(x) AS d FROM VALUES (CAST(NULL AS INT)) AS t(x)"),
    ("sum_empty", "SELECT sum(i) AS a, count(*) AS b FROM nums WHERE id > 100"),
    ("group_by_null", "SELECT region, count(*) AS n FROM sales GROUP BY region"),
    ("order_nulls_default", "SELECT i FROM nums ORDER BY i", ),
    ("order_nulls_desc", "SELECT i FROM nums ORDER BY i DESC"),
    ("order_nulls_last", "SELECT i FROM nums ORDER BY i ASC NULLS LAST"),
    ("distinct_null", "SELECT DISTINCT i IS NULL AS v FROM nums"),
    ("join_on_null", "SELECT count(*) AS n FROM nums a JOIN nums b ON a.i = b.i"),
    ("join_null_safe", "SELECT count(*) AS n FROM nums a JOIN nums b ON a.i <=> b.i"),
    ("case_null", "SELECT CASE NULL WHEN NULL THEN 'eq' ELSE 'ne' END AS v"),
    ("isnull_functions", "SELECT isnull(NULL) AS a, isnotnull(1) AS b, nanvl(CAST('NaN' AS DOUBLE), 0D) AS c"),
    ("not_in_subquery_null", "SELECT count(*) AS n FROM nums WHERE i NOT IN (SELECT i FROM nums WHERE id = 3)"),
    ("null_string_concat", "SELECT s || 'x' AS v FROM nums WHERE id = 3"),
    ("empty_vs_null_length", "SELECT length(NULL) AS a, length('') AS b"),
    ("null_if_zero", "SELECT 10 / nullif(0, 0) AS v"),
])

ORDERED = [Case(c.id, sql=c.sql, ordered=True) if c.id.startswith("nulls/order_") else c
           for c in NULLS]

CONDITIONALS = _sql("conditionals", [
    ("case_when_types", "SELECT CASE WHEN id = 1 THEN 1 WHEN id = 2 THEN 2.5 ELSE NULL END AS v FROM nums"),
    ("case_when_string_int", "SELECT CASE WHEN true THEN 'a' ELSE 1 END AS v"),
    ("if_function", "SELECT if(i > 0, 'pos', 'other') AS v FROM nums"),
    ("iff_decimal_double", "SELECT if(true, 1.5, 2D) AS v"),
    ("between_strings", "SELECT 'b' BETWEEN 'a' AND 'c' AS v"),
    ("in_list_types", "SELECT 1 IN (1.0, 2) AS a, '1' IN (1, 2) AS b"),
    ("string_int_compare", "SELECT '10' > 9 AS a, '10' > '9' AS b"),
    ("string_int_equality", "SELECT '1.0' = 1 AS v"),
    ("string_number_equality_invalid", "SELECT 'abc' = 1 AS v"),
    ("boolean_string", "SELECT 'true' = true AS v"),
    ("decode", "SELECT decode(2, 1, 'one', 2, 'two', 'other') AS v"),
    ("decode_null_and_column", "SELECT id, decode(NULL, 1, 'one', NULL, 'null') AS a, decode(3, 1, 'one', 2, 'two') AS b, decode(i, 10, 'ten', 'other') AS c FROM nums WHERE id IN (1, 3)"),
    ("assert_ok", "SELECT assert_true(1 = 1) AS v"),
])

AGGREGATES = _sql("aggregates", [
    ("basic", "SELECT region, count(*) AS n, sum(qty) AS q, min(day) AS d0, max(product) AS p FROM sales GROUP BY region"),
    ("sum_int_type", "SELECT sum(qty) AS v FROM sales"),
    ("sum_int_overflow", "SELECT sum(x) AS v FROM VALUES (9223372036854775807L), (1L) AS t(x)"),
    ("sum_int_big", "SELECT sum(x) AS v FROM VALUES (2147483647), (2147483647) AS t(x)"),
    ("avg_double", "SELECT avg(d) AS v FROM nums"),
    ("avg_int", "SELECT avg(qty) AS v FROM sales"),
    ("count_distinct", "SELECT count(DISTINCT region) AS a, count(DISTINCT region, product) AS b FROM sales"),
    ("approx_count_distinct", "SELECT approx_count_distinct(product) AS v FROM sales"),
    ("percentile_approx_int", "SELECT percentile_approx(x, 0.5) AS v FROM range(1, 101) AS t(x)"),
    ("percentile_approx_int_array", "SELECT percentile_approx(x, array(0.25, 0.75)) AS v FROM range(1, 101) AS t(x)"),
    ("percentile_approx_array_grouped", "SELECT region, percentile_approx(qty, array(0.5, 1.0)) AS v FROM sales GROUP BY region"),
    ("percentile_approx_double", "SELECT percentile_approx(d, 0.5) AS v FROM nums"),
    ("percentile_approx_decimal", "SELECT percentile_approx(amount, 0.5) AS v FROM sales"),
    ("approx_percentile", "SELECT approx_percentile(qty, 0.5) AS v FROM sales"),
    ("percentile_exact", "SELECT percentile(x, 0.5) AS v FROM range(1, 101) AS t(x)"),
    ("median", "SELECT median(x) AS v FROM range(1, 101) AS t(x)"),
    ("percentile_cont", "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS v FROM range(1, 101) AS t(x)"),
    ("percentile_disc", "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) AS v FROM range(1, 101) AS t(x)"),
    ("stddev_variance", "SELECT round(stddev(d), 6) AS a, round(variance(d), 6) AS b, round(stddev_pop(d), 6) AS c FROM nums"),
    ("stddev_single", "SELECT stddev(x) AS v FROM VALUES (1D) AS t(x)"),
    ("collect_list_set", "SELECT region, sort_array(collect_list(product)) AS a, sort_array(collect_set(product)) AS b FROM sales GROUP BY region"),
    ("first_last_ignore_nulls", "SELECT first(x, true) AS a, last(x, true) AS b FROM (SELECT x FROM VALUES (NULL), (1), (2), (NULL) AS t(x) ORDER BY 1 NULLS FIRST)"),
    ("max_by_min_by", "SELECT max_by(product, amount) AS a, min_by(product, amount) AS b FROM sales"),
    ("count_if", "SELECT count_if(qty > 1) AS a, sum(CASE WHEN qty > 1 THEN 1 ELSE 0 END) AS b FROM sales"),
    ("bool_and_or", "SELECT bool_and(qty > 0) AS a, bool_or(qty > 4) AS b, every(qty > 0) AS c FROM sales"),
    ("having", "SELECT product, sum(qty) AS q FROM sales GROUP BY product HAVING sum(qty) > 2"),
    ("group_by_ordinal", "SELECT region, count(*) AS n FROM sales GROUP BY 1"),
    ("group_by_alias", "SELECT upper(region) AS r, count(*) AS n FROM sales GROUP BY r"),
    ("rollup", "SELECT region, product, count(*) AS n FROM sales GROUP BY ROLLUP(region, product)"),
    ("cube_grouping", "SELECT region, grouping(region) AS g, count(*) AS n FROM sales GROUP BY CUBE(region)"),
    ("cube_expressions", "SELECT upper(trim(region)) AS r, qty IS NULL AS q, count(*) AS n FROM sales GROUP BY CUBE(upper(trim(region)), qty IS NULL)"),
    ("grouping_sets", "SELECT region, product, sum(qty) AS q FROM sales GROUP BY GROUPING SETS ((region), (product), ())"),
    ("grouping_id", "SELECT region, grouping_id() AS g, count(*) AS n FROM sales GROUP BY ROLLUP(region)"),
    ("filter_clause", "SELECT count(*) FILTER (WHERE qty > 1) AS v FROM sales"),
    ("pivot", "SELECT * FROM (SELECT region, product, qty FROM sales) PIVOT (sum(qty) FOR product IN ('apple' AS apple, 'fig' AS fig))"),
    ("pivot_unaliased_values", "SELECT * FROM (SELECT region, product, qty FROM sales) PIVOT (sum(qty) FOR product IN ('apple', 'fig'))"),
    ("pivot_two_aggregates", "SELECT * FROM (SELECT region, product, qty FROM sales) PIVOT (sum(qty) AS s, count(*) AS c FOR product IN ('apple' AS apple, 'fig'))"),
    ("pivot_unaliased_aggregates", "SELECT * FROM (SELECT region, product, qty, amount FROM sales) PIVOT (sum(qty), max(amount) FOR product IN ('apple' AS a, 'fig' AS f))"),
    ("pivot_count", "SELECT * FROM (SELECT region, product, qty FROM sales) PIVOT (count(qty) FOR product IN ('apple', 'pear'))"),
    ("global_aggregate_empty", "SELECT count(*) AS a, max(qty) AS b FROM sales WHERE false"),
    ("distinct_sum", "SELECT sum(DISTINCT qty) AS v FROM sales"),
    ("array_agg", "SELECT size(array_agg(qty)) AS v FROM sales"),
    ("mode", "SELECT mode(product) AS v FROM sales"),
    ("any_value", "SELECT region, any_value(region) AS v FROM sales WHERE region IS NOT NULL GROUP BY region"),
    ("corr_covar", "SELECT round(corr(x, y), 6) AS a, round(covar_samp(x, y), 6) AS b FROM VALUES (1D, 2D), (2D, 4.5D), (3D, 5.5D) AS t(x, y)"),
    ("sum_float_order", "SELECT sum(x) AS v FROM VALUES (0.1D), (0.2D), (0.3D) AS t(x)"),
    ("count_star_alias", "SELECT count(1) AS a, count(*) AS b FROM nums"),
    ("sum_string_numbers", "SELECT sum(x) AS v FROM VALUES ('1'), ('2.5') AS t(x)"),
])

WINDOWS = _sql("windows", [
    ("row_number", "SELECT product, amount, row_number() OVER (PARTITION BY product ORDER BY amount DESC NULLS LAST) AS rn FROM sales"),
    ("rank_dense_rank", "SELECT x, rank() OVER (ORDER BY x) AS r, dense_rank() OVER (ORDER BY x) AS d FROM VALUES (1), (1), (2), (NULL) AS t(x)"),
    ("percent_rank_ntile", "SELECT x, percent_rank() OVER (ORDER BY x) AS p, ntile(3) OVER (ORDER BY x) AS n, cume_dist() OVER (ORDER BY x) AS c FROM VALUES (1), (2), (2), (3), (4) AS t(x)"),
    ("lag_lead", "SELECT x, lag(x) OVER (ORDER BY x) AS a, lead(x, 2, -1) OVER (ORDER BY x) AS b FROM VALUES (1), (2), (3) AS t(x)"),
    ("running_sum", "SELECT x, sum(x) OVER (ORDER BY x) AS v FROM VALUES (1), (2), (2), (3) AS t(x)"),
    ("running_sum_rows", "SELECT x, y, sum(x) OVER (ORDER BY x, y ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS v FROM VALUES (1, 1), (2, 1), (2, 2), (3, 1) AS t(x, y)"),
    ("moving_avg", "SELECT x, avg(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS v FROM VALUES (1), (2), (4), (8) AS t(x)"),
    ("range_frame", "SELECT x, count(*) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) AS v FROM VALUES (1), (2), (2), (5) AS t(x)"),
    ("partition_total", "SELECT region, amount, sum(amount) OVER (PARTITION BY region) AS v FROM sales"),
    ("first_last_value", "SELECT x, first_value(x) OVER (ORDER BY x) AS a, last_value(x) OVER (ORDER BY x) AS b FROM VALUES (1), (2), (3) AS t(x)"),
    ("last_value_unbounded", "SELECT x, last_value(x) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS v FROM VALUES (1), (2), (3) AS t(x)"),
    ("dedup_latest", "SELECT product, amount FROM (SELECT *, row_number() OVER (PARTITION BY product ORDER BY day DESC NULLS LAST, amount) AS rn FROM sales) WHERE rn = 1"),
    ("avg_decimal_window", "SELECT region, avg(amount) OVER (PARTITION BY region) AS v FROM sales"),
    ("nth_value", "SELECT x, nth_value(x, 2) OVER (ORDER BY x) AS v FROM VALUES (1), (2), (3) AS t(x)"),
    ("count_window_nulls", "SELECT x, count(x) OVER (ORDER BY x) AS v FROM VALUES (NULL), (1), (1) AS t(x)"),
    ("qualify", "SELECT product, amount FROM sales QUALIFY row_number() OVER (PARTITION BY product ORDER BY amount DESC NULLS LAST) = 1"),
    ("qualify_alias", "SELECT product, row_number() OVER (PARTITION BY product ORDER BY amount DESC NULLS LAST) AS rn FROM sales QUALIFY rn = 1"),
    ("qualify_where_order_limit", "SELECT region, product, qty FROM sales WHERE qty IS NOT NULL QUALIFY rank() OVER (PARTITION BY region ORDER BY qty DESC) = 1 ORDER BY qty DESC LIMIT 2"),
    ("qualify_aggregate", "SELECT region, sum(qty) AS total FROM sales GROUP BY region QUALIFY rank() OVER (ORDER BY sum(qty) DESC NULLS LAST) = 1"),
    ("qualify_aggregate_alias", "SELECT region, sum(qty) AS total FROM sales GROUP BY region QUALIFY rank() OVER (ORDER BY total DESC NULLS LAST) = 1"),
    ("qualify_dedup_latest", "SELECT * FROM sales QUALIFY row_number() OVER (PARTITION BY product ORDER BY day DESC NULLS LAST, amount DESC NULLS LAST) = 1"),
    ("qualify_in_cte", "WITH latest AS (SELECT * FROM sales QUALIFY row_number() OVER (PARTITION BY region ORDER BY day DESC, amount) = 1) SELECT region, product FROM latest"),
    ("qualify_distinct", "SELECT DISTINCT region FROM sales QUALIFY count(*) OVER (PARTITION BY region) > 1"),
    ("qualify_column_not_selected", "SELECT product FROM sales QUALIFY row_number() OVER (PARTITION BY region ORDER BY qty DESC NULLS LAST) = 1"),
])

WINDOWS += [Case("windows/qualify_order_by_unselected", ordered=True, sql=(
    "SELECT product FROM sales QUALIFY row_number() OVER (PARTITION BY product ORDER BY amount "
    "DESC NULLS LAST) = 1 ORDER BY amount DESC NULLS LAST"))]

JSON = _sql("json", [
    ("get_json_object", "SELECT id, get_json_object(j, '$.a') AS a, get_json_object(j, '$.b.c') AS c, get_json_object(j, '$.arr[1]') AS e FROM events"),
    ("get_json_object_nested", "SELECT get_json_object(j, '$.b') AS v FROM events WHERE id = 1"),
    ("from_json_struct", "SELECT id, from_json(j, 'a INT, b STRUCT<c: STRING>') AS v FROM events"),
    ("from_json_field", "SELECT id, from_json(j, 'a INT').a AS v FROM events"),
    ("from_json_array", "SELECT from_json('[1,2,3]', 'ARRAY<INT>') AS v"),
    ("from_json_map", "SELECT from_json('{\"a\":1,\"b\":2}', 'MAP<STRING,INT>') AS v"),
    ("from_json_type_mismatch", "SELECT from_json('{\"a\":\"x\"}', 'a INT') AS v"),
    ("from_json_int_overflow", "SELECT from_json('{\"a\":3000000000}', 'a INT') AS v"),
    ("from_json_nested_overflow", "SELECT from_json('{\"a\":[1, 3000000000],\"m\":{\"k\":40000},\"s\":{\"t\":\"2024-01-05 10:00:00\",\"d\":\"2024-01-05\"}}', 'a ARRAY<INT>, m MAP<STRING, SMALLINT>, s STRUCT<t: TIMESTAMP, d: DATE>') AS v"),
    ("from_json_array_overflow", "SELECT from_json('[1, 3000000000]', 'ARRAY<INT>') AS v"),
    ("from_json_decimal", "SELECT from_json('{\"a\":1.005}', 'a DECIMAL(10,2)') AS v"),
    ("from_json_timestamp", "SELECT from_json('{\"t\":\"2024-01-05T10:00:00Z\"}', 't TIMESTAMP') AS v"),
    ("from_json_format_option", "SELECT from_json('{\"t\":\"05/01/2024 10:00\"}', 't TIMESTAMP', map('timestampFormat', 'dd/MM/yyyy HH:mm')) AS v"),
    ("from_json_timestamp_column", "SELECT id, from_json(j, 'a INT, b STRUCT<c: TIMESTAMP>') AS v, from_json(j, 'a TINYINT').a AS w FROM events"),
    ("from_json_date", "SELECT from_json('{\"d\":\"2024-01-05\"}', 'd DATE') AS v"),
    ("from_json_string_number", "SELECT from_json('{\"a\":12}', 'a STRING') AS v"),
    ("from_json_case", "SELECT from_json('{\"A\":1}', 'a INT') AS v"),
    ("to_json_struct", "SELECT to_json(named_struct('a', 1, 'b', 'x', 'c', CAST(NULL AS INT))) AS v"),
    ("to_json_types", "SELECT to_json(named_struct('d', DATE'2024-01-05', 't', TIMESTAMP'2024-01-05 10:00:00', 'm', CAST(1.50 AS DECIMAL(5,2)), 'f', 1.0D)) AS v"),
    ("to_json_options", "SELECT to_json(named_struct('t', TIMESTAMP'2024-01-05 10:00:00'), map('timestampFormat', 'yyyy/MM/dd')) AS v"),
    ("to_json_small_decimal_refused", "SELECT to_json(named_struct('r', CAST(0.00000012 AS DECIMAL(10,8)))) AS v"),
    ("to_json_nested_types", "SELECT to_json(named_struct('a', array(TIMESTAMP'2024-01-05 10:00:00.123456'), 'm', map('k', CAST(1.50 AS DECIMAL(5,2))), 'z', CAST(0 AS DECIMAL(4,2)))) AS v"),
    ("to_json_column_types", "SELECT id, to_json(named_struct('id', id, 'ts', ts, 'm', CAST(id AS DECIMAL(5,2)))) AS v FROM events"),
    ("to_json_map_array", "SELECT to_json(map('k', array(1, 2))) AS v"),
    ("json_tuple", "SELECT json_tuple(j, 'a', 'b') FROM events WHERE id = 1"),
    ("json_array_length", "SELECT json_array_length('[1,2,3]') AS a, json_array_length('{}') AS b"),
    ("json_array_length_values", "SELECT id, json_array_length('{\"a\":[1]}') AS a, json_array_length(' [1, 2]') AS b, json_array_length('\"x\"') AS c, json_array_length(j) AS d FROM events"),
    ("json_object_keys", "SELECT json_object_keys('{\"b\":1,\"a\":2}') AS v"),
    ("schema_of_json", "SELECT schema_of_json('{\"a\":1,\"b\":[1.5],\"c\":\"x\"}') AS v"),
    ("to_json_null_struct", "SELECT to_json(CAST(NULL AS STRUCT<a: INT>)) AS v"),
    ("parse_json_variant", "SELECT CAST(parse_json('{\"a\":1}') AS STRING) AS v"),
    ("variant_get", "SELECT variant_get(parse_json('{\"a\":{\"b\":2}}'), '$.a.b', 'int') AS v"),
    ("get_json_object_quoted_key", "SELECT get_json_object('{\"a b\":1}', '$[''a b'']') AS v"),
])

ARRAYS = _sql("arrays", [
    ("array_basics", "SELECT array(1, 2, 3) AS a, size(array(1, 2)) AS b, array_contains(array(1, 2), 2) AS c"),
    ("size_null", "SELECT size(CAST(NULL AS ARRAY<INT>)) AS v"),
    ("element_at", "SELECT element_at(array(1, 2, 3), 2) AS a, element_at(array(1, 2, 3), -1) AS b"),
    ("element_at_out_of_range", "SELECT element_at(array(1, 2, 3), 5) AS v"),
    ("try_element_at", "SELECT try_element_at(array(1, 2, 3), 5) AS v"),
    ("index_out_of_range", "SELECT array(1, 2, 3)[5] AS v"),
    ("index_zero_based", "SELECT array(1, 2, 3)[0] AS v"),
    ("explode", "SELECT explode(array(1, 2, NULL)) AS v"),
    ("explode_outer_empty", "SELECT id, v FROM nums LATERAL VIEW OUTER explode(CAST(array() AS ARRAY<INT>)) t AS v WHERE id = 1"),
    ("posexplode", "SELECT posexplode(array('a', 'b')) AS (p, v)"),
    ("explode_map", "SELECT explode(map('a', 1, 'b', 2)) AS (k, v)"),
    ("explode_map_column", "SELECT id, explode(m) FROM (SELECT id, map('a', id, 'b', id * 10) AS m FROM nums WHERE id <= 2)"),
    ("posexplode_map", "SELECT posexplode(map('a', 1, 'b', 2))"),
    ("explode_outer_map_lateral", "SELECT id, k, v FROM (SELECT id, CASE WHEN id = 1 THEN map('a', 1) END AS m FROM nums WHERE id <= 2) LATERAL VIEW OUTER explode(m) t AS k, v"),
    ("sort_array", "SELECT sort_array(array(3, NULL, 1)) AS a, sort_array(array(3, NULL, 1), false) AS b, array_sort(array(3, NULL, 1)) AS c"),
    ("array_distinct_union", "SELECT array_distinct(array(1, 1, 2)) AS a, array_union(array(1, 2), array(2, 3)) AS b, array_intersect(array(1, 2), array(2, 3)) AS c, array_except(array(1, 2), array(2)) AS d"),
    ("array_join", "SELECT array_join(array('a', NULL, 'b'), ',') AS a, array_join(array('a', NULL, 'b'), ',', '?') AS b"),
    ("flatten_slice", "SELECT flatten(array(array(1), array(2, 3))) AS a, slice(array(1, 2, 3, 4), 2, 2) AS b"),
    ("array_position_remove", "SELECT array_position(array(3, 2, 1), 1) AS a, array_remove(array(1, 2, 1), 1) AS b"),
    ("transform_filter", "SELECT transform(array(1, 2), x -> x * 10) AS a, filter(array(1, 2, 3), x -> x % 2 = 1) AS b"),
    ("aggregate_lambda", "SELECT aggregate(array(1, 2, 3), 0, (acc, x) -> acc + x) AS v"),
    ("exists_forall", "SELECT exists(array(1, 2), x -> x > 1) AS a, forall(array(1, 2), x -> x > 1) AS b"),
    ("array_max_min", "SELECT array_max(array(1, NULL, 3)) AS a, array_min(array(1, NULL, 3)) AS b"),
    ("arrays_zip", "SELECT arrays_zip(array(1, 2), array('a')) AS v"),
    ("array_repeat_concat", "SELECT array_repeat('x', 2) AS a, concat(array(1), array(2)) AS b"),
    ("sequence_ints", "SELECT sequence(1, 5, 2) AS a, sequence(3, 1) AS b"),
    ("array_of_structs", "SELECT array(named_struct('a', 1), named_struct('a', 2))[1].a AS v"),
    ("array_compare", "SELECT array(1, 2) = array(1, 2) AS v"),
    ("array_append", "SELECT array_append(array(1), 2) AS a, array_prepend(array(1), 0) AS b"),
    ("array_insert", "SELECT array_insert(array(1, 3), 2, 2) AS v"),
    ("array_type_coercion", "SELECT array(1, 2.5D) AS a, array(1, 2L) AS b"),
    ("split_explode", "SELECT explode(split('a,b', ',')) AS v"),
    ("array_null_element_contains", "SELECT array_contains(array(1, NULL), 2) AS v"),
    ("array_contains_null_cases", "SELECT array_contains(array(1, 2), CAST(NULL AS INT)) AS a, array_contains(array(1, NULL), 1) AS b, array_contains(array(1, 2), 3) AS c, array_contains(CAST(NULL AS ARRAY<INT>), 1) AS d"),
    ("zip_with", "SELECT zip_with(array(1, 2), array(10, 20), (x, y) -> x + y) AS v"),
    ("zip_with_uneven_columns", "SELECT zip_with(a, b, (x, y) -> concat(x, coalesce(y, '-'))) AS v FROM VALUES (array('a', 'b', 'c'), array('x')) AS t(a, b)"),
    ("zip_with_shadowed_lambda", "SELECT zip_with(array(1), array(2), (x, y) -> transform(array(x, y), x -> x * 10)) AS v"),
    ("zip_with_struct_field", "SELECT zip_with(array(1, 2), array(3, 4), (x, y) -> named_struct('x', x, 'y', y)).y AS v"),
])

MAPS_STRUCTS = _sql("maps", [
    ("map_basics", "SELECT map('a', 1, 'b', 2) AS m, map_keys(map('a', 1)) AS k, map_values(map('a', 1)) AS v"),
    ("map_lookup", "SELECT map('a', 1)['a'] AS a, map('a', 1)['z'] AS b, element_at(map('a', 1), 'z') AS c"),
    ("map_from_arrays", "SELECT map_from_arrays(array('a', 'b'), array(1, 2)) AS v"),
    ("map_from_entries", "SELECT map_from_entries(array(struct('a', 1))) AS v"),
    ("map_duplicate_key", "SELECT map('a', 1, 'a', 2) AS v"),
    ("map_concat", "SELECT map_concat(map('a', 1), map('b', 2)) AS v"),
    ("str_to_map", "SELECT str_to_map('a:1,b:2') AS a, str_to_map('a=1&b=2', '&', '=') AS b"),
    ("map_entries_filter", "SELECT map_entries(map('a', 1)) AS a, map_filter(map('a', 1, 'b', 2), (k, v) -> v > 1) AS b"),
    ("transform_values", "SELECT transform_values(map('a', 1), (k, v) -> v * 2) AS v"),
    ("map_zip_with", "SELECT map_zip_with(map('a', 1, 'b', 2), map('b', 3, 'c', 4), (k, v1, v2) -> concat(k, ':', coalesce(v1, 0) + coalesce(v2, 0))) AS v, map_zip_with(map('a', 1), CAST(NULL AS MAP<STRING, INT>), (k, x, y) -> x) AS w"),
    ("transform_keys", "SELECT transform_keys(map('a', 1, 'b', 2), (k, v) -> upper(k)) AS v"),
    ("transform_values_column", "SELECT region, transform_values(map(region, qty), (k, v) -> v + 1) AS v FROM sales WHERE region IS NOT NULL"),
    ("map_contains_key", "SELECT map_contains_key(map('a', 1), 'a') AS v"),
    ("struct_basics", "SELECT named_struct('a', 1, 'b', 'x') AS s, struct(1 AS a, 'x' AS b).b AS b"),
    ("struct_star", "SELECT s.* FROM (SELECT named_struct('a', 1, 'b', 'x') AS s)"),
    ("struct_null_field", "SELECT named_struct('a', CAST(NULL AS INT)).a AS v"),
    ("struct_compare", "SELECT named_struct('a', 1) = named_struct('a', 1) AS v"),
    ("nested_field_in_array", "SELECT array(named_struct('a', 1), named_struct('a', 2)).a AS v"),
    ("nested_field_from_json", "SELECT from_json('[{\"a\":1},{\"a\":2}]', 'ARRAY<STRUCT<a: INT>>').a AS v"),
    ("inline", "SELECT inline(array(named_struct('a', 1, 'b', 'x'), named_struct('a', 2, 'b', 'y')))"),
    ("map_size", "SELECT size(map('a', 1, 'b', 2)) AS v, cardinality(map()) AS w"),
])

SQL_SHAPES = _sql("queries", [
    ("union_types", "SELECT 1 AS v UNION ALL SELECT 2.5D"),
    ("union_distinct", "SELECT 1 AS v UNION SELECT 1"),
    ("union_string_int", "SELECT 'a' AS v UNION ALL SELECT 1"),
    ("intersect_except", "SELECT v FROM VALUES (1), (2), (2) AS t(v) EXCEPT SELECT 1"),
    ("except_all", "SELECT v FROM VALUES (1), (2), (2) AS t(v) EXCEPT ALL SELECT 2"),
    ("cte", "WITH a AS (SELECT region, sum(qty) AS q FROM sales GROUP BY region) SELECT * FROM a WHERE q > 1"),
    ("left_join", "SELECT a.id, b.region FROM nums a LEFT JOIN sales b ON a.id = b.qty"),
    ("anti_join", "SELECT id FROM nums a LEFT ANTI JOIN sales b ON a.id = b.qty"),
    ("semi_join", "SELECT id FROM nums a LEFT SEMI JOIN sales b ON a.id = b.qty"),
    ("full_join", "SELECT a.x, b.y FROM VALUES (1), (2) AS a(x) FULL OUTER JOIN VALUES (2), (3) AS b(y) ON a.x = b.y"),
    ("cross_join_count", "SELECT count(*) AS n FROM nums CROSS JOIN sales"),
    ("join_using", "SELECT * FROM VALUES (1, 'a') AS a(k, x) JOIN VALUES (1, 'b') AS b(k, y) USING (k)"),
    ("scalar_subquery", "SELECT id, (SELECT max(qty) FROM sales) AS m FROM nums WHERE id = 1"),
    ("correlated_exists", "SELECT id FROM nums n WHERE EXISTS (SELECT 1 FROM sales s WHERE s.qty = n.id)"),
    ("in_subquery", "SELECT id FROM nums WHERE id IN (SELECT qty FROM sales)"),
    ("limit_order", "SELECT id FROM nums ORDER BY id DESC LIMIT 2"),
    ("distinct_multiple", "SELECT DISTINCT region, product FROM sales"),
    ("star_except", "SELECT * EXCEPT (s, m) FROM nums WHERE id = 1"),
    ("star_except_qualified", "SELECT n.* EXCEPT (s, m), x.v FROM nums n JOIN (SELECT 1 AS id, 'x' AS v) x ON n.id = x.id"),
    ("star_except_in_cte", "WITH t AS (SELECT * EXCEPT (day, amount) FROM sales) SELECT * FROM t WHERE qty = 2"),
    ("star_except_case", "SELECT * EXCEPT (S, Id) FROM nums WHERE id = 2"),
    ("star_except_unknown_column", "SELECT * EXCEPT (nope) FROM nums"),
    ("star_except_join_duplicates", "SELECT * EXCEPT (v) FROM nums n JOIN (SELECT 1 AS id, 'x' AS v) x ON n.id = x.id"),
    ("star_except_nested_field", "SELECT * EXCEPT (s.a) FROM (SELECT named_struct('a', 1, 'b', 2) AS s, 1 AS x)"),
    ("values_types", "SELECT * FROM VALUES (1, 'a'), (2.5, NULL) AS t(x, y)"),
    ("lateral_alias", "SELECT qty * 2 AS dbl, dbl + 1 AS v FROM sales WHERE qty = 1"),
    ("lateral_alias_chain", "SELECT qty AS a, a + 1 AS b, b * 2 AS c FROM sales WHERE qty = 2"),
    ("lateral_alias_column_wins", "SELECT qty * 10 AS amount, amount AS v FROM sales WHERE qty = 1"),
    ("lateral_alias_unaliased", "SELECT qty * 2 AS dbl, dbl + 1 FROM sales WHERE qty = 1"),
    ("lateral_alias_unaliased_call", "SELECT qty * 2 AS dbl, upper(concat(dbl, 'x')) FROM sales WHERE qty = 1"),
    ("lateral_alias_in_window", "SELECT qty AS q, row_number() OVER (ORDER BY q) AS rn FROM sales"),
    ("lateral_alias_aggregate", "SELECT region, sum(qty) AS total, total * 2 AS twice FROM sales GROUP BY region"),
    ("lateral_alias_in_aggregate", "SELECT qty AS q, sum(q) AS s FROM sales"),
    ("lateral_alias_upper", "SELECT upper(product) AS p, concat(p, '!') AS e FROM sales WHERE qty = 5"),
    ("tablesample_none", "SELECT count(*) AS n FROM nums TABLESAMPLE (100 PERCENT)"),
    ("range_table", "SELECT sum(id) AS v FROM range(10)"),
    ("named_expression_case", "SELECT ID, S FROM nums WHERE Id = 1"),
    ("column_name_auto", "SELECT 1 + 1, upper('a'), CAST(1 AS STRING) FROM nums WHERE id = 1"),
    ("column_name_function", "SELECT sum(qty), count(*), avg(amount) FROM sales"),
    ("stack", "SELECT stack(2, 'a', 1, 'b', 2) AS (k, v)"),
    ("unpivot", "SELECT * FROM (SELECT 1 AS id, 10 AS a, 20 AS b) UNPIVOT (v FOR k IN (a, b))"),
    ("typeof_literals", "SELECT typeof(1) AS a, typeof(1.5) AS b, typeof(1.5D) AS c, typeof('x') AS d, typeof(NULL) AS e, typeof(DATE'2024-01-01') AS f"),
    ("hash_partition_stable", "SELECT id, hash(id) AS h, hash(s) AS hs FROM nums"),
])

DATAFRAME = _df("dataframe", [
    ("aggregate_rewrite_keeps_name", "spark.range(4).selectExpr('id % 2 AS k', 'id AS a', 'id * 0.5D AS d').groupBy('k').agg(F.sum('a'), F.round(F.avg('d'), 1)).orderBy('k')"),
    ("grouped_sum_keeps_name", "spark.range(4).selectExpr('id % 2 AS k', 'id AS a').groupBy('k').sum('a').orderBy('k')"),
    ("round_double", "spark.createDataFrame([(1.005,), (0.285,), (2.675,)], 'x double').select(F.round('x', 2).alias('v'))"),
    ("selectexpr_lateral_alias", "spark.table('sales').where('qty = 1').selectExpr('qty * 2 AS dbl', 'dbl + 1 AS v')"),
    ("selectexpr_star_except", "spark.table('nums').where('id = 1').selectExpr('* EXCEPT (s, m)')"),
    ("round_double_column_expr", "spark.table('nums').select('id', F.round(F.col('d') * 1.1, 2).alias('v'))"),
    ("weekday", "spark.sql(\"SELECT DATE'2024-01-07' AS d\").select(F.weekday('d').alias('v'), F.dayofweek('d').alias('w'))"),
    ("date_trunc_of_date", "spark.sql(\"SELECT DATE'2024-01-07' AS d\").select(F.date_trunc('month', 'd').alias('v'))"),
    ("to_timestamp_numeric", "spark.range(1).select(F.to_timestamp(F.lit(1700000000)).alias('v'))"),
    ("try_to_date_expr", "spark.range(1).select(F.expr(\"try_to_date('2024-01-05', 'yyyy-MM-dd')\").alias('v'))"),
    ("selectexpr_quote", "spark.range(1).selectExpr(\"'it''s' AS v\")"),
    ("avg_decimal", "spark.table('sales').groupBy('region').agg(F.avg('amount').alias('v'))"),
    ("percentile_approx", "spark.range(1, 101).select(F.percentile_approx('id', 0.5).alias('v'))"),
    ("int_overflow", "spark.range(1).select((F.lit(2147483647) + F.lit(1)).alias('v'))"),
    ("cast_string_int", "spark.createDataFrame([('1',), ('x',)], 's string').select(F.col('s').cast('int').alias('v'))"),
    ("try_cast", "spark.createDataFrame([('1',), ('x',)], 's string').select(F.col('s').try_cast('int').alias('v'))"),
    ("with_column_chain", "spark.table('nums').withColumn('a', F.col('i') * 2).withColumn('b', F.when(F.col('a') > 0, 'pos').otherwise('neg')).select('id', 'a', 'b')"),
    ("filter_isin", "spark.table('nums').where(F.col('s').isin('a', 'b')).select('id')"),
    ("drop_duplicates", "spark.table('sales').dropDuplicates(['product']).select('product')"),
    ("fillna", "spark.table('nums').fillna({'i': 0, 's': 'none'}).select('id', 'i', 's')"),
    ("dropna", "spark.table('nums').dropna().select('id')"),
    ("agg_dict", "spark.table('sales').groupBy('product').agg({'qty': 'sum', 'amount': 'max'})"),
    ("window_row_number", "spark.table('sales').withColumn('rn', F.row_number().over(W.partitionBy('product').orderBy(F.col('amount').desc_nulls_last()))).select('product', 'amount', 'rn')"),
    ("lag_over", "spark.table('nums').select('id', F.lag('i').over(W.orderBy('id')).alias('v'))"),
    ("union_by_name", "spark.createDataFrame([(1, 'a')], 'x int, y string').unionByName(spark.createDataFrame([('b', 2)], 'y string, x int'))"),
    ("union_by_name_missing", "spark.createDataFrame([(1, 'a')], 'x int, y string').unionByName(spark.createDataFrame([(2,)], 'x int'), allowMissingColumns=True)"),
    ("join_columns", "spark.table('nums').join(spark.table('sales'), F.col('id') == F.col('qty'), 'left').select('id', 'product')"),
    ("explode_df", "spark.createDataFrame([(1, [1, 2])], 'k int, a array<int>').select('k', F.explode('a').alias('v'))"),
    ("from_json_df", "spark.table('events').select('id', F.from_json('j', 'a INT, arr ARRAY<INT>').alias('v'))"),
    ("to_date_format", "spark.createDataFrame([('05/01/2024',)], 's string').select(F.to_date('s', 'dd/MM/yyyy').alias('v'))"),
    ("date_format", "spark.table('events').select('id', F.date_format('ts', 'yyyy-MM-dd HH:mm').alias('v'))"),
    ("current_timestamp_type", "spark.range(1).select(F.current_timestamp().alias('t')).select(F.col('t').isNotNull().alias('v'))"),
    ("concat_ws", "spark.table('nums').select(F.concat_ws('-', 'id', 's').alias('v'))"),
    ("regexp_extract", "spark.createDataFrame([('id=12',)], 's string').select(F.regexp_extract('s', r'id=(\\d+)', 1).alias('v'))"),
    ("sha2", "spark.createDataFrame([('abc',)], 's string').select(F.sha2('s', 256).alias('v'))"),
    ("lit_types", "spark.range(1).select(F.lit(1).alias('a'), F.lit(1.5).alias('b'), F.lit('x').alias('c'), F.lit(None).alias('d'), F.lit(True).alias('e'))"),
    ("decimal_division_df", "spark.table('nums').select('id', (F.col('m') / 3).alias('v'))"),
    ("sum_overflow_df", "spark.createDataFrame([(9223372036854775807,), (1,)], 'x bigint').agg(F.sum('x').alias('v'))"),
    ("create_decimal_rows", "spark.createDataFrame([('1.005',)], 's string').select(F.col('s').cast('decimal(10,2)').alias('v'))"),
    ("column_names_auto", "spark.table('nums').groupBy('s').agg(F.sum('i'), F.count('*')).where('s IS NOT NULL')"),
    ("select_star_alias", "spark.table('nums').alias('n').select('n.*').where('id = 1')"),
    ("when_otherwise_types", "spark.table('nums').select(F.when(F.col('id') == 1, 1).otherwise(2.5).alias('v'))"),
    ("coalesce_df", "spark.table('nums').select(F.coalesce('i', F.lit(0)).alias('v'))"),
    ("struct_field", "spark.range(1).select(F.struct(F.lit(1).alias('a')).alias('s')).select('s.a')"),
    ("round_half_df", "spark.createDataFrame([(0.5,), (1.5,), (2.5,), (-2.5,)], 'x double').select(F.round('x').alias('v'))"),
    ("bround_df", "spark.createDataFrame([(0.5,), (1.5,), (2.5,)], 'x double').select(F.bround('x').alias('v'))"),
    ("cast_double_decimal", "spark.createDataFrame([(1.005,), (0.285,), (2.675,), (1e-7,)], 'x double').select(F.col('x').cast('decimal(10,2)').alias('v'))"),
    ("iso_to_date", "spark.table('iso_strings').select('id', F.to_date('s').alias('v'))"),
    ("iso_cast_date", "spark.table('iso_strings').select('id', F.col('s').cast('date').alias('v'))"),
    ("iso_cast_date_type", "spark.table('iso_strings').select('id', F.col('s').cast(T.DateType()).alias('v'))"),
    ("iso_try_cast_date", "spark.table('iso_strings').select('id', F.col('s').try_cast('date').alias('v'))"),
    ("iso_to_date_unaliased", "spark.table('iso_strings').where('id = 4').select(F.to_date('s'))"),
    ("iso_with_column", "spark.table('iso_strings').withColumn('d', F.to_date(F.col('s'))).where(F.col('d') == F.lit('2026-11-02').cast('date')).select('id')"),
    ("iso_expr", "spark.table('iso_strings').selectExpr('id', 'to_date(s) AS v', 'CAST(s AS DATE) AS w')"),
    ("iso_to_date_invalid", "spark.createDataFrame([('2026-13-02T10:00:00',)], 's string').select(F.to_date('s').alias('v'))"),
    ("iso_try_cast_invalid", "spark.createDataFrame([('2026-13-02T10:00:00',), ('garbage',)], 's string').select(F.col('s').try_cast('date').alias('v'))"),
    ("iso_to_timestamp", "spark.table('iso_strings').where('id NOT IN (8, 9)').select('id', F.to_timestamp('s').alias('v'))"),
    ("datediff_df", "spark.range(1).select(F.datediff(F.lit('2024-03-01').cast('date'), F.lit('2024-02-01').cast('date')).alias('v'))"),
    ("zip_with_df", "spark.range(1).select(F.zip_with(F.array(F.lit(1), F.lit(2)), F.array(F.lit(10), F.lit(20)), lambda x, y: x + y).alias('v'))"),
    ("transform_values_df", "spark.range(1).select(F.transform_values(F.create_map(F.lit('a'), F.lit(1)), lambda k, v: v * 2).alias('v'))"),
    ("explode_map_df", "spark.range(1).select(F.explode(F.create_map(F.lit('a'), F.lit(1), F.lit('b'), F.lit(2))))"),
    ("array_contains_df", "spark.range(1).select(F.array_contains(F.array(F.lit(1), F.lit(None)), 2).alias('v'))"),
    ("from_json_overflow_df", "spark.createDataFrame([('{\"a\":3000000000,\"t\":\"2024-01-05T10:00:00Z\"}',)], 's string').select(F.from_json('s', 'a INT, t TIMESTAMP').alias('v'))"),
    ("to_json_df", "spark.table('events').select('id', F.to_json(F.struct('ts', F.lit(1.5).cast('decimal(5,2)').alias('m'))).alias('v'))"),
    ("initcap_df", "spark.createDataFrame([('hello wORLD foo-bar',), (None,)], 's string').select(F.initcap('s').alias('v'))"),
    ("substring_df", "spark.createDataFrame([('hello',)], 's string').select(F.substring('s', 2, -1).alias('a'), F.substring('s', -10, 7).alias('b'))"),
    ("extract_df", "spark.sql(\"SELECT DATE'2024-01-07' AS d\").select(F.extract(F.lit('DOW'), F.col('d')).alias('a'), F.date_part(F.lit('DAYOFWEEK_ISO'), F.col('d')).alias('b'))"),
    ("percentile_array_df", "spark.range(1, 101).select(F.percentile_approx('id', [0.25, 0.75]).alias('v'))"),
    ("json_array_length_df", "spark.createDataFrame([('[1,2]',), ('{}',)], 's string').select(F.json_array_length('s').alias('v'))"),
    ("field_of_array_expression_df", "spark.range(2).select(F.array(F.struct(F.col('id').alias('a')), F.struct(F.lit(5).alias('a'))).getField('a').alias('v'))"),
    ("map_zip_with_df", "spark.range(1).select(F.map_zip_with(F.create_map(F.lit('a'), F.lit(1)), F.create_map(F.lit('a'), F.lit(2), F.lit('b'), F.lit(3)), lambda k, x, y: F.coalesce(x, F.lit(0)) * 10 + y).alias('v'))"),
    ("decode_expr", "spark.range(3).select(F.expr(\"decode(id, 0, 'zero', 1, 'one', 'many')\").alias('v'))"),
])

READERS = [
    Case("readers/csv_header_infer", dataframe="spark.read.option('header', True).option('inferSchema', True).csv(dir + '/a.csv')",
         files={"a.csv": "id,name,amount\n1,x,1.5\n2,y,2\n"}),
    Case("readers/csv_header_strings", dataframe="spark.read.option('header', True).csv(dir + '/a.csv')",
         files={"a.csv": "id,name\n1,x\n2,\n"}),
    Case("readers/csv_quoted", dataframe="spark.read.option('header', True).csv(dir + '/a.csv')",
         files={"a.csv": "id,name\n1,\"a,b\"\n2,\"say \"\"hi\"\"\"\n"}),
    Case("readers/csv_schema", dataframe="spark.read.schema('id INT, d DATE, m DECIMAL(10,2)').option('header', True).csv(dir + '/a.csv')",
         files={"a.csv": "id,d,m\n1,2024-01-05,1.005\n2,,3\n"}),
    Case("readers/csv_no_header", dataframe="spark.read.csv(dir + '/a.csv')",
         files={"a.csv": "1,x\n2,y\n"}),
    Case("readers/csv_delimiter", dataframe="spark.read.option('header', True).option('sep', ';').csv(dir + '/a.csv')",
         files={"a.csv": "a;b\n1;2\n"}),
    Case("readers/json_lines", dataframe="spark.read.json(dir + '/a.json')",
         files={"a.json": '{"id":1,"name":"a"}\n{"id":2,"tags":["x"]}\n'}),
    Case("readers/json_schema", dataframe="spark.read.schema('id BIGINT, name STRING').json(dir + '/a.json')",
         files={"a.json": '{"id":1,"name":"a"}\n{"id":2}\n'}),
    Case("readers/json_nested", dataframe="spark.read.json(dir + '/a.json').select('id', 'b.c')",
         files={"a.json": '{"id":1,"b":{"c":1.5}}\n{"id":2,"b":{"c":2}}\n'}),
    Case("readers/json_types_infer", dataframe="spark.read.json(dir + '/a.json')",
         files={"a.json": '{"i":1,"f":1.5,"s":"x","b":true,"n":null}\n'}),
    Case("readers/json_sql", sql="SELECT * FROM json.`{dir}/a.json`",
         files={"a.json": '{"id":1}\n{"id":2}\n'}),
    Case("readers/csv_sql", sql="SELECT * FROM csv.`{dir}/a.csv`",
         files={"a.csv": "1,x\n2,y\n"}),
    Case("readers/json_iso_date_schema", dataframe="spark.read.schema('id INT, d DATE, t TIMESTAMP').json(dir + '/a.json')",
         files={"a.json": '{"id":1,"d":"2026-11-02T23:30:00-05:00","t":"2026-11-02T23:30:00-05:00"}\n{"id":2,"d":"2026-11-02T10:00:00.123Z","t":"2026-11-02T10:00:00.123Z"}\n{"id":3,"d":"2026-11-02","t":"2026-11-02"}\n'}),
    Case("readers/csv_iso_date_schema", dataframe="spark.read.schema('id INT, d DATE, t TIMESTAMP').option('header', True).csv(dir + '/a.csv')",
         files={"a.csv": "id,d,t\n1,2026-11-02T23:30:00-05:00,2026-11-02T23:30:00-05:00\n2,2026-11-02T10:00:00Z,2026-11-02T10:00:00Z\n3,2026-11-02,2026-11-02\n"}),
    Case("readers/json_iso_date_to_date", dataframe="spark.read.schema('id INT, ts STRING').json(dir + '/a.json').select('id', F.to_date('ts').alias('v'))",
         files={"a.json": '{"id":1,"ts":"2026-11-02T23:30:00-05:00"}\n{"id":2,"ts":"2026-11-02T10:00:00Z"}\n'}),
    Case("readers/text", dataframe="spark.read.text(dir + '/a.txt')",
         files={"a.txt": "line one\nline two\n"}),
    Case("readers/csv_infer_mixed", dataframe="spark.read.option('header', True).option('inferSchema', True).csv(dir + '/a.csv')",
         files={"a.csv": "a,b,c,d,e\n1,3000000000,true,x,\n2,1,false,1.5,\n"}),
    Case("readers/csv_quoted_backslash", dataframe="spark.read.option('header', True).csv(dir + '/a.csv')",
         files={"a.csv": "id,name\n1,\"a \\\"b\\\" c\"\n"}),
    Case("readers/csv_quote_escape_option", dataframe="spark.read.option('header', True).option('escape', '\"').csv(dir + '/a.csv')",
         files={"a.csv": "id,name\n2,\"say \"\"hi\"\"\"\n"}),
    Case("readers/csv_schema_short_row", dataframe="spark.read.schema('a INT, b STRING, c DOUBLE').csv(dir + '/a.csv')",
         files={"a.csv": "1,x,2.5\n2,y\n3,z,4,extra\n"}),
    Case("readers/json_infer_conflicts", dataframe="spark.read.json(dir + '/a.json')",
         files={"a.json": '{"a":1,"b":"x"}\n{"a":2.5,"b":3,"c":{"z":1,"y":[1,2]}}\n'}),
    Case("readers/json_malformed", dataframe="spark.read.json(dir + '/a.json')",
         files={"a.json": '{"a":1}\nnot json\n{"a":2}\n'}),
    Case("readers/json_nested_date_schema", dataframe="spark.read.schema('id INT, s STRUCT<d: DATE, t: TIMESTAMP>, a ARRAY<DATE>').json(dir + '/a.json')",
         files={"a.json": '{"id":1,"s":{"d":"2026-11-02T23:30:00-05:00","t":"2026-11-02T23:30:00-05:00"},"a":["2026-11-02T23:30:00-05:00","2026-11-03"]}\n'}),
    Case("readers/json_folder", dataframe="spark.read.json(dir)",
         files={"a.json": '{"id":1}\n', "b.json": '{"id":2,"x":"y"}\n', "_hidden.json": '{"id":3}\n'}),
    Case("readers/json_partitioned", dataframe="spark.read.json(dir)",
         files={"year=2024/m=01/a.json": '{"id":1}\n', "year=2025/m=x/b.json": '{"id":2}\n'}),
    Case("readers/csv_partitioned_types", dataframe="spark.read.option('header', True).csv(dir)",
         files={"d=2024-01-05/n=1/a.csv": "id\n1\n", "d=2024-01-06/n=2.5/b.csv": "id\n2\n"}),
    Case("readers/json_partitioned_default", dataframe="spark.read.json(dir)",
         files={"k=7/a.json": '{"id":1}\n', "k=__HIVE_DEFAULT_PARTITION__/b.json": '{"id":2}\n'}),
    Case("readers/json_decimal_schema", dataframe="spark.read.schema('m DECIMAL(10,2), i INT').json(dir + '/a.json')",
         files={"a.json": '{"m":1.005,"i":3000000000}\n{"m":"2.675","i":7}\n'}),
]

# Branches and set operation sides of different types: Spark casts them to their common type.
COERCION = _sql("coercion", [
    ("case_null_first", "SELECT CASE WHEN id > 3 THEN NULL WHEN id = 1 THEN 1 ELSE 2.5D END AS v FROM nums"),
    ("case_simple_int_bigint", "SELECT CASE id WHEN 1 THEN i ELSE l END AS v FROM nums"),
    ("case_decimal_int_columns", "SELECT CASE WHEN id < 3 THEN m ELSE i END AS v FROM nums"),
    ("case_date_timestamp", "SELECT CASE WHEN id = 1 THEN DATE'2024-01-01' ELSE TIMESTAMP'2024-01-02 03:00:00' END AS v FROM nums WHERE id < 3"),
    ("case_string_double", "SELECT CASE WHEN id = 1 THEN '1.5' ELSE d END AS v FROM nums WHERE id < 3"),
    ("case_nested", "SELECT CASE WHEN id > 2 THEN CASE WHEN id > 3 THEN 1 ELSE 2.5 END ELSE 0L END AS v FROM nums"),
    ("case_in_aggregate", "SELECT sum(CASE WHEN qty > 2 THEN amount ELSE 0 END) AS v FROM sales"),
    ("if_string_int", "SELECT if(id = 1, 'x', 2) AS v FROM nums"),
    ("union_decimal_int", "SELECT m AS v FROM nums UNION ALL SELECT i FROM nums"),
    ("union_three_sides", "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2L, 'y' UNION ALL SELECT 2.5D, NULL"),
    ("union_in_cte", "WITH t AS (SELECT 1 AS v UNION ALL SELECT 2.5) SELECT v * 2 AS w FROM t"),
    ("union_in_subquery", "SELECT sum(v) AS s FROM (SELECT i AS v FROM nums UNION ALL SELECT d FROM nums)"),
    ("intersect_types", "SELECT 1 AS v INTERSECT SELECT 1.0D"),
    ("boolean_column_string", "SELECT id FROM (SELECT 1 AS id, true AS b UNION ALL SELECT 2, false) WHERE b = 'yes' OR 'no' <=> b"),
    ("boolean_column_invalid_string", "SELECT id FROM (SELECT 1 AS id, true AS b) WHERE b = 'abc'"),
    ("string_column_boolean", "SELECT s = true AS v FROM VALUES ('true'), ('0'), (NULL) AS t(s)"),
    ("coalesce_mixed", "SELECT coalesce(i, d) AS a, coalesce(m, i) AS b, nvl(i, 2.5) AS c, ifnull(l, m) AS d FROM nums"),
    ("nvl2_nullif_mixed", "SELECT nvl2(i, m, d) AS a, nullif(i, 2.5D) AS b FROM nums"),
    ("greatest_least_mixed", "SELECT greatest(i, m) AS a, least(d, m) AS b, greatest(i, l) AS c FROM nums"),
    ("array_map_mixed", "SELECT array(i, m) AS a, map('x', i, 'y', d) AS b FROM nums WHERE id < 3"),
    ("case_unaliased_name", "SELECT CASE WHEN id = 1 THEN 1 ELSE 2.5 END FROM nums WHERE id < 3"),
    ("in_subquery_union", "SELECT id FROM nums WHERE i IN (SELECT 10 UNION SELECT 7.0D)"),
]) + _df("coercion", [
    ("when_decimal_int_df", "spark.table('nums').select(F.when(F.col('id') < 3, F.col('m')).otherwise(F.col('i')).alias('v'))"),
    ("when_no_otherwise_df", "spark.table('nums').select(F.when(F.col('id') == 1, F.lit(1)).when(F.col('id') == 2, F.lit(2.5)).alias('v'))"),
    ("union_df", "spark.table('nums').select('i').union(spark.table('nums').select('d'))"),
    ("union_by_name_df", "spark.table('nums').select('id', 'm').unionByName(spark.table('nums').select(F.col('d').alias('m'), 'id'))"),
    ("selectexpr_case_df", "spark.table('nums').selectExpr('CASE WHEN id = 1 THEN i ELSE d END AS v')"),
    ("if_expr_df", "spark.table('nums').select(F.expr('if(id = 1, m, 0)').alias('v'))"),
    ("concat_ws_double_df", "spark.table('nums').select('id', F.concat_ws('-', F.lit('v'), F.col('d') * 1e7).alias('v'))"),
])

# Numbers as Spark types, rounds and prints them: wide DECIMAL results, HALF_EVEN, Java's text.
NUMBER_TYPES = _sql("number_types", [
    ("multiply_wide_values", "SELECT id, CAST(m AS DECIMAL(38,18)) * CAST(d AS DECIMAL(38,18)) AS v FROM nums"),
    ("multiply_wide_rounding", "SELECT CAST(1.0000005 AS DECIMAL(38,18)) * CAST(1.0000001 AS DECIMAL(38,18)) AS v"),
    ("subtract_wide", "SELECT CAST(-1.5 AS DECIMAL(38,20)) - CAST(1 AS DECIMAL(38,0)) AS v"),
    ("add_overflow_column", "SELECT CAST(99999999999999999999999999999999999999 AS DECIMAL(38,0)) + CAST(id AS DECIMAL(38,0)) AS v FROM nums WHERE id = 1"),
    ("double_to_string_values", "SELECT id, CAST(d AS STRING) AS v FROM nums"),
    ("double_to_string_edges", "SELECT CAST(x AS STRING) AS v FROM VALUES (1e7D), (9999999.0D), (0.001D), (0.00099D), (-1.25e-7D), (1.7976931348623157e308D), (123456789012345678D), (CAST('Infinity' AS DOUBLE)), (CAST('-Infinity' AS DOUBLE)), (CAST('NaN' AS DOUBLE)), (-0.0D) AS t(x)"),
    ("float_to_string", "SELECT CAST(x AS STRING) AS v FROM VALUES (CAST(1e20 AS FLOAT)), (CAST(1.5e-5 AS FLOAT)), (CAST(12345678 AS FLOAT)), (CAST(0.1 AS FLOAT)) AS t(x)"),
    ("double_to_string_operator", "SELECT id, (d * 1e8)::string AS v FROM nums"),
    ("concat_double", "SELECT id, concat('v=', d * 1e7) AS v FROM nums"),
    ("concat_ws_double", "SELECT id, concat_ws('-', 'v', d * 1e7, CAST(1e20 AS DOUBLE)) AS v FROM nums"),
    ("bround_decimal_half_even", "SELECT id, bround(m, 1) AS v FROM nums"),
    ("bround_double_text", "SELECT bround(1.015D, 2) AS a, bround(2.675D, 2) AS b, bround(-0.125D, 2) AS c"),
    ("bround_negative_scale", "SELECT bround(CAST(25 AS DECIMAL(4,0)), -1) AS a, bround(35, -1) AS b"),
    ("round_decimal_negative_scale", "SELECT round(CAST(25 AS DECIMAL(4,0)), -1) AS a, round(m, -1) AS b, round(CAST(999 AS DECIMAL(3,0)), -5) AS c FROM nums WHERE id = 1"),
    ("round_over_cte", "WITH t AS (SELECT id, d FROM nums) SELECT id, round(d, 2) AS r FROM t"),
    ("double_to_string_min_value", "SELECT CAST(4.9e-324D AS STRING) AS v"),
    ("double_to_string_tiny_subnormals", "SELECT CAST(x AS STRING) AS v FROM VALUES (5e-323D), (-6e-323D), (9e-323D), (1e-322D), (1.5e-323D), (2e-323D) AS t(x)"),
    ("double_to_string_java17_long_text", "SELECT CAST(1e23D AS STRING) AS a, CAST(8.41e21D AS STRING) AS b"),
]) + _df("number_types", [
    ("double_to_string_df", "spark.table('nums').select('id', (F.col('d') * 1e7).cast('string').alias('v'))"),
    ("bround_df", "spark.table('nums').select('id', F.bround('m', 1).alias('v'))"),
])

# Floating-point keys compared as Spark compares them (NormalizeFloatingNumbers): -0.0 = 0.0 and
# every NaN one value, in groupings, DISTINCT, set operations, joins and window partitions.
FLOAT_KEYS = _sql("float_keys", [
    ("group_by_double", "SELECT d, count(*) AS c FROM fkeys GROUP BY d"),
    ("group_by_float", "SELECT f, count(*) AS c FROM fkeys GROUP BY f"),
    ("group_by_expression", "SELECT d * 2 AS k, count(*) AS c FROM fkeys GROUP BY d * 2"),
    ("distinct_double", "SELECT DISTINCT d FROM fkeys"),
    ("count_distinct", "SELECT count(DISTINCT d) AS a, count(DISTINCT f) AS b FROM fkeys"),
    ("union_distinct", "SELECT d FROM fkeys WHERE o IN (1, 3) UNION SELECT d FROM fkeys WHERE o IN (2, 4)"),
    ("intersect", "SELECT d FROM fkeys WHERE o IN (1, 3) INTERSECT SELECT d FROM fkeys WHERE o IN (2, 4)"),
    ("except", "SELECT d FROM fkeys WHERE o IN (1, 3, 5) EXCEPT SELECT d FROM fkeys WHERE o IN (2, 4)"),
    ("in_subquery", "SELECT o FROM fkeys WHERE o IN (1, 3) AND d IN (SELECT d FROM fkeys WHERE o IN (2, 4))"),
    ("join_on", "SELECT a.o AS a, b.o AS b FROM fkeys a JOIN fkeys b ON a.d = b.d"),
    ("join_on_float", "SELECT a.o AS a, b.o AS b FROM fkeys a JOIN fkeys b ON a.f = b.f"),
    ("window_partition", "SELECT o, count(*) OVER (PARTITION BY d) AS c FROM fkeys"),
    ("union_all_keeps_values", "SELECT d FROM fkeys WHERE o IN (3, 4) UNION ALL SELECT d FROM fkeys WHERE o = 3"),
    ("select_keeps_values", "SELECT d, f, o FROM fkeys WHERE o IN (3, 4)"),
    ("join_keeps_values", "SELECT a.d AS d, b.o AS o FROM fkeys a JOIN fkeys b ON a.d = b.d WHERE a.o IN (3, 4)"),
    ("group_by_alias", "SELECT d * 2 AS k, count(*) AS c FROM fkeys GROUP BY k HAVING count(*) > 1"),
    ("group_by_ordinal", "SELECT f, max(o) AS o FROM fkeys GROUP BY 1"),
    ("group_by_in_cte", "WITH t AS (SELECT d, o FROM fkeys) SELECT d, sum(o) AS s FROM t GROUP BY d"),
    ("intersect_all", "SELECT d FROM fkeys WHERE o IN (1, 3, 3) INTERSECT ALL SELECT d FROM fkeys WHERE o IN (2, 4)"),
    ("except_all", "SELECT d FROM fkeys WHERE o IN (1, 3, 5) EXCEPT ALL SELECT d FROM fkeys WHERE o IN (2, 4)"),
    ("union_then_distinct_chain", "SELECT d FROM fkeys WHERE o = 1 UNION ALL SELECT d FROM fkeys WHERE o = 2 UNION SELECT d FROM fkeys WHERE o = 3"),
    ("union_then_all_refused", "SELECT d FROM fkeys WHERE o = 1 UNION SELECT d FROM fkeys WHERE o = 2 UNION ALL SELECT d FROM fkeys WHERE o = 3"),
    ("join_using_refused", "SELECT a.o AS a, b.o AS b FROM fkeys a JOIN fkeys b USING (d)"),
    ("group_by_struct", "SELECT s.d AS d, count(*) AS c FROM (SELECT named_struct('d', d) AS s FROM fkeys) GROUP BY s"),
    ("natural_join_refused", "SELECT a.o AS a, b.p AS b FROM fkeys a NATURAL JOIN (SELECT d, o AS p FROM fkeys) b"),
    ("natural_join_int", "SELECT o, p FROM (SELECT o, d AS x FROM fkeys) a NATURAL JOIN (SELECT o, o AS p FROM fkeys) b"),
    ("rollup", "SELECT d, grouping(d) AS g, count(*) AS c FROM fkeys GROUP BY ROLLUP(d)"),
    ("cube", "SELECT d, f, count(*) AS c FROM fkeys GROUP BY CUBE(d, f)"),
    ("grouping_sets", "SELECT d, o > 2 AS big, count(*) AS c FROM fkeys GROUP BY GROUPING SETS((d), (d, o > 2), ())"),
    ("with_rollup", "SELECT d, count(*) AS c FROM fkeys GROUP BY d WITH ROLLUP"),
    ("group_by_all", "SELECT d, count(*) AS c FROM fkeys GROUP BY ALL"),
    ("named_window", "SELECT o, count(*) OVER w AS c FROM fkeys WINDOW w AS (PARTITION BY d)"),
    ("correlated_exists_group", "SELECT o FROM fkeys a WHERE EXISTS (SELECT 1 FROM fkeys b WHERE b.o <> a.o GROUP BY b.d HAVING count(*) > 0)"),
    ("correlated_in", "SELECT o FROM fkeys a WHERE a.d IN (SELECT b.d FROM fkeys b WHERE b.o <> a.o)"),
    ("unparsed_refused", "SELECT d, count(*) AS c FROM fkeys GROUP BY CUBE(d, o IS NULL)"),
    ("unparsed_int_keys", "SELECT id, count(*) AS c FROM iso_strings GROUP BY CUBE(id, s IS NULL)"),
]) + _df("float_keys", [
    ("groupby_df", "spark.table('fkeys').groupBy('d').count()"),
    ("groupby_float_df", "spark.table('fkeys').groupBy('f').agg(F.min('o').alias('o'))"),
    ("distinct_df", "spark.table('fkeys').select('d').distinct()"),
    ("drop_duplicates_df", "spark.table('fkeys').dropDuplicates(['d']).select('d', 'o')"),
    ("join_using_df", "spark.table('fkeys').alias('a').join(spark.table('fkeys').select('d', F.col('o').alias('p')), 'd').select('o', 'p')"),
    ("join_condition_df", "spark.table('fkeys').alias('a').join(spark.table('fkeys').alias('b'), F.col('a.d') == F.col('b.d')).select(F.col('a.o').alias('a'), F.col('b.o').alias('b'))"),
    ("window_df", "spark.table('fkeys').select('o', F.count('*').over(W.partitionBy('d')).alias('c'))"),
    ("union_distinct_df", "spark.table('fkeys').where('o IN (1, 3)').select('d').union(spark.table('fkeys').where('o IN (2, 4)').select('d')).distinct()"),
    ("intersect_all_df", "spark.table('fkeys').where('o IN (1, 3)').select('d').intersectAll(spark.table('fkeys').where('o IN (2, 4)').select('d'))"),
    ("count_distinct_df", "spark.table('fkeys').agg(F.countDistinct('d').alias('n'))"),
    ("intersect_df", "spark.table('fkeys').where('o IN (1, 3)').select('d').intersect(spark.table('fkeys').where('o IN (2, 4)').select('d'))"),
    ("rollup_df", "spark.table('fkeys').rollup('d').agg(F.grouping('d').alias('g'), F.count('*').alias('c'))"),
    ("cube_df", "spark.table('fkeys').cube('d', 'o').agg(F.grouping('d'), F.grouping_id().alias('g'), F.count('*').alias('c')).where('o IS NULL')"),
])

# DECIMAL sums and averages whose total passes 38 digits: Spark fails (ARITHMETIC_OVERFLOW; over a
# window NUMERIC_VALUE_OUT_OF_RANGE), the engine kept a 39-digit value; means rounded HALF_UP.
DECIMAL_SUMS = _sql("decimal_sums", [
    ("sum_overflow", "SELECT sum(x) AS s FROM VALUES (CAST(99999999999999999999999999999999999999 AS DECIMAL(38,0))), (CAST(1 AS DECIMAL(38,0))) AS t(x)"),
    ("sum_overflow_view", "SELECT sum(x) AS s FROM wide_sums"),
    ("sum_overflow_group_by", "SELECT k, sum(x) AS s FROM wide_sums GROUP BY k"),
    ("sum_group_by_fits", "SELECT k, sum(x) AS s FROM wide_sums WHERE k <> 'a' GROUP BY k"),
    ("sum_back_in_range", "SELECT sum(x) AS s FROM VALUES (CAST(99999999999999999999999999999999999999 AS DECIMAL(38,0))), (CAST(1 AS DECIMAL(38,0))), (CAST(-5 AS DECIMAL(38,0))) AS t(x)"),
    ("sum_distinct_overflow", "SELECT sum(DISTINCT x) AS s FROM wide_sums"),
    ("sum_distinct_fits", "SELECT sum(DISTINCT x) AS s FROM wide_sums WHERE k = 'b'"),
    ("sum_unaliased", "SELECT sum(x) FROM wide_sums WHERE k = 'b'"),
    ("sum_nulls", "SELECT sum(x) AS s FROM wide_sums WHERE k = 'c'"),
    ("sum_scale_fits", "SELECT sum(x) AS s FROM VALUES (CAST(9999999999999999999999999999.99 AS DECIMAL(30,2))), (CAST(0.01 AS DECIMAL(30,2))), (CAST(1.50 AS DECIMAL(30,2))) AS t(x)"),
    ("try_sum_overflow", "SELECT k, try_sum(x) AS s FROM wide_sums GROUP BY k"),
    ("avg_overflow", "SELECT avg(x) AS a FROM wide_sums"),
    ("avg_overflow_group_by", "SELECT k, avg(x) AS a FROM wide_sums GROUP BY k"),
    ("avg_group_by_fits", "SELECT k, avg(x) AS a FROM wide_sums WHERE k <> 'a' GROUP BY k"),
    ("avg_mean_out_of_range", "SELECT avg(x) AS a FROM VALUES (CAST(30000000000000000000000000000000000000 AS DECIMAL(38,0))), (CAST(30000000000000000000000000000000000000 AS DECIMAL(38,0))) AS t(x)"),
    ("avg_rounds_38_0", "SELECT avg(x) AS a FROM VALUES (CAST(1 AS DECIMAL(38,0))), (CAST(2 AS DECIMAL(38,0))), (CAST(2 AS DECIMAL(38,0))) AS t(x)"),
    ("avg_rounds_negative", "SELECT avg(x) AS a FROM VALUES (CAST(-1 AS DECIMAL(38,0))), (CAST(-2 AS DECIMAL(38,0))), (CAST(-2 AS DECIMAL(38,0))) AS t(x)"),
    ("avg_rounds_38_2", "SELECT avg(x) AS a FROM VALUES (CAST(0.01 AS DECIMAL(38,2))), (CAST(0.01 AS DECIMAL(38,2))), (CAST(0 AS DECIMAL(38,2))) AS t(x)"),
    ("avg_rounds_38_10", "SELECT avg(x) AS a FROM VALUES (CAST(1 AS DECIMAL(38,10))), (CAST(2 AS DECIMAL(38,10))), (CAST(2 AS DECIMAL(38,10))) AS t(x)"),
    ("avg_rounds_30_10", "SELECT avg(x) AS a FROM VALUES (CAST(1 AS DECIMAL(30,10))), (CAST(2 AS DECIMAL(30,10))), (CAST(2 AS DECIMAL(30,10))) AS t(x)"),
    ("avg_rounds_38_36", "SELECT avg(x) AS a FROM VALUES (CAST(0.1 AS DECIMAL(38,36))), (CAST(0.2 AS DECIMAL(38,36))), (CAST(0.2 AS DECIMAL(38,36))) AS t(x)"),
    ("avg_distinct_overflow", "SELECT avg(DISTINCT x) AS a FROM wide_sums"),
    ("avg_distinct", "SELECT avg(DISTINCT x) AS a FROM wide_sums WHERE k = 'b'"),
    ("try_avg_decimal", "SELECT try_avg(x) AS a FROM VALUES (CAST(0.01 AS DECIMAL(10,2))), (0.01), (0.03) AS t(x)"),
    ("try_avg_decimal_38", "SELECT try_avg(x) AS a FROM VALUES (CAST(1 AS DECIMAL(38,0))), (2), (2) AS t(x)"),
    ("try_avg_mean_out_of_range", "SELECT try_avg(x) AS a FROM VALUES (CAST(30000000000000000000000000000000000000 AS DECIMAL(38,0))), (30000000000000000000000000000000000000) AS t(x)"),
    ("try_avg_overflow", "SELECT k, try_avg(x) AS a FROM wide_sums GROUP BY k"),
    ("sum_and_avg", "SELECT k, sum(x) AS s, avg(x) AS a FROM wide_sums WHERE k <> 'a' GROUP BY k"),
    ("sum_filter_overflow", "SELECT sum(x) FILTER (WHERE k = 'a') AS s FROM wide_sums"),
    ("sum_filter_fits", "SELECT sum(x) FILTER (WHERE k = 'b') AS s, avg(x) FILTER (WHERE k = 'b') AS a FROM wide_sums"),
    ("sum_bigint_filter", "SELECT sum(l) FILTER (WHERE id < 3) AS s FROM nums"),
    ("window_named_sum_overflow", "SELECT k, sum(x) OVER w AS s FROM wide_sums WINDOW w AS (PARTITION BY k)"),
    ("window_sum_overflow", "SELECT k, sum(x) OVER (PARTITION BY k) AS s FROM wide_sums"),
    ("window_running_sum_overflow", "SELECT k, sum(x) OVER (ORDER BY x) AS s FROM wide_sums"),
    ("window_sum_fits", "SELECT k, x, sum(x) OVER (PARTITION BY k ORDER BY x) AS s FROM wide_sums WHERE k <> 'a'"),
    ("window_avg_overflow", "SELECT k, avg(x) OVER (PARTITION BY k) AS a FROM wide_sums"),
    ("window_avg_fits", "SELECT k, x, avg(x) OVER (PARTITION BY k) AS a FROM wide_sums WHERE k <> 'a'"),
]) + _df("decimal_sums", [
    ("sum_df", "spark.table('wide_sums').select(F.sum('x'))"),
    ("avg_df", "spark.table('wide_sums').select(F.avg('x'))"),
    ("agg_dict_df", "spark.table('wide_sums').agg({'x': 'sum'})"),
    ("group_by_sum_df", "spark.table('wide_sums').groupBy('k').sum('x')"),
    ("group_by_fits_df", "spark.table('wide_sums').where(\"k <> 'a'\").groupBy('k').agg(F.sum('x').alias('s'), F.avg('x').alias('a'))"),
    ("sum_distinct_df", "spark.table('wide_sums').where(\"k = 'b'\").select(F.sum_distinct('x').alias('s'))"),
    ("sum_distinct_overflow_df", "spark.table('wide_sums').select(F.sum_distinct('x').alias('s'))"),
    ("window_sum_df", "spark.table('wide_sums').select('k', F.sum('x').over(W.partitionBy('k')).alias('s'))"),
    ("window_fits_df", "spark.table('wide_sums').where(\"k <> 'a'\").select('k', 'x', F.sum('x').over(W.partitionBy('k').orderBy('x')).alias('s'), F.avg('x').over(W.partitionBy('k')).alias('a'))"),
    ("try_avg_df", "spark.table('wide_sums').groupBy('k').agg(F.try_avg('x').alias('a'))"),
    ("try_sum_df", "spark.table('wide_sums').groupBy('k').agg(F.try_sum('x').alias('s'))"),
])

# Arithmetic on STRING values (a bronze table's text columns): Spark's ANSI coercion casts them.
STRING_ARITHMETIC = _sql("string_arithmetic", [
    ("beside_integers", "SELECT s + 1 AS a, 2 - s AS b, s * CAST(2 AS TINYINT) AS c, s % 2 AS d, s / 2 AS e FROM VALUES ('3'), (' 7 '), (NULL) AS t(s)"),
    ("beside_decimal_double_float", "SELECT s + 1.5 AS a, s * 2.0D AS b, s / CAST(2 AS DECIMAL(4,1)) AS c, s - CAST(1 AS FLOAT) AS d FROM VALUES ('2.5'), (NULL) AS t(s)"),
    ("beside_integer_columns", "SELECT id, x + i AS a, l * x AS b FROM nums CROSS JOIN VALUES ('2') AS t(x) WHERE id < 4"),
    ("unaliased_name", "SELECT s + 1 FROM VALUES ('3') AS t(s)"),
    ("literal", "SELECT '3' + 1 AS v"),
    ("not_an_integer", "SELECT s + 1 AS v FROM VALUES ('2.5') AS t(s)"),
    ("overflow", "SELECT s + 1 AS v FROM VALUES ('9223372036854775807') AS t(s)"),
    ("two_strings", "SELECT s / s AS v FROM VALUES ('3') AS t(s)"),
]) + _df("string_arithmetic", [
    ("columns_df", "spark.createDataFrame([('3',), (' 7 ',), (None,)], 's string').select((F.col('s') + 1).alias('a'), (F.col('s') * F.lit(1.5)).alias('b'), (F.col('s') / 2).alias('c'), (F.lit(10) - F.col('s')).alias('d'))"),
    ("two_strings_df", "spark.createDataFrame([('3',)], 's string').select((F.col('s') / F.col('s')).alias('v'))"),
])

# Regular expressions: Spark compiles patterns with java.util.regex (ASCII \d \w \s and POSIX
# classes, ASCII-only (?i), \Q...\E, `\` escapes and Java's $n rule in replacements); the engine
# with Rust's regex crate (`regex_rules` translates literal patterns).
REGEX = _sql("regex", [
    ("digit_non_ascii", r"SELECT regexp_replace('a٣b', '\\d', '#') AS v"),
    ("word_accents", r"SELECT regexp_replace('café', '\\w', '#') AS a, regexp_like('Straße', '^\\w+$') AS b"),
    ("space_nbsp", "SELECT regexp_replace('a\u00a0b c', '\\\\s', '_') AS v"),
    ("case_insensitive_non_ascii", r"SELECT regexp_replace('ÀB', '(?i)àb', 'x') AS a, regexp_replace('àB', '(?i)àb', 'x') AS b, regexp_replace('AB', '(?i)ab', 'x') AS c"),
    ("posix_classes", r"SELECT regexp_replace('é1a', '\\p{Alpha}', '#') AS a, regexp_replace('é1a', '\\P{Alpha}', '#') AS b, regexp_replace('aB1é', '\\p{Upper}', '#') AS c, regexp_replace('a!é,', '\\p{Punct}', '#') AS d, regexp_replace('ä٣f9', '\\p{XDigit}', '#') AS e"),
    ("replacement_escapes", r"SELECT regexp_replace('a', 'a', '\\$') AS a, regexp_replace('ab', 'b', '\\\\') AS b, regexp_replace('abc', '(b)', '$10') AS c, regexp_replace('ab', '(a)', '\\$1') AS d"),
    ("replacement_groups", r"SELECT regexp_replace('ab', '(a)(b)', '$2$1') AS a, regexp_replace('ab', '(a)', '[$0]') AS b, regexp_replace('ab', '(a)', '$1x') AS c"),
    ("replacement_missing_group", r"SELECT regexp_replace('ab', '(a)', '$2') AS v"),
    ("replacement_lone_dollar", r"SELECT regexp_replace('ab', 'a', 'x$') AS v"),
    ("negated_classes", "SELECT regexp_replace('a٣ b\u00a0', '\\\\D', '#') AS a, regexp_replace('é_1', '\\\\W', '#') AS b, regexp_replace('a\u00a0b c', '\\\\S', '#') AS c"),
    ("classes_with_escapes", r"SELECT regexp_replace('a٣1.x', '[\\d.]', '#') AS a, regexp_replace('a٣1', '[^\\d]', '#') AS b, regexp_replace('é_1 x', '[\\w\\s]', '#') AS c, regexp_replace('é_1', '[\\W1]', '#') AS d"),
    ("quoted_text", r"SELECT regexp_replace('a[a]b.c', '\\Q[a]\\E', '#') AS a, regexp_replace('a.c abc', '\\Q.\\E', '#') AS b"),
    ("escaped_backslash", r"SELECT regexp_replace('a\\d1', '\\\\d', '#') AS v"),
    ("dot_line_terminators", "SELECT regexp_replace('a\\rb', 'a.b', 'x') AS a, regexp_replace('a\\rb', '(?s)a.b', 'x') AS b"),
    ("functions", r"SELECT regexp_extract('x٣5y', '(\\d+)', 1) AS a, regexp_extract_all('1٣2', '\\d', 0) AS b, regexp_count('1٣2', '\\d') AS c, regexp_substr('٣5', '\\d+') AS d, regexp_instr('٣5', '\\d') AS e, split('a٣b1c', '\\d') AS f"),
    ("rlike_operators", r"SELECT '٣' RLIKE '\\d' AS a, 'é' REGEXP '^\\w$' AS b, rlike('٣', '\\d') AS c, regexp('é', '^\\w$') AS d, 'x1' NOT RLIKE '\\d' AS e"),
    ("ascii_pattern_unchanged", r"SELECT regexp_replace('2024-01-02', '^([0-9]{4})-([0-9]{2})-([0-9]{2})$', '$3/$2/$1') AS a, regexp_extract('k=v', '([a-z]+)=([a-z]+)', 2) AS b"),
    ("column_values", r"SELECT id, regexp_replace(s, '\\s', '_') AS a, regexp_replace(concat(s, '٣'), '\\d', '#') AS b, s RLIKE '^\\w$' AS c FROM nums"),
    ("case_insensitive_ascii", "SELECT regexp_replace('K', '(?i)k', 'x') AS a, regexp_replace('ſ', '(?i)s', 'x') AS b, regexp_replace('Kſ', '(?i)[a-z]', 'x') AS c"),
    ("case_insensitive_class", r"SELECT regexp_replace('É', '(?i)[é]', 'x') AS v"),
    ("unaliased_names", r"SELECT regexp_replace(s, '\\W', ''), regexp_extract(s, '(\\d)'), regexp_extract_all(s, '(\\d)', 1), split(s, '\\d'), regexp_count(s, '\\d'), rlike(s, '\\d'), regexp_like(s, '\\w'), regexp_instr(s, '\\d') FROM VALUES ('a٣1') AS t(s)"),
    ("unaliased_operators", r"SELECT s RLIKE '\\d', s NOT REGEXP '\\w', s REGEXP '^\\w+$' FROM VALUES ('a٣1') AS t(s)"),
    ("final_line_terminator", r"SELECT 'ab\n' RLIKE 'b$' AS a, regexp_like('ab\r\n', '^ab$') AS b, 'ab\n\n' RLIKE 'b$' AS c, rlike('a\nb', 'a$') AS d, 'ab' RLIKE 'b$' AS e"),
    ("final_line_terminator_replace", r"SELECT regexp_replace('ab\n', 'b$', 'x') AS v"),
    ("same_both", r"SELECT regexp_replace('a b', '\\bb', 'x') AS a, split('a1b2c', '\\d') AS b, regexp_replace('ab', '', '-') AS c"),
    ("final_line_terminator_functions", r"SELECT regexp_extract('ab\n', '(b)$', 1) AS a, regexp_extract('ab\n', 'b$', 0) AS b, regexp_substr('ab\r\n', 'b$') AS c, regexp_instr('ab\n', 'b$') AS d, regexp_count('ab\n', 'b$') AS e, regexp_extract_all('ab\n', '[a-z]$', 0) AS f, regexp_replace('data.csv\r\n', '\\.(csv|txt)$', '.json') AS g, regexp_replace('ab\u2028', '(a)(b)$', '$2$1') AS h"),
    ("final_line_terminator_split", r"SELECT split('ab\n', 'b$') AS a, split('a,b\r\n', ',?b$') AS b, split('ab', 'b$') AS c, split('b\n', 'b$') AS d, split('ab\n', 'b$', 1) AS e, split('ab\n', 'b$', 2) AS f, split('x.csv\u2028', '\\.(csv|txt)$') AS g, split('abab\n', 'b$') AS h, split(CAST(NULL AS STRING), 'b$') AS i, split('ab\n\n', 'b$') AS j, split('a\r', '[ab]$', -1) AS k"),
    ("final_line_terminator_ascii", r"SELECT regexp_replace('ab', 'b$', 'x') AS a, regexp_extract('a1', '([0-9]+)$', 1) AS b, regexp_count('ab', 'b$') AS c"),
    ("empty_matches", r"SELECT regexp_count('aab', 'a*') AS a, split('a1b', '') AS b, regexp_extract_all('aab', 'a*', 0) AS c, regexp_replace('baaab', 'a*', '-') AS d"),
    ("empty_matches_without_replacement", r"SELECT regexp_replace('a  b ', '\\s*', '') AS a, regexp_replace('ab', '^', '>') AS b, regexp_count('a1b22', '[0-9]+') AS c"),
    ("substr_empty_match", r"SELECT regexp_substr('abc', 'x*') AS a, regexp_substr('abc', 'b*') AS b, regexp_substr('abc', 'z') AS c, regexp_substr('abc', 'b+') AS d"),
    ("folded_literal", r"SELECT regexp_replace('a٣1', concat('\\d', ''), '#') AS a, regexp_replace('a٣1', '\\' || 'd', '#') AS b"),
    ("column_patterns", r"SELECT id, regexp_replace(s, p, '') AS a, s RLIKE p AS b, regexp_extract(s, p, 0) AS c, regexp_count(s, p) AS d FROM VALUES (1, 'a1b22', '\\d+'), (2, 'x y', '\\s'), (3, 'ab', '^a'), (4, NULL, 'a'), (5, 'ab', NULL) AS t(id, s, p)"),
]) + _df("regex", [
    ("functions_df", r"spark.createDataFrame([(1, 'a٣b'), (2, 'café'), (3, 'Straße 1')], 'id int, s string').select('id', F.regexp_replace('s', '\\d', '#').alias('a'), F.regexp_replace('s', '\\w', '#').alias('b'), F.col('s').rlike('^\\w+$').alias('c'), F.regexp_extract('s', '(\\d)', 1).alias('d'), F.split('s', '\\d').alias('e'), F.regexp_count('s', F.lit('\\w')).alias('f'))"),
    ("replacement_df", r"spark.createDataFrame([('ab',)], 's string').select(F.regexp_replace('s', '(a)', '\\$1').alias('a'), F.regexp_replace('s', 'b', '\\\\').alias('b'), F.regexp_replace('s', '(a)', '$10').alias('c'), F.regexp_replace('s', '(?<first>a)', '${first}!').alias('d'))"),
    ("final_line_terminator_df", r"spark.createDataFrame([('ab\n',), ('x.csv\r\n',)], 's string').select(F.regexp_replace('s', 'b$', 'x').alias('a'), F.regexp_extract('s', r'\.(csv)$', 1).alias('b'), F.regexp_substr('s', F.lit('[a-z]$')).alias('c'))"),
    ("final_line_terminator_split_df", r"spark.createDataFrame([(1, 'ab\n'), (2, 'ab'), (3, None), (4, 'x.csv\r\n')], 'id int, s string').select('id', F.split('s', 'b$').alias('a'), F.split('s', r'\.(csv)$', 2).alias('b'))"),
    ("folded_literal_df", r"spark.createDataFrame([('a٣1',)], 's string').select(F.regexp_replace('s', F.concat(F.lit('\\d'), F.lit('+')), '#').alias('a'), F.regexp_count('s', F.concat(F.lit('\\d'))).alias('b'))"),
    ("column_patterns_df", r"spark.createDataFrame([(1, 'a1b22', '\\d+'), (2, 'x y', ' ')], 'id int, s string, p string').select('id', F.regexp_replace('s', F.col('p'), F.lit('')).alias('a'), F.regexp_extract('s', F.col('p'), 0).alias('b'), F.split('s', F.col('p')).alias('c'))"),
])

# `${...}` variable substitution (`spark.sql.variable.substitute`): Spark's parser substitutes
# every SQL text it reads, the engine's none; lakesmith substitutes pipeline SQL, `spark.sql`
# and expression strings (here: with the session's settings, which pipelines take from their
# configuration).
VARIABLES = _sql("variables", [
    ("references", r"SELECT '${spark.sql.session.timeZone}' AS a, '${spark:spark.sql.session.timeZone}' AS b, '${sparkconf:spark.sql.session.timeZone}' AS c, '${env:LAKESMITH_UNSET_VARIABLE}' AS d, '${foo:bar}' AS e, '${ x}${}' AS f, '\\${spark.sql.session.timeZone}' AS g"),
]) + _df("variables", [
    ("expression_df", "spark.range(1).selectExpr(\"'${spark.sql.session.timeZone}' AS a\").where(\"'${hiveconf:spark.sql.session.timeZone}' = 'UTC'\")"),
])

# ln / log / log2 / log10 / exp / pow: Spark computes them with Java's StrictMath (fdlibm); the
# engine's libm rounds 2-34 % of values otherwise in the last bit (`strict_math`).
STRICT_MATH = _sql("strict_math", [
    ("literals", "SELECT ln(3.0D) AS a, log(10.0D, 3.0D) AS b, log2(3) AS c, log10(3.0) AS d, log(3) AS e"),
    ("unary_values", "SELECT id, ln(x) AS ln, log(x) AS log, log2(x) AS log2, log10(x) AS log10 FROM logs"),
    ("base_values", "SELECT id, log(b, x) AS v, log(10, x) AS t, log(2.0D, x) AS two FROM logs"),
    ("null_rules", "SELECT log(-2, 8) AS a, log(1, 1) AS b, log(1, 5) AS c, ln(-1) AS d, log2(0) AS e, log10(CAST('NaN' AS DOUBLE)) AS f, log(CAST('NaN' AS DOUBLE), -1) AS g, log(0.5, 0) AS h"),
    ("unaliased", "SELECT ln(x), log(10, x), log10(x), log2(x), log(x) FROM logs WHERE id = 1"),
    ("other_types", "SELECT ln(CAST(3 AS DECIMAL(5,2))) AS a, log10(CAST(1000 AS BIGINT)) AS b, ln(CAST(3 AS FLOAT)) AS c, ln(s) AS d FROM VALUES ('3') AS t(s)"),
    ("string_not_a_number", "SELECT ln(s) AS v FROM VALUES ('x') AS t(s)"),
    ("in_filter_and_expression", "SELECT id, round(ln(x) * 100, 6) AS r FROM logs WHERE ln(x) > 1"),
    ("exp_values", "SELECT id, exp(x) AS a, exp(-x) AS b, exp(b) AS c FROM logs"),
    ("exp_literals", "SELECT exp(1.0798414400485066D) AS a, exp(0) AS b, exp(709.8D) AS c, exp(-746D) AS d, exp('1') AS e, EXP(2)"),
    ("pow_values", "SELECT id, pow(b, x) AS a, power(x, b) AS b, pow(x, 0.5) AS c, pow(x, 2) AS d FROM logs"),
    ("hyperbolic_values", "SELECT id, sinh(x) AS a, cosh(x) AS b, tanh(x) AS c, asinh(x) AS d, acosh(x) AS e, atanh(x / 4) AS f FROM logs"),
    ("inverse_trig_values", "SELECT id, asin(x / 4) AS a, acos(x / 4) AS b, atan(x) AS c, atan2(b, x) AS d, atan2(-0.0D, -1) AS e FROM logs"),
    ("other_values", "SELECT id, log1p(x) AS a, expm1(x) AS b, cbrt(x) AS c, hypot(x, b) AS d, log1p(-x) AS e FROM logs"),
    ("other_literals", "SELECT log1p(4.327090783509564e-81D) AS a, hypot(1.4581211164123282e+270D, 2) AS b, expm1(0.9999999999995526D) AS c, cosh(1.0798414400485066D) AS d, atan2(1.5D, 520648.1743064916D) AS e, cbrt(1.0461749602693562e+157D) AS f, log1p(-1) AS g, ATANH(0.5), HYPOT(3, 4)"),
    ("group_by_function", "SELECT floor(log10(x)) AS bucket, count(*) AS n FROM logs WHERE id < 9 GROUP BY floor(log10(x))"),
    ("group_by_function_unaliased", "SELECT ln(x), count(*) AS n FROM logs GROUP BY ln(x)"),
    ("group_by_function_only_key", "SELECT count(*) AS n FROM logs GROUP BY exp(x)"),
    ("group_by_function_in_expression", "SELECT floor(ln(x)) + 1 AS b, count(*) AS n FROM logs WHERE id < 9 GROUP BY floor(ln(x))"),
    ("pow_literals", "SELECT pow(3.0D, 0.9498871135024098D) AS a, pow(2, 2.5) AS b, pow(0, -1) AS c, pow(-8, 1.0D / 3) AS d, pow(-2, 3) AS e, power(10, -2) AS f, pow(1, CAST('NaN' AS DOUBLE)) AS g, POWER(2, 10)"),
]) + _df("strict_math", [
    ("functions_df", "spark.table('logs').select('id', F.ln('x').alias('a'), F.log(10.0, 'x').alias('b'), F.log2('x').alias('c'), F.log10('x').alias('d'), F.log(F.col('b'), F.col('x')).alias('e'), F.log('x').alias('f'))"),
    ("select_expr_df", "spark.table('logs').selectExpr('id', 'ln(x) AS a', 'log(b, x) AS b')"),
    ("exp_pow_df", "spark.table('logs').select('id', F.exp('x').alias('a'), F.pow('b', 'x').alias('b'), F.pow(F.col('x'), 3).alias('c'))"),
    ("functions_more_df", "spark.table('logs').select('id', F.log1p('x').alias('a'), F.expm1('x').alias('b'), F.cosh('x').alias('c'), F.atan2('b', 'x').alias('d'), F.hypot('x', 'b').alias('e'), F.cbrt('x').alias('f'), F.asinh('x').alias('g'))"),
])

# sin / cos / tan: Spark calls java.lang.Math's, which HotSpot replaces on x86-64 by Intel's libm
# (not fdlibm); the engine's libm rounds a few values otherwise: sin, cos, sec and csc run a port
# of HotSpot's stubs (`hotspot_trig`), tan and cot are refused (`strict_math`).
TRIGONOMETRY = _sql("trigonometry", [
    ("sin_cos", "SELECT sin(7.311712193543694e+205D) AS a, cos(0.9999999999996372D) AS b, sin(radians(-7.6634D)) AS c, cos(57.2620303192547D) AS d"),
    ("sec_csc", "SELECT sec(0.9999999999996372D) AS a, csc(-0.0D) AS b, csc(0) AS c, sec(1.0E300D) AS d, csc(1.0E-300D) AS e"),
    ("haversine", "SELECT 2 * 6371.0D * asin(sqrt(pow(sin(radians(lat2 - lat1) / 2), 2) + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lon2 - lon1) / 2), 2))) AS km FROM VALUES (-22.2682D, 171.5603D, -64.087D, 20.1939D), (52.52D, 13.405D, 48.8566D, 2.3522D) AS t(lat1, lon1, lat2, lon2)"),
    ("special_values", "SELECT x, sin(x) AS a, cos(x) AS b, sec(x) AS c, csc(x) AS d FROM VALUES (0.0D), (-0.0D), (CAST('NaN' AS DOUBLE)), (CAST('Infinity' AS DOUBLE)), (NULL), (4.9e-324D), (1.0E-200D) AS t(x)"),
    ("other_types", "SELECT sin(1) AS a, cos(CAST(2.5 AS DECIMAL(4,2))) AS b, sin(CAST(1.5 AS FLOAT)) AS c, cos(s) AS d FROM VALUES ('3') AS t(s)"),
    ("unaliased", "SELECT sin(x), cos(x), sec(x), csc(x) FROM logs WHERE id = 1"),
    ("values", "SELECT id, sin(x) AS a, cos(x) AS b, sec(b) AS c, csc(x) AS d FROM logs"),
    ("in_filter_and_group", "SELECT floor(sin(x) * 4) AS bucket, count(*) AS n FROM logs WHERE cos(x) < 0.9D GROUP BY floor(sin(x) * 4)"),
    ("group_by_function_unaliased", "SELECT cos(x), count(*) AS n FROM logs WHERE id < 3 GROUP BY cos(x)"),
    ("tan_cot", "SELECT tan(1.2433003267673704e+58D) AS a, cot(0.5D) AS b"),
    ("exact_values", "SELECT sin(0) AS a, cos(0) AS b, tan(0) AS c, sin(x) AS d FROM logs WHERE id = 10"),
]) + _df("trigonometry", [
    ("functions_df", "spark.table('logs').select('id', F.sin('x').alias('a'), F.cos('x').alias('b'), F.sec('b').alias('c'), F.csc('x').alias('d'))"),
    ("select_expr_df", "spark.table('logs').selectExpr('id', 'sin(x) AS a', 'cos(x * 1000) AS b')"),
])

# STRING arguments of math functions and numeric aggregates: Spark casts the text to DOUBLE
# (DECIMAL(38,18) for ceil/floor with a scale), CAST_INVALID_INPUT on bad text (`string_operands`).
STRING_OPERANDS = _sql("string_operands", [
    ("rounding", "SELECT s, ceil(s) AS a, floor(s) AS b, ceiling(s) AS c, ceil(s, 1) AS d, floor(s, 0) AS e FROM texts"),
    ("signs_and_powers", "SELECT s, sign(s) AS a, signum(s) AS b, positive(s) AS c, abs(s) AS d, power(s, 2) AS e, pow(s, 1) AS f FROM texts"),
    ("rounding_functions", "SELECT s, round(s) AS a, round(s, 1) AS b, bround(s) AS c, bround(s, 1) AS d FROM texts"),
    ("other_functions", "SELECT s, sqrt(s) AS a, exp(s) AS b, -s AS c FROM texts"),
    ("aggregates", "SELECT try_sum(s) AS a, stddev(s) AS b, stddev_samp(s) AS c, stddev_pop(s) AS d, variance(s) AS e, var_samp(s) AS f, var_pop(s) AS g, std(s) AS h FROM texts"),
    ("order_statistics", "SELECT median(s) AS a, percentile(s, 0.5) AS b FROM texts"),
    ("pairs", "SELECT covar_pop(s, s) AS a, covar_samp(s, 2.0D) AS b, corr(s, 2.0D * s) AS c FROM texts WHERE k = 'b'"),
    ("corr", "SELECT corr(s, s) AS v FROM texts"),
    ("moments", "SELECT corr(x, x) AS c, kurtosis(x) AS k, skewness(x) AS s FROM VALUES (2.5D), (-3D), (4D), (4D) AS t(x)"),
    ("grouped", "SELECT k, try_sum(s) AS a, stddev_pop(s) AS b, var_pop(s) AS c, median(s) AS d FROM texts GROUP BY k"),
    ("distinct", "SELECT var_pop(DISTINCT s) AS a, try_sum(DISTINCT s) AS b FROM texts"),
    ("window", "SELECT k, s, try_sum(s) OVER (PARTITION BY k) AS a, stddev_pop(s) OVER (PARTITION BY k) AS b FROM texts"),
    ("remainders", "SELECT s, mod(s, 2) AS a, pmod(s, 3) AS b, mod(s, 2.5D) AS c, pmod(s, 1.5) AS d, mod(7, s) AS e FROM VALUES ('7'), ('-7'), (NULL) AS t(s)"),
    ("remainder_not_an_integer", "SELECT mod(s, 2) AS v FROM VALUES ('2.5') AS t(s)"),
    ("remainders_unaliased", "SELECT mod(s, 2), pmod(s, 2) FROM VALUES ('7') AS t(s)"),
    ("not_a_number", "SELECT ceil(s) AS v FROM VALUES ('x') AS t(s)"),
    ("unaliased", "SELECT ceil(s), floor(s), power(s, 2), signum(s), positive(s) FROM texts"),
    ("unaliased_aggregates", "SELECT try_sum(s), percentile(s, 0.5), stddev(s) FROM texts"),
    ("aggregate_not_a_number", "SELECT stddev(s) AS v FROM VALUES ('1'), ('x') AS t(s)"),
]) + _df("string_operands", [
    ("functions_df", "spark.table('texts').select('s', F.ceil('s').alias('a'), F.floor('s').alias('b'), F.pow('s', 2).alias('c'), F.signum('s').alias('d'), F.bround('s').alias('e'), F.positive('s').alias('f'))"),
    ("aggregates_df", "spark.table('texts').groupBy('k').agg(F.try_sum('s').alias('a'), F.stddev('s').alias('b'), F.variance('s').alias('c'), F.median('s').alias('d'))"),
    ("remainders_df", "spark.createDataFrame([('7',), ('-7',)], 's string').select(F.pmod('s', F.lit(3)).alias('a'), (F.col('s') % 2).alias('b'))"),
    ("window_avg_df", "spark.table('texts').select('k', 's', F.avg('s').over(W.partitionBy('k')).alias('a'), F.stddev_pop('s').over(W.partitionBy('k')).alias('b'))"),
])

# GROUP BY ALL / ORDER BY ALL: Spark infers the grouping columns from the select list's items
# without aggregates; the engine reads ALL as a column (`sql_group_by_all`).
GROUP_BY_ALL = _sql("group_by_all", [
    ("columns_and_expressions", "SELECT d, o + 1 AS x, sum(o) AS s FROM grouped GROUP BY ALL"),
    ("global_aggregate", "SELECT count(*) AS c FROM grouped GROUP BY ALL"),
    ("no_aggregate", "SELECT d, o FROM grouped GROUP BY ALL"),
    ("aggregate_expression", "SELECT d, sum(o) + 1 AS v FROM grouped GROUP BY ALL"),
    ("star", "SELECT * FROM grouped GROUP BY ALL"),
    ("literal_item", "SELECT d, 'k' AS lit, count(*) AS c FROM grouped GROUP BY ALL"),
    ("having_order", "SELECT d, count(*) AS c FROM grouped GROUP BY ALL HAVING count(*) > 1 ORDER BY d"),
    ("function_item", "SELECT upper(d) AS u, max(o) AS m FROM grouped GROUP BY ALL"),
    ("qualified", "SELECT g.d, count(*) AS c FROM grouped g GROUP BY ALL"),
    ("scalar_subquery", "SELECT d, (SELECT max(o) FROM grouped) AS m FROM grouped GROUP BY ALL"),
    ("filter_clause", "SELECT d, count(*) FILTER (WHERE o > 1) AS c, collect_list(o) AS l FROM grouped GROUP BY ALL"),
    ("spark_aggregates", "SELECT d, try_sum(o) AS a, bool_and(o > 0) AS b, stddev_pop(o) AS c FROM grouped GROUP BY ALL"),
    ("cannot_infer", "SELECT o + sum(o) AS v FROM grouped GROUP BY ALL"),
    ("column_named_all", "SELECT `all`, count(*) AS c FROM (SELECT d AS `all` FROM grouped) GROUP BY ALL"),
    ("in_subquery", "SELECT max(c) AS m FROM (SELECT d, count(*) AS c FROM grouped GROUP BY ALL)"),
    ("in_cte", "WITH g AS (SELECT d, sum(o) AS s FROM grouped GROUP BY ALL) SELECT * FROM g WHERE s > 2"),
]) + _sql("group_by_all", [
    ("order_by_all", "SELECT d, o FROM grouped ORDER BY ALL"),
    ("order_by_all_desc", "SELECT o, d FROM grouped ORDER BY ALL DESC"),
    ("order_by_all_nulls_last", "SELECT d, o FROM grouped ORDER BY ALL DESC NULLS LAST"),
    ("group_and_order_by_all", "SELECT d, count(*) AS c FROM grouped GROUP BY ALL ORDER BY ALL"),
], ordered=True)

# DOUBLE x beside DECIMAL d: a double just above d, equal, NaN, the infinities, beyond 1e15, NULL
_DOUBLES_AND_DECIMALS = (
    "VALUES (0.9000000000000001D, CAST(0.9 AS DECIMAL(10,2))), (0.9D, CAST(0.9 AS DECIMAL(10,2))), "
    "(CAST('NaN' AS DOUBLE), CAST(1 AS DECIMAL(10,2))), (CAST('Infinity' AS DOUBLE), "
    "CAST(1 AS DECIMAL(10,2))), (CAST('-Infinity' AS DOUBLE), CAST(1 AS DECIMAL(10,2))), "
    "(1e300D, CAST(1 AS DECIMAL(10,2))), (NULL, CAST(1 AS DECIMAL(10,2))), "
    "(1.5D, NULL) AS t(x, d)")

DECIMAL_COMPARISONS = _sql("decimal_comparisons", [
    ("literal", "SELECT x > 0.9 AS a, 0.9 < x AS b, x = 0.9 AS c, x <=> 0.9 AS d, x >= 0.9 AS e, "
                "x != 0.9 AS f FROM VALUES (0.9000000000000001D), (0.9D), (0.8999999999999999D) "
                "AS t(x)"),
    ("special_values", "SELECT x > 0.9 AS a, x < 0.9 AS b FROM VALUES (CAST('NaN' AS DOUBLE)), "
                       "(CAST('Infinity' AS DOUBLE)), (CAST('-Infinity' AS DOUBLE)), (1e300D), "
                       "(NULL) AS t(x)"),
    ("where", "SELECT x FROM VALUES (CAST('NaN' AS DOUBLE)), (0.3D), (1e300D), "
              "(0.5000000000000001D), (0.5D) AS t(x) WHERE x < 0.5"),
    ("float", "SELECT CAST(x AS FLOAT) > 0.9 AS a, CAST(x AS FLOAT) = 0.5 AS b "
              "FROM VALUES (0.9000000000000001D), (0.5D) AS t(x)"),
    ("unaliased", "SELECT x > 0.9, 1.5 >= x FROM VALUES (1D) AS t(x)"),
    ("decimal_column", "SELECT d > 0.9 AS a, d = 0.95 AS b FROM VALUES (CAST(0.95 AS DECIMAL(10,2))) "
                       "AS t(d)"),
    ("in_list", "SELECT x IN (0.5, 0.9) AS a FROM VALUES (0.9000000000000001D) AS t(x)"),
    ("between", "SELECT x BETWEEN 0.5 AND 0.9 AS a FROM VALUES (0.9000000000000001D) AS t(x)"),
    ("in_between_unaliased", "SELECT x IN (0.5, 0.9), x NOT IN (0.5, 0.9), x BETWEEN 0.5 AND 0.9, "
                             "x NOT BETWEEN -0.5 AND 0.9 FROM VALUES (0.9000000000000001D), "
                             "(CAST('NaN' AS DOUBLE)) AS t(x)"),
    ("in_between_where", "SELECT x FROM VALUES (CAST('NaN' AS DOUBLE)), (0.7D), (1e300D), (2.5D) "
                         "AS t(x) WHERE x BETWEEN -1.5 AND 0.9 OR x IN (1, 2.5)"),
    ("in_expression_operand", "SELECT x + 1 IN (1.5, 2) AS a, x * 2 BETWEEN 0 AND 1.0 AS b "
                              "FROM VALUES (0.5000000000000001D) AS t(x)"),
    ("columns", "SELECT x > d AS a, x = d AS b FROM VALUES (0.9000000000000001D, "
                "CAST(0.9 AS DECIMAL(10,2))) AS t(x, d)"),
    ("columns_special_values", f"SELECT x > d AS a, d <= x AS b, x = d AS c, x <=> d AS d2, "
                               f"x != d AS e FROM {_DOUBLES_AND_DECIMALS}"),
    ("columns_unaliased", f"SELECT x > d, d <= x, x <=> d, d != x, x == d, x <> d "
                          f"FROM {_DOUBLES_AND_DECIMALS}"),
    ("columns_where", f"SELECT x, d FROM {_DOUBLES_AND_DECIMALS} WHERE x > d OR x = d"),
    ("columns_qualified_unaliased", "SELECT t.x > t.d, t.x IN (t.d, 2), `t`.x <=> t.d, q.s.f >= t.d "
                                    "FROM VALUES (0.9000000000000001D, CAST(0.9 AS DECIMAL(10,2))) "
                                    "AS t(x, d) JOIN (SELECT named_struct('f', 0.9D) AS s) AS q"),
    ("columns_in_list", f"SELECT x IN (d, 2) AS a, x NOT IN (d) AS b, d IN (x, 0.5D) AS c "
                        f"FROM {_DOUBLES_AND_DECIMALS}"),
    ("columns_in_list_unaliased", f"SELECT x IN (d, 2), x NOT IN (d, 2.5) "
                                  f"FROM {_DOUBLES_AND_DECIMALS}"),
    ("columns_between", f"SELECT x BETWEEN d AND 2 AS a, x NOT BETWEEN d - 1 AND d AS b, "
                        f"d BETWEEN x AND 2 AS c, d BETWEEN 0 AND x AS e "
                        f"FROM {_DOUBLES_AND_DECIMALS}"),
    ("columns_between_unaliased", f"SELECT x BETWEEN d AND 2, d NOT BETWEEN x AND 2 "
                                  f"FROM {_DOUBLES_AND_DECIMALS}"),
    ("columns_join", "SELECT a.id, b.k FROM VALUES (1, 0.9000000000000001D), (2, 0.9D), "
                     "(3, CAST('NaN' AS DOUBLE)), (4, CAST('Infinity' AS DOUBLE)), (5, NULL), "
                     "(6, 1e300D) AS a(id, x) JOIN VALUES ('p', CAST(0.9 AS DECIMAL(10,2))), "
                     "('q', CAST(2 AS DECIMAL(10,2))) AS b(k, d) ON a.x = b.d"),
    ("columns_join_rounded", "SELECT a.id, b.k FROM VALUES (1, 0.9000000000000001D), (2, 0.9D), "
                             "(3, 0.8999999999999999D) AS a(id, x) JOIN VALUES "
                             "('p', CAST(0.9 AS DECIMAL(10,2))) AS b(k, d) ON a.x = b.d"),
    ("columns_join_range", "SELECT a.id, b.k FROM VALUES (1, 0.9000000000000001D), "
                           "(3, CAST('NaN' AS DOUBLE)), (5, NULL) AS a(id, x) LEFT JOIN VALUES "
                           "('p', CAST(0.9 AS DECIMAL(10,2))) AS b(k, d) ON a.x > b.d"),
    ("columns_case_when", f"SELECT CASE WHEN x > d THEN 'gt' WHEN x = d THEN 'eq' "
                          f"ELSE 'other' END AS c FROM {_DOUBLES_AND_DECIMALS}"),
    ("columns_cte_expressions", f"WITH t AS (SELECT * FROM {_DOUBLES_AND_DECIMALS}) "
                                "SELECT x + 0D > d * 1 AS a, x * 1 = d AS b FROM t"),
    ("columns_having", f"SELECT count(*) AS n FROM {_DOUBLES_AND_DECIMALS} GROUP BY d > 1 "
                       "HAVING max(x) > min(d)"),
    ("columns_scalar_subquery", f"SELECT x FROM {_DOUBLES_AND_DECIMALS} WHERE x > (SELECT "
                                "min(d) FROM VALUES (CAST(0.9 AS DECIMAL(10,2))) AS u(d))"),
    ("columns_float", "SELECT CAST(x AS FLOAT) > d AS a, d = CAST(x AS FLOAT) AS b FROM VALUES "
                      "(0.9000000000000001D, CAST(0.9 AS DECIMAL(10,2))), (CAST('NaN' AS DOUBLE), "
                      "CAST(1 AS DECIMAL(10,2))) AS t(x, d)"),
    ("columns_in_subquery", "SELECT x FROM VALUES (0.9000000000000001D), (0.9D) AS t(x) WHERE x IN "
                            "(SELECT d FROM VALUES (CAST(0.9 AS DECIMAL(10,2))) AS u(d))"),
    ("columns_in_subquery_special", f"SELECT x, d FROM {_DOUBLES_AND_DECIMALS} WHERE x NOT IN "
                                    "(SELECT DISTINCT d AS q FROM VALUES (CAST(0.9 AS "
                                    "DECIMAL(10,2))), (CAST(1 AS DECIMAL(10,2))) AS u(d))"),
    ("decimal_in_double_subquery", f"SELECT x, d FROM {_DOUBLES_AND_DECIMALS} WHERE d IN "
                                   "(SELECT 0.9000000000000001D) OR d IN (SELECT 1D)"),
    ("columns_correlated", "WITH t AS (SELECT * FROM VALUES (1, 0.9000000000000001D), (2, 0.9D), "
                           "(3, CAST('NaN' AS DOUBLE)) AS t(id, x)), u AS (SELECT * FROM VALUES "
                           "(CAST(0.9 AS DECIMAL(10,2)), 1), (CAST(1 AS DECIMAL(10,2)), 3) AS "
                           "u(d, k)) SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.d = "
                           "t.x) OR t.x IN (SELECT u.d FROM u WHERE u.k = t.id)"),
    ("columns_simple_case", "SELECT CASE x WHEN d THEN 'eq' ELSE 'other' END AS c, CASE x WHEN 0.9 "
                            "THEN 1 WHEN d + 1 THEN 2 ELSE 0 END AS l, CASE d WHEN x THEN 'eq' END "
                            "FROM VALUES (0.9000000000000001D, CAST(0.9 AS DECIMAL(10,2))), "
                            "(CAST('NaN' AS DOUBLE), CAST(1 AS DECIMAL(10,2))), "
                            "(0.9D, CAST(0.9 AS DECIMAL(10,2))) AS t(x, d)"),
    ("columns_in_lambda", "SELECT filter(a, v -> v > d) AS f, exists(a, v -> v = d) AS e, "
                          "transform(a, (v, i) -> v >= d + i) AS t, forall(a, v -> v < d) AS g, "
                          "transform(array(a), w -> filter(w, v -> v > d)) AS n FROM VALUES "
                          "(array(0.9000000000000001D, 0.9D), CAST(0.9 AS DECIMAL(10,2))) AS t(a, d)"),
    ("array_element_beside_decimal", "SELECT array_position(array(x), d) AS p FROM VALUES "
                                     "(0.9000000000000001D, CAST(0.9 AS DECIMAL(10,2))) AS t(x, d)"),
    ("decimal_array_beside_double", "SELECT array_position(array(d), 0.9D) AS p FROM VALUES "
                                    "(CAST(0.9 AS DECIMAL(10,2))) AS t(d)"),
    ("double_array_beside_decimal_literal", "SELECT array_position(array(x), 0.9) AS p FROM "
                                            "VALUES (0.9000000000000001D) AS t(x)"),
    ("double_literal_decimal_column", "SELECT d > 0.8999999999999999D AS a, d = 0.9D AS b, "
                                      "d < 1e300 AS c, d > 0.8999999999999999D, d <= 9e-1D "
                                      "FROM VALUES (CAST(0.9 AS DECIMAL(10,2))) AS t(d)"),
]) + _df("decimal_comparisons", [
    ("dataframe_literal", "spark.sql(\"SELECT * FROM VALUES (0.9000000000000001D), (CAST('NaN' AS "
                          "DOUBLE)) AS t(x)\").select((F.col('x') > F.lit(decimal.Decimal('0.9')))"
                          ".alias('a'), (F.lit(decimal.Decimal('0.9')) >= F.col('x')).alias('b'))"),
    ("expr_string", "spark.sql('SELECT * FROM VALUES (0.9000000000000001D) AS t(x)')"
                    ".select(F.expr('x > 0.9'), F.expr('x = 0.9 AS e'))"),
    ("select_expr", "spark.sql('SELECT * FROM VALUES (0.9000000000000001D) AS t(x)')"
                    ".selectExpr('x > 0.9', 'nvl(x, 0.9)')"),
    ("columns_df", "spark.sql('SELECT * FROM VALUES (0.9000000000000001D, CAST(0.9 AS "
                   "DECIMAL(10,2))) AS t(x, d)').select((F.col('x') > F.col('d')).alias('a'), "
                   "(F.col('x') == F.col('d')).alias('b'))"),
    ("columns_join_df", "spark.sql(\"SELECT * FROM VALUES (1, 0.9000000000000001D), (2, 0.9D), "
                        "(3, CAST('NaN' AS DOUBLE)) AS a(id, x)\").alias('a').join(spark.sql("
                        "\"SELECT * FROM VALUES ('p', CAST(0.9 AS DECIMAL(10,2))) AS b(k, d)\")"
                        ".alias('b'), F.col('a.x') >= F.col('b.d')).select('id', 'k')"),
    ("isin_decimal", f"spark.sql(\"SELECT * FROM {_DOUBLES_AND_DECIMALS}\").select(F.col('x')"
                     ".isin(decimal.Decimal('0.9'), decimal.Decimal('1')).alias('a'), "
                     "F.col('x').isin(F.col('d'), 2).alias('b'), "
                     "F.col('d').isin(F.col('x')).alias('c'))"),
    ("isin_unaliased", "spark.sql('SELECT * FROM VALUES (0.9000000000000001D), (0.9D) AS t(x)')"
                       ".select(F.col('x').isin(decimal.Decimal('0.9')))"),
    ("isin_filter", f"spark.sql(\"SELECT * FROM {_DOUBLES_AND_DECIMALS}\")"
                    ".filter(F.col('x').isin(decimal.Decimal('0.9'), decimal.Decimal('1')))"
                    ".select('x')"),
    ("columns_expr_string", f"spark.sql(\"SELECT * FROM {_DOUBLES_AND_DECIMALS}\")"
                            ".filter('x > d OR x IN (d)').selectExpr('x', 'x >= d', "
                            "'d BETWEEN x AND 2 AS b')"),
])


# Qualified stars over USING and NATURAL joins: Spark's `o.*` keeps o's own join columns (NULL
# where o has no row); each side has a NULL key, which matches nothing.
_USING_O = "VALUES ('a', 1), ('b', 2), (NULL, 3) AS o(k, v)"
_USING_L = "VALUES ('a', 'x'), ('c', 'y'), (NULL, 'z') AS l(k, label)"
USING_JOINS = _sql("using_joins", [
    ("inner_left_star", f"SELECT o.*, l.label FROM {_USING_O} JOIN {_USING_L} USING (k)"),
    ("inner_both_stars", f"SELECT l.*, o.* FROM {_USING_O} INNER JOIN {_USING_L} USING (k)"),
    ("left_left_star", f"SELECT o.*, l.label FROM {_USING_O} LEFT JOIN {_USING_L} USING (k)"),
    ("left_right_star", f"SELECT o.v, l.* FROM {_USING_O} LEFT OUTER JOIN {_USING_L} USING (k)"),
    ("right_left_star", f"SELECT o.*, l.label FROM {_USING_O} RIGHT JOIN {_USING_L} USING (k)"),
    ("right_right_star", f"SELECT l.*, o.v FROM {_USING_O} RIGHT JOIN {_USING_L} USING (k)"),
    ("full_both_stars", f"SELECT o.*, l.* FROM {_USING_O} FULL OUTER JOIN {_USING_L} USING (k)"),
    ("full_star", f"SELECT * FROM {_USING_O} FULL JOIN {_USING_L} USING (k)"),
    ("left_star", f"SELECT * FROM {_USING_O} LEFT JOIN {_USING_L} USING (k)"),
    ("right_star_and_key", f"SELECT *, k AS key FROM {_USING_O} RIGHT JOIN {_USING_L} USING (k)"),
    ("two_columns", "SELECT o.*, l.* FROM VALUES ('a', 1, 10), ('b', 2, 20) AS o(k, j, v) "
                    "FULL JOIN VALUES (1, 'a', 'x'), (2, 'c', 'y') AS l(j, k, label) USING (k, j)"),
    ("key_not_first", "SELECT o.*, l.* FROM VALUES (1, 'a'), (2, 'b') AS o(v, K) LEFT JOIN "
                      "VALUES ('x', 'a', 5) AS l(label, k, n) USING (k)"),
    ("natural_left", f"SELECT o.*, l.label FROM {_USING_O} NATURAL LEFT JOIN {_USING_L}"),
    ("natural_full_right_star", f"SELECT l.* FROM {_USING_O} NATURAL FULL JOIN {_USING_L}"),
    ("natural_two_columns", "SELECT o.* FROM VALUES ('a', 1, 10), ('b', 2, 20) AS o(k, j, v) "
                            "NATURAL RIGHT JOIN VALUES (1, 'a', 'x'), (1, 'b', 'y') AS l(j, k, label)"),
    ("star_in_subquery", f"SELECT count(*) AS n, count(k) AS keys, count(label) AS labels FROM "
                         f"(SELECT l.* FROM {_USING_O} LEFT JOIN {_USING_L} USING (k))"),
    ("star_except", f"SELECT o.* EXCEPT (v), l.label FROM {_USING_O} RIGHT JOIN {_USING_L} USING (k)"),
    ("common_table_expressions", f"WITH o AS (SELECT * FROM {_USING_O}), l AS (SELECT * FROM "
                                 f"{_USING_L}) SELECT o.*, l.* FROM o FULL JOIN l USING (k)"),
    ("key_types_differ", "SELECT o.*, l.* FROM VALUES (1, 'p'), (2, 'q') AS o(k, v) FULL JOIN "
                         "VALUES (CAST(1 AS BIGINT), 'x'), (3L, 'y') AS l(k, label) USING (k)"),
    ("semi_join", f"SELECT o.* FROM {_USING_O} LEFT SEMI JOIN {_USING_L} USING (k)"),
    ("anti_join", f"SELECT o.* FROM {_USING_O} LEFT ANTI JOIN {_USING_L} USING (k)"),
    ("later_on_join", f"SELECT o.*, c.* FROM {_USING_O} LEFT JOIN {_USING_L} USING (k) "
                      "JOIN VALUES ('a', 9), ('b', 8) AS c(ck, z) ON c.ck = k"),
    ("chain_refused", f"SELECT o.* FROM {_USING_O} JOIN {_USING_L} USING (k) "
                      "JOIN VALUES ('a', 9) AS c(k, z) USING (k)"),
    ("struct_of_side_refused", f"SELECT struct(o.*) AS s FROM {_USING_O} JOIN {_USING_L} USING (k)"),
]) + _df("using_joins", [
    ("dataframe_left", f"spark.sql(\"SELECT * FROM {_USING_O}\").alias('o').join(spark.sql("
                       f"\"SELECT * FROM {_USING_L}\").alias('l'), 'k', 'left').select('o.*', 'l.label')"),
    ("dataframe_full", f"spark.sql(\"SELECT * FROM {_USING_O}\").alias('o').join(spark.sql("
                       f"\"SELECT * FROM {_USING_L}\").alias('l'), ['k'], 'full').select('l.*')"),
    ("dataframe_anti", f"spark.sql(\"SELECT * FROM {_USING_O}\").alias('o').join(spark.sql("
                       f"\"SELECT * FROM {_USING_L}\").alias('l'), 'k', 'left_anti').select('o.*')"),
])

CASES: list[Case] = (CASTS + QUOTING + STRINGS + NUMBERS + ROUNDING + DECIMALS + DATES + ISO_DATES
                     + TIMESTAMPS + ORDERED + CONDITIONALS + AGGREGATES + WINDOWS + JSON + ARRAYS
                     + MAPS_STRUCTS + SQL_SHAPES + DATAFRAME + READERS + COERCION
                     + NUMBER_TYPES + FLOAT_KEYS + DECIMAL_SUMS + STRING_ARITHMETIC
                     + REGEX + VARIABLES + STRICT_MATH + TRIGONOMETRY + STRING_OPERANDS
                     + GROUP_BY_ALL + DECIMAL_COMPARISONS + USING_JOINS)
