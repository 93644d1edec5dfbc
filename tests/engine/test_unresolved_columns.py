"""An unresolved column in Spark's words. The expected messages were recorded from Apache Spark
4.3 (a local session: `spark.range(1).selectExpr(...).select("amout")`, `.where("amout > 1")`,
and the joins and qualified names below over the temporary views `orders` and `customers`);
Sail's own message is recognised and its candidates computed from the failing operator's inputs,
qualified as Spark qualifies them."""

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
_SUGGEST = "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name "
SPARK_43_JOINS = {  # orders(id, customer_id, amount, status), customers(id, name, country)
    "SELECT o.amout FROM orders o JOIN customers c ON o.customer_id = c.id":
    "`o`.`amout` cannot be resolved. Did you mean one of the following? [`o`.`amount`, `o`.`id`, "
    "`c`.`id`, `c`.`name`, `c`.`country`].",
    "SELECT amout FROM orders o JOIN customers c ON o.customer_id = c.id":
    "`amout` cannot be resolved. Did you mean one of the following? [`o`.`amount`, `o`.`id`, "
    "`c`.`id`, `c`.`name`, `c`.`country`].",
    "SELECT o.amout FROM orders o":
    "`o`.`amout` cannot be resolved. Did you mean one of the following? [`o`.`amount`, `o`.`id`, "
    "`o`.`status`, `o`.`customer_id`].",
    "SELECT orders.amout FROM orders":
    "`orders`.`amout` cannot be resolved. Did you mean one of the following? [`orders`.`amount`, "
    "`orders`.`id`, `orders`.`status`, `orders`.`customer_id`].",
    "SELECT amout FROM orders JOIN customers ON orders.customer_id = customers.id":
    "`amout` cannot be resolved. Did you mean one of the following? [`orders`.`amount`, "
    "`orders`.`id`, `customers`.`id`, `orders`.`status`, `customers`.`country`].",
    "SELECT o.amount FROM orders o JOIN customers c ON o.customer_id = c.id WHERE c.contry = 'nl'":
    "`c`.`contry` cannot be resolved. Did you mean one of the following? [`c`.`country`, "
    "`o`.`id`, `c`.`id`, `c`.`name`, `o`.`amount`].",
    "SELECT o.amount FROM orders o JOIN customers c ON o.customer_id = c.idd":
    "`c`.`idd` cannot be resolved. Did you mean one of the following? [`c`.`id`, `o`.`id`, "
    "`c`.`name`, `o`.`amount`, `c`.`country`].",
    "SELECT o.amount FROM orders o JOIN customers c ON o.customer_id = c.id "
    "JOIN orders o2 ON o2.id = c.idd":
    "`c`.`idd` cannot be resolved. Did you mean one of the following? [`c`.`id`, `o`.`id`, "
    "`o2`.`id`, `c`.`name`, `o`.`amount`].",
    "SELECT x.amount FROM orders o":
    "`x`.`amount` cannot be resolved. Did you mean one of the following? [`o`.`amount`, "
    "`o`.`id`, `o`.`status`, `o`.`customer_id`].",
    "SELECT s.amout FROM (SELECT * FROM orders) s":
    "`s`.`amout` cannot be resolved. Did you mean one of the following? [`s`.`amount`, `s`.`id`, "
    "`s`.`status`, `s`.`customer_id`].",
    "SELECT c.name, sum(o.amout) FROM orders o JOIN customers c ON o.customer_id = c.id "
    "GROUP BY c.name":
    "`o`.`amout` cannot be resolved. Did you mean one of the following? [`o`.`amount`, `o`.`id`, "
    "`c`.`id`, `c`.`name`, `c`.`country`].",
    "WITH big AS (SELECT * FROM orders WHERE amount > 1) "
    "SELECT big.amout FROM big JOIN customers c ON big.customer_id = c.id":
    "`big`.`amout` cannot be resolved. Did you mean one of the following? [`big`.`amount`, "
    "`big`.`id`, `c`.`id`, `c`.`name`, `c`.`country`].",
    "SELECT `o`.`amout` FROM orders o JOIN customers c ON o.customer_id = c.id":
    "`o`.`amout` cannot be resolved. Did you mean one of the following? [`o`.`amount`, `o`.`id`, "
    "`c`.`id`, `c`.`name`, `c`.`country`].",
}
SPARK_43_DATAFRAME_JOINS = {
    "select o.amout": "`o`.`amout` cannot be resolved. Did you mean one of the following? "
    "[`o`.`amount`, `o`.`id`, `c`.`id`, `c`.`name`, `c`.`country`].",
    "select amout": "`amout` cannot be resolved. Did you mean one of the following? "
    "[`o`.`amount`, `o`.`id`, `c`.`id`, `c`.`name`, `c`.`country`].",
    "where c.contry": "`c`.`contry` cannot be resolved. Did you mean one of the following? "
    "[`c`.`country`, `o`.`id`, `c`.`id`, `c`.`name`, `o`.`amount`].",
    "alias, select o.amout": "`o`.`amout` cannot be resolved. Did you mean one of the following? "
    "[`o`.`amount`, `o`.`id`, `o`.`status`, `o`.`customer_id`].",
    "unaliased join, select amout": "`amout` cannot be resolved. Did you mean one of the "
    "following? [`orders`.`amount`, `orders`.`id`, `customers`.`id`, `orders`.`status`, "
    "`customers`.`country`].",
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


@pytest.fixture
def orders_and_customers(spark):
    spark.sql("CREATE OR REPLACE TEMPORARY VIEW orders AS "
              "SELECT 1 AS id, 10 AS customer_id, 5.0 AS amount, 'paid' AS status")
    spark.sql("CREATE OR REPLACE TEMPORARY VIEW customers AS "
              "SELECT 10 AS id, 'x' AS name, 'nl' AS country")
    return spark


@pytest.mark.parametrize("query", sorted(SPARK_43_JOINS))
def test_sql_joins_and_qualified_names_suggest_qualified_columns(orders_and_customers,
                                                                  query) -> None:
    from pyspark.sql.connect import proto

    from lakesmith.engine.plans import dataframe_of

    spark = orders_and_customers
    relation = proto.Relation(sql=proto.SQL(query=query))
    with pytest.raises(Exception) as info:  # noqa: PT011  (the engine's own exception class)
        _ = dataframe_of(spark, relation).schema
    assert explain_unresolved_column(str(info.value), spark, relation) == \
        _SUGGEST + SPARK_43_JOINS[query]


def test_renamed_tables_in_sql_are_qualified_by_the_names_the_user_wrote(
        orders_and_customers) -> None:
    """lakesmith binds a pipeline's tables by renaming them in the text; the candidates carry
    the names of the text the user wrote."""
    from pyspark.sql.connect import proto

    from lakesmith.engine.plans import dataframe_of

    spark = orders_and_customers
    spark.sql("CREATE OR REPLACE TEMPORARY VIEW `__lakesmith_9` AS SELECT * FROM orders")
    written = "SELECT orders.amout FROM orders"
    relation = proto.Relation(sql=proto.SQL(query="SELECT orders.amout FROM `__lakesmith_9`"))
    with pytest.raises(Exception) as info:  # noqa: PT011  (the engine's own exception class)
        _ = dataframe_of(spark, relation).schema
    original = proto.Relation(sql=proto.SQL(query=written))
    assert explain_unresolved_column(str(info.value), spark, relation, original) == \
        _SUGGEST + SPARK_43_JOINS[written]


@pytest.mark.parametrize("case", sorted(SPARK_43_DATAFRAME_JOINS))
def test_dataframe_joins_and_aliases_suggest_qualified_columns(orders_and_customers,
                                                                case) -> None:
    spark = orders_and_customers
    o, c = spark.table("orders"), spark.table("customers")
    joined = o.alias("o").join(c.alias("c"), o.customer_id == c.id)
    df = {"select o.amout": lambda: joined.select("o.amout"),
          "select amout": lambda: joined.select("amout"),
          "where c.contry": lambda: joined.where("c.contry = 'nl'"),
          "alias, select o.amout": lambda: o.alias("o").select("o.amout"),
          "unaliased join, select amout": lambda: o.join(c, o.customer_id == c.id).select("amout"),
          }[case]()
    with pytest.raises(Exception) as info:  # noqa: PT011  (the engine's own exception class)
        _ = df.schema
    assert explain_unresolved_column(str(info.value), spark, relation_of(df)) == \
        _SUGGEST + SPARK_43_DATAFRAME_JOINS[case]
