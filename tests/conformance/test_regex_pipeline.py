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
