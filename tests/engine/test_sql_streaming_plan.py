"""SQL streaming queries as DataFrame plans: which queries are translated, the WATERMARK clause
read from tokens, expressions kept as written (plans inspected, nothing run)."""

from __future__ import annotations

import pytest
from pyspark.sql.connect import proto

from lakesmith.engine.plans import all_relations
from lakesmith.engine.sql_refs import find_table_refs
from lakesmith.engine.sql_streaming_plan import streaming_sql_plan
from lakesmith.engine.sql_watermark import (
    WatermarkClause,
    watermark_clauses,
    without_watermark_clauses,
)
from lakesmith.errors import SqlRefError


def test_watermark_clauses_of_columns_and_computed_expressions() -> None:
    text = ("SELECT * FROM STREAM(a) WATERMARK ts DELAY OF INTERVAL 10 MINUTES AS x "
            "JOIN STREAM(b) WATERMARK to_timestamp(s) AS `t2` DELAY OF INTERVAL '5' SECOND y "
            "ON x.k = y.k")
    first, second = text.index("WATERMARK ts"), text.index("WATERMARK to_")
    assert watermark_clauses(text) == [
        WatermarkClause(first, text.index(" AS x"), "ts", "ts", False, "10 MINUTES"),
        WatermarkClause(second, text.index(" y "), "to_timestamp(s)", "t2", True, "5 SECOND")]
    blanked = without_watermark_clauses(text)
    assert len(blanked) == len(text) and "WATERMARK" not in blanked
    assert [r.name for r in find_table_refs(text)] == ["a", "b"]


def test_a_column_named_watermark_is_not_a_clause() -> None:
    assert watermark_clauses("SELECT a watermark, b FROM t") == []


def test_an_unnamed_watermark_expression_is_refused_with_sparks_condition() -> None:
    with pytest.raises(SqlRefError, match="REQUIRES_EXPLICIT_NAME_IN_WATERMARK_CLAUSE"):
        watermark_clauses("SELECT * FROM STREAM(a) WATERMARK ts + 1 DELAY OF INTERVAL 1 SECOND")


def test_queries_without_state_stay_sql(spark) -> None:
    assert streaming_sql_plan("SELECT * FROM STREAM(a) WHERE v > 1", spark) is None
    assert streaming_sql_plan("SELECT k, count(*) FROM a GROUP BY k", spark) is None
    assert streaming_sql_plan("SELECT * FROM STREAM(a) JOIN b ON a.k = b.k", spark) is None


def test_windowed_aggregation_plan(spark) -> None:
    relation = streaming_sql_plan(
        "SELECT window.start AS s, k, sum(v) AS total FROM STREAM(a) "
        "WATERMARK ts DELAY OF INTERVAL 10 SECONDS AS x WHERE v > INTERVAL '1' DAY "
        "GROUP BY window(ts, '10 seconds', '5 seconds'), k HAVING count(*) > 1", spark)
    assert relation is not None
    nodes = {r.WhichOneof("rel_type"): r for r in all_relations(relation)}
    assert nodes["with_watermark"].with_watermark.event_time == "ts"
    assert nodes["with_watermark"].with_watermark.delay_threshold == "10 SECONDS"
    assert nodes["sql"].sql.query == "SELECT * FROM STREAM(a)"
    assert nodes["filter"].filter.condition.expression_string.expression == \
        "v > INTERVAL '1' DAY"
    aggregate = nodes["aggregate"].aggregate
    window = aggregate.grouping_expressions[0].unresolved_function
    assert window.function_name == "window"
    assert [a.literal.string for a in window.arguments[1:]] == ["10 seconds", "5 seconds"]
    assert [e.WhichOneof("expr_type") for e in aggregate.aggregate_expressions] == [
        "expression_string", "alias", "expression_string", "alias"]
    # The keys are dropped after aggregating; the item `k`, named like its key, is renamed.
    renamed = relation.with_columns_renamed
    assert list(renamed.input.drop.column_names) == ["window", "k", "__lakesmith_having"]
    assert [(r.col_name, r.new_col_name) for r in renamed.renames] == [
        ("__lakesmith_item_1", "k")]


def test_join_kinds(spark) -> None:
    def join_type(kind: str) -> int:
        relation = streaming_sql_plan(
            f"SELECT l.k FROM STREAM(a) AS l {kind} STREAM(b) AS r ON l.k = r.k", spark)
        assert relation is not None
        (join,) = [r for r in all_relations(relation) if r.WhichOneof("rel_type") == "join"]
        return join.join.join_type

    assert join_type("JOIN") == proto.Join.JOIN_TYPE_INNER
    assert join_type("LEFT OUTER JOIN") == proto.Join.JOIN_TYPE_LEFT_OUTER
    assert join_type("RIGHT JOIN") == proto.Join.JOIN_TYPE_RIGHT_OUTER
    assert join_type("LEFT SEMI JOIN") == proto.Join.JOIN_TYPE_LEFT_SEMI
