"""An unresolved column in Spark's words. The expected messages were recorded from Apache Spark
4.3 (`spark.range(1).selectExpr(...).select("amout")` and `.where("amout > 1")`); Sail's own
message is recognised and its candidates computed from the failing operator's inputs."""

from __future__ import annotations

import pytest

from lakesmith.engine.plans import relation_of
from lakesmith.engine.unresolved_columns import (
    explain_unresolved_column,
    levenshtein,
    missing_column,
    unresolved_column_message,
)

SPARK_43 = {
    "select": "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with "
              "name `amout` cannot be resolved. Did you mean one of the following? [`amount`, "
              "`amount2`, `a1`, `a2`, `a3`].",
    "where": "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with "
             "name `amout` cannot be resolved. Did you mean one of the following? [`amount`].",
}
SPARK_43_SQL = {  # over a view ok(amount, b)
    "SELECT amout FROM ok": "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function "
    "parameter with name `amout` cannot be resolved. Did you mean one of the following? "
    "[`amount`, `b`].",
    "WITH c AS (SELECT amount AS total, b FROM ok) SELECT b FROM c WHERE totl > 1":
    "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name "
    "`totl` cannot be resolved. Did you mean one of the following? [`total`, `b`].",
}
SEVEN = ("id AS amount", "id AS amount2", "id AS customer_id", "id AS a1", "id AS a2", "id AS a3",
         "id AS zz")


def test_levenshtein() -> None:
    assert [levenshtein("amout", c) for c in ("amount", "amount2", "a1", "zz", "")] == \
        [1, 2, 4, 5, 5]


def test_candidates_are_the_closest_five_in_their_order() -> None:
    columns = ["amount", "amount2", "customer_id", "a1", "a2", "a3", "zz"]
    assert unresolved_column_message("amout", columns) == SPARK_43["select"]
    assert unresolved_column_message("x", []) == (
        "[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION] A column, variable, or function parameter with "
        "name `x` cannot be resolved.")


def test_sails_message_is_recognised() -> None:
    message = ('AnalysisException: attribute ObjectName([Identifier("t"), Identifier("a\\"b")]) '
               "is missing from the schema: cannot resolve attribute")
    assert missing_column(message) == ["t", 'a"b']
    assert missing_column("something else") is None


@pytest.mark.parametrize(("case", "build"), [
    ("select", lambda spark: spark.range(1).selectExpr(*SEVEN).select("amout")),
    ("where", lambda spark: spark.range(1).selectExpr("id AS amount").where("amout > 1")),
])
def test_engine_errors_are_explained_as_spark_does(spark, case, build) -> None:
    df = build(spark)
    with pytest.raises(Exception) as info:  # noqa: PT011  (the engine's own exception class)
        _ = df.schema
    assert explain_unresolved_column(str(info.value), spark, relation_of(df)) == SPARK_43[case]


@pytest.mark.parametrize("query", sorted(SPARK_43_SQL))
def test_sql_text_is_explained_from_the_select_that_names_the_column(spark, query) -> None:
    from pyspark.sql.connect import proto

    from lakesmith.engine.plans import dataframe_of

    spark.sql("CREATE OR REPLACE TEMPORARY VIEW ok AS SELECT 1 AS amount, 2 AS b")
    relation = proto.Relation(sql=proto.SQL(query=query))
    with pytest.raises(Exception) as info:  # noqa: PT011  (the engine's own exception class)
        _ = dataframe_of(spark, relation).schema
    assert explain_unresolved_column(str(info.value), spark, relation) == SPARK_43_SQL[query]
