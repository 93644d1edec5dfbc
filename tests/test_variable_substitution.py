"""`${...}` substitution as Spark 4.3 does it, in the three places lakesmith reads SQL text as
Spark's parser would: pipeline SQL files, `spark.sql(...)` in pipeline code, and the user's
session. The expected values are Spark 4.3's (a Spark Connect server and `spark-pipelines run`
on the same text, by hand): see each assertion."""

from __future__ import annotations

import os
from typing import Any

import pytest

import lakesmith
from conftest import Project
from lakesmith.errors import NotSupportedYet, SqlDefinitionError
from lakesmith.runtime.events import UpdateState
from lakesmith.variable_substitution import (
    CircularReference,
    UndefinedVariable,
    Variables,
    substitute,
)

VALUES = {"x.y": "3", "bar": "1", "foo": "${bar}", "a": "${b}", "b": "${a}", "p": "a:b"}
SPARK = Variables(VALUES.get, env={"MY_VAR": "hello"}, undefined=lambda reference: "")


@pytest.mark.parametrize(("text", "spark_43"), [
    ("SELECT '${x.y}' a, '${hivevar:x.y}' b", "SELECT '3' a, '3' b"),
    ("${spark:x.y}${sparkconf:x.y}${hiveconf:x.y}", "333"),
    ("select ${bar} ${foo} this is great", "select 1 1 this is great"),  # nested
    ("'${nope}'", "''"),  # a key Spark has no entry for
    ("'${env:MY_VAR}' '${env:NOPE_X}' '${foo:bar}'", "'hello' '${env:NOPE_X}' '${foo:bar}'"),
    # no escape: a backslash or a second $ is text before the value
    (r"'\${x.y}' '$${x.y}'", r"'\3' '$3'"),
    # a key is non-blank characters up to the first }; nothing is read twice
    ("'${ x.y}' '${x.y }' '${}' '${x.y}}'", "'${ x.y}' '${x.y }' '${}' '3}'"),
    ("'${${x.y}}'", "'}'"),  # the key `${x.y`, not set
    ("${p}", "a:b"),  # a value is text: `:` in it is not a prefix
])
def test_references_are_replaced_as_spark_replaces_them(text: str, spark_43: str) -> None:
    assert substitute(text, SPARK) == spark_43


def test_a_value_that_refers_to_itself_is_refused() -> None:
    with pytest.raises(CircularReference, match=r"\$\{a\} -> \$\{b\} -> \$\{a\}"):
        substitute("SELECT ${a}", SPARK)


def test_an_undefined_key_is_refused_where_the_caller_refuses_it() -> None:
    with pytest.raises(UndefinedVariable) as info:
        substitute("SELECT 1,\n ${spark:missing}", Variables.of({}))
    assert (info.value.reference, info.value.offset) == ("spark:missing", 11)


def test_expression_strings_without_variables_are_refused_where_spark_substitutes() -> None:
    from lakesmith.engine.sql_variables import substituted_expression

    with pytest.raises(NotSupportedYet, match=r"\$\{a\}, which Spark substitutes"):
        substituted_expression(object(), "'${a}'")
    assert substituted_expression(object(), "'${foo:a}' || '$'") == "'${foo:a}' || '$'"


def test_system_properties_are_refused_without_a_jvm() -> None:
    with pytest.raises(NotSupportedYet, match=r"\$\{system:user.dir\}"):
        substitute("SELECT '${system:user.dir}'", SPARK)


# -- the user's session ---------------------------------------------------------------------------


def rows(df: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in df.collect()]


def test_session_sql_is_substituted_with_the_sessions_settings(project: Project) -> None:
    project.write_spec(configuration={"my.param": "5"})
    spark = lakesmith.session(project.root, remote=project.sail_url)
    try:
        # Spark 4.3: [('5', '', '3', '${env:NOPE_X}')]; the SET statement is substituted too
        spark.sql("SET x.y = ${my.param}")
        assert rows(spark.sql(
            "SELECT '${my.param}' AS a, '${nope}' AS b, ${x.y} - 2 AS c, '${env:NOPE_X}' AS d"
        )) == [("5", "", 3, "${env:NOPE_X}")]
        # expression strings too (Spark's parser substitutes every text it parses)
        assert rows(spark.range(1).selectExpr("'${x.y}' AS a").where("${x.y} = 5")) == [("5",)]
        with pytest.raises(NotSupportedYet, match="spark.sql.shuffle.partitions"):
            spark.sql("SELECT '${spark.sql.shuffle.partitions}'")
        spark.sql("SET spark.sql.variable.substitute = false")  # Spark: the text as written
        assert rows(spark.sql("SELECT '${my.param}' AS a")) == [("${my.param}",)]
    finally:
        spark.stop()


# -- pipelines ------------------------------------------------------------------------------------


def test_pipeline_sql_and_python_read_the_configuration(project: Project) -> None:
    """`spark-pipelines run` of the same project (Spark 4.3, Parquet tables) lands
    mv = [(5, 'abc', '50', '/root')] and pyv = [('5',)] with HOME=/root."""
    project.write_spec(configuration={"my.param": "5", "my.text": "abc",
                                      "my.nested": "${my.param}0"})
    project.write("transformations/a.sql", """
        CREATE MATERIALIZED VIEW mv AS
        SELECT ${my.param} AS v, '${my.text}' AS t, '${my.nested}' AS n, '${env:HOME}' AS e;
    """)
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp

        QUERY = spark.sql("SELECT '${spark:my.param}' AS p")  # while the source loads

        @dp.materialized_view
        def pyv():
            return spark.sql("SELECT '${my.param}' AS p, ${my.param} + 1 AS q").selectExpr(
                "*", "'${my.text}' AS r")
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("mv") == [{"v": 5, "t": "abc", "n": "50", "e": os.environ["HOME"]}]
    assert project.rows("pyv") == [{"p": "5", "q": 6, "r": "abc"}]


def test_an_undefined_key_in_pipeline_python_names_the_line(project: Project) -> None:
    project.write_spec(configuration={"my.param": "5"})
    path = project.write("transformations/b.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def pyv():
            return spark.sql("SELECT '${my.parm}' AS p")
    """)
    with pytest.raises(Exception) as info:
        project.run()
    message = str(info.value)
    assert f"{path}:5" in message, message
    assert "${my.parm} is not defined: 'my.parm' is not in the pipeline configuration" in message
    assert not project.table_path("pyv").exists()


def test_substitution_can_be_turned_off_in_the_configuration(project: Project) -> None:
    project.write_spec(configuration={"spark.sql.variable.substitute": "false", "a": "1"})
    project.write("transformations/a.sql",
                  "CREATE MATERIALIZED VIEW mv AS SELECT '${a}' AS v, '${env:HOME}' AS e;")
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    assert project.rows("mv") == [{"v": "${a}", "e": "${env:HOME}"}]


def test_a_circular_value_names_the_file_and_line(project: Project) -> None:
    project.write_spec(configuration={"a": "${b}", "b": "${a}"})
    path = project.write("transformations/a.sql",
                         "CREATE MATERIALIZED VIEW mv AS\nSELECT '${a}' AS v;")
    with pytest.raises(SqlDefinitionError, match="circular reference") as info:
        project.run()
    assert f"{path}:2" in str(info.value)

