"""Regular expressions in a real pipeline: a name-cleaning silver view (`regexp_replace(name,
'\\\\W', '')`) and its DataFrame twin land Spark's rows — Java's `\\W` is ASCII, so 'José' loses
its 'é' as in Spark, where the engine alone keeps it — through a view over a view (each pattern
rewritten once); a replacement Java rejects is refused naming the flow, and a lookaround the
engine lacks fails naming the pattern, with nothing written."""

from __future__ import annotations

import pytest

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

BRONZE = """
    CREATE MATERIALIZED VIEW bronze AS
    SELECT * FROM VALUES (1, 'José', 'a٣1'), (2, 'Anne-Marie', 'b 2'), (3, NULL, NULL)
    AS t(id, name, code);
"""


def test_name_cleaning_lands_sparks_rows(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", BRONZE + r"""
        CREATE TEMPORARY VIEW cleaned AS
        SELECT id, regexp_replace(name, '\\W', '') AS name,
               regexp_replace(code, '\\d', '#') AS code
        FROM bronze;

        CREATE MATERIALIZED VIEW silver_sql AS
        SELECT id, name, regexp_replace(code, '(#)', '\\$$1') AS code, name RLIKE '^\\w+$' AS word
        FROM cleaned;
    """)
    project.write("transformations/b.py", r"""
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def silver_py():
            return spark.read.table("bronze").select(
                "id", F.regexp_replace("name", "\\W", "").alias("name"),
                F.split("code", "\\s").alias("parts"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("silver_sql", order_by="id") == [
        {"id": 1, "name": "Jos", "code": "a٣$#", "word": True},
        {"id": 2, "name": "AnneMarie", "code": "b $#", "word": True},
        {"id": 3, "name": None, "code": None, "word": None},
    ]
    assert project.rows("silver_py", order_by="id") == [
        {"id": 1, "name": "Jos", "parts": ["a٣1"]},
        {"id": 2, "name": "AnneMarie", "parts": ["b", "2"]},
        {"id": 3, "name": None, "parts": None},
    ]


def test_split_at_a_final_dollar_keeps_the_line_terminator(project) -> None:
    """Lines read with their terminator (`\\r\\n` files): Java's `$` matches before it, so
    `split(line, ';$')` leaves it as the last piece (Spark's rows, conformance
    `regex/final_line_terminator_split`); in SQL and DataFrame code alike."""
    project.write_spec()
    project.write("transformations/a.sql", r"""
        CREATE MATERIALIZED VIEW lines AS
        SELECT * FROM VALUES (1, 'a;b;\r\n'), (2, 'c;'), (3, 'd\n'), (4, NULL) AS t(id, line);

        CREATE MATERIALIZED VIEW fields_sql AS
        SELECT id, split(line, ';$') AS parts FROM lines;
    """)
    project.write("transformations/b.py", r"""
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def fields_py():
            return spark.read.table("lines").select("id", F.split("line", ";$").alias("parts"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    expected = [{"id": 1, "parts": ["a;b", "\r\n"]}, {"id": 2, "parts": ["c", ""]},
                {"id": 3, "parts": ["d\n"]}, {"id": 4, "parts": None}]
    assert project.rows("fields_sql", order_by="id") == expected
    assert project.rows("fields_py", order_by="id") == expected


def test_a_replacement_java_rejects_is_refused_naming_the_flow(project) -> None:
    project.write_spec()
    path = project.write("transformations/a.sql", BRONZE + """
        CREATE MATERIALIZED VIEW priced AS SELECT regexp_replace(code, '1', '1$') AS v FROM bronze;
    """)
    with pytest.raises(GraphValidationError) as info:  # before anything runs
        project.run()
    message = str(info.value)
    assert f"{path}:" in message and "'priced'" in message
    assert "replacement string '1$' of regexp_replace" in message
    assert not project.table_path("bronze").exists()


def test_a_lookaround_the_engine_lacks_fails_naming_the_pattern(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", BRONZE + """
        CREATE MATERIALIZED VIEW after_a AS SELECT regexp_replace(code, '(?<=a)1', '#') AS v
        FROM bronze;
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    (failed,) = result.failed_flows
    assert failed.planned.name == "after_a"
    assert "(?<=a)1" in str(failed.error) and "look-around" in str(failed.error)
    assert not project.table_path("after_a").exists()


RULES = """
    CREATE MATERIALIZED VIEW rules AS
    SELECT * FROM VALUES ('phone', '[^0-9]', '^[0-9]{3}-[0-9]{4}$'),
                         ('code', '\\\\s+', '^\\\\w+$')
    AS t(field, strip, valid);

    CREATE MATERIALIZED VIEW raw AS
    SELECT * FROM VALUES (1, 'phone', '555-1234'), (2, 'code', 'ab c'), (3, 'phone', 'x 12'),
                         (4, 'code', NULL)
    AS t(id, field, value);
"""


def test_patterns_from_a_lookup_table_land_sparks_rows(project) -> None:
    """Patterns read from a rules table: the engine's regex, guarded; ASCII values give
    Spark 4.3's rows (the same query on Spark: the rows below)."""
    project.write_spec()
    project.write("transformations/a.sql", RULES + """
        CREATE MATERIALIZED VIEW cleaned AS
        SELECT r.id, regexp_replace(r.value, k.strip, '') AS stripped,
               r.value RLIKE k.valid AS valid, regexp_count(r.value, k.strip) AS n
        FROM raw r JOIN rules k ON r.field = k.field;
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp
        from pyspark.sql import functions as F

        @dp.materialized_view
        def split_py():
            rules = spark.read.table("rules")
            return (spark.read.table("raw").join(rules, "field")
                    .select("id", F.split("value", F.col("strip")).alias("parts")))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("cleaned", order_by="id") == [
        {"id": 1, "stripped": "5551234", "valid": True, "n": 1},
        {"id": 2, "stripped": "abc", "valid": False, "n": 1},
        {"id": 3, "stripped": "12", "valid": False, "n": 2},
        {"id": 4, "stripped": None, "valid": None, "n": None},
    ]
    assert project.rows("split_py", order_by="id") == [
        {"id": 1, "parts": ["555", "1234"]},
        {"id": 2, "parts": ["ab", "c"]},
        {"id": 3, "parts": ["", "", "12"]},
        {"id": 4, "parts": None},
    ]


def test_a_row_whose_pattern_reads_differently_fails_naming_it(project) -> None:
    """`\\w` with a non-ASCII value: Java's \\w is ASCII, Rust's Unicode; the flow fails naming
    the function and the pattern, and nothing is written."""
    project.write_spec()
    project.write("transformations/a.sql", RULES.replace("'ab c'", "'José'") + """
        CREATE MATERIALIZED VIEW checked AS
        SELECT r.id, r.value RLIKE k.valid AS valid FROM raw r JOIN rules k ON r.field = k.field;
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    (failed,) = result.failed_flows
    assert failed.planned.name == "checked"
    message = str(failed.error)
    assert "[UNSUPPORTED_FEATURE.REGEX_PATTERN] rlike: the pattern '^\\w+$'" in message, message
    assert "the row's text holds a non-ASCII letter, digit or mark" in message
    assert not project.table_path("checked").exists()


LINES = """
    CREATE MATERIALIZED VIEW lines AS
    SELECT * FROM VALUES (1, 'report.csv\\n'), (2, 'notes.txt\\r\\n'), (3, 'image.png'),
                         (4, 'data.csv')
    AS t(id, name);
"""


def test_a_final_dollar_matches_before_a_final_line_terminator(project) -> None:
    """Lines read with their terminator: Java's `$` matches before it; Spark 4.3 lands these
    rows for the same query (the engine alone: no match on rows 1 and 2)."""
    project.write_spec()
    project.write("transformations/a.sql", LINES + r"""
        CREATE MATERIALIZED VIEW renamed AS
        SELECT id, regexp_replace(name, '\\.(csv|txt)$', '.parquet') AS name,
               regexp_extract(name, '\\.([a-z]+)$', 1) AS extension,
               regexp_count(name, 'v$') AS ends_in_v, name RLIKE 't$' AS ends_in_t
        FROM lines;
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("renamed", order_by="id") == [
        {"id": 1, "name": "report.parquet\n", "extension": "csv", "ends_in_v": 1,
         "ends_in_t": False},
        {"id": 2, "name": "notes.parquet\r\n", "extension": "txt", "ends_in_v": 0,
         "ends_in_t": True},
        {"id": 3, "name": "image.png", "extension": "png", "ends_in_v": 0, "ends_in_t": False},
        {"id": 4, "name": "data.parquet", "extension": "csv", "ends_in_v": 1,
         "ends_in_t": False},
    ]


def test_a_dollar_without_an_exact_translation_fails_the_row_naming_it(project) -> None:
    """`\\s+$` may end inside the terminator: no Rust pattern means the same, so a row ending
    with a line terminator fails, naming the function and the pattern; nothing is written."""
    project.write_spec()
    project.write("transformations/a.sql", LINES + r"""
        CREATE MATERIALIZED VIEW trimmed AS
        SELECT id, regexp_replace(name, '[a-z]\\s+$', '') AS name FROM lines;
    """)
    result = project.run()
    assert result.state == UpdateState.FAILED
    (failed,) = result.failed_flows
    assert failed.planned.name == "trimmed"
    assert "[UNSUPPORTED_FEATURE.REGEX_PATTERN] regexp_replace: the pattern '[a-z]\\s+$'" \
        in str(failed.error), str(failed.error)
    assert not project.table_path("trimmed").exists()
