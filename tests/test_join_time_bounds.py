"""The time constraint of a stream-stream join condition, read as the bound that evicts a side's
state rows (no engine needed)."""

from __future__ import annotations

from lakesmith.engine.join_time_bounds import JoinSide, UpperBound, upper_bounds

ORDERS = JoinSide(None, frozenset({"o_id", "order_ts"}), frozenset({"order_ts"}))
PAYMENTS = JoinSide(None, frozenset({"p_order_id", "paid_ts"}), frozenset({"paid_ts"}))
ISSUE = "o_id = p_order_id AND paid_ts BETWEEN order_ts AND order_ts + INTERVAL 1 HOUR"


def test_between_bounds_each_side_by_the_other() -> None:
    assert upper_bounds(ISSUE, ORDERS, PAYMENTS) == [
        UpperBound("order_ts + INTERVAL '1' HOUR", strict=False)]
    assert upper_bounds(ISSUE, PAYMENTS, ORDERS) == [UpperBound("paid_ts", strict=False)]


def test_qualified_columns_and_terms_moved_across() -> None:
    left = JoinSide("l", frozenset({"k", "ts"}), frozenset({"ts"}))
    right = JoinSide("r", frozenset({"k", "ts"}), frozenset({"ts"}))
    condition = "l.k = r.k AND r.ts > l.ts - INTERVAL 5 SECONDS AND r.ts < l.ts + INTERVAL 5 SECONDS"
    assert upper_bounds(condition, left, right) == [
        UpperBound("l.ts + INTERVAL '5' SECONDS", strict=True)]
    assert upper_bounds(condition, right, left) == [
        UpperBound("(r.ts) + INTERVAL '5' SECONDS", strict=True)]


def test_no_bound_without_a_watermark_or_a_time_constraint() -> None:
    unwatermarked = JoinSide(None, frozenset({"p_order_id", "paid_ts"}), frozenset())
    assert upper_bounds(ISSUE, ORDERS, unwatermarked) == []
    assert upper_bounds("o_id = p_order_id", ORDERS, PAYMENTS) == []
    assert upper_bounds("not sql ((", ORDERS, PAYMENTS) == []


def test_a_condition_built_from_columns_bounds_as_its_sql_text() -> None:
    """The issue's payments condition written with Columns: the same bounds as the text."""
    from pyspark.sql.connect import functions as F

    from lakesmith.engine.expression_sql import expression_sql

    condition = (F.col("o_id") == F.col("p_order_id")) & (
        F.col("paid_ts") >= F.col("order_ts")) & (
        F.col("paid_ts") <= F.col("order_ts") + F.expr("INTERVAL 1 HOUR"))
    text = expression_sql(condition._expr.to_plan(None))
    assert text == ("(((o_id = p_order_id) AND (paid_ts >= order_ts)) AND "
                    "(paid_ts <= (order_ts + (INTERVAL 1 HOUR))))")
    assert upper_bounds(text, ORDERS, PAYMENTS) == [
        UpperBound("order_ts + (INTERVAL '1' HOUR)", strict=False)]
    assert upper_bounds(text, PAYMENTS, ORDERS) == [UpperBound("paid_ts", strict=False)]


def test_df_column_references_are_qualified_by_their_sides_alias() -> None:
    from pyspark.sql.connect import proto

    from lakesmith.engine.expression_sql import expression_sql

    reference = proto.Expression()
    reference.unresolved_attribute.unparsed_identifier = "ts"
    reference.unresolved_attribute.plan_id = 7
    assert expression_sql(reference, {7: "l"}) == "`l`.ts"
    assert expression_sql(reference, {8: "r"}) == "ts"
    unknown = proto.Expression()
    unknown.lambda_function.function.literal.integer = 1
    assert expression_sql(unknown) is None


def test_a_watermark_in_the_join_keys_bounds_both_sides_by_their_key() -> None:
    """Spark's key predicate: a row leaves when its key (a window's end) is at or before the
    watermark; preferred to a time range when both are there."""
    left = JoinSide("l", frozenset({"w", "k", "ts"}), frozenset({"ts"}), frozenset({"w"}))
    right = JoinSide("r", frozenset({"w", "k", "ts"}), frozenset({"ts"}), frozenset({"w"}))
    condition = "l.w = r.w AND l.k = r.k AND r.ts BETWEEN l.ts AND l.ts + INTERVAL 5 SECONDS"
    assert upper_bounds(condition, left, right) == [UpperBound("l.w.`end`", True, on_key=True)]
    assert upper_bounds(condition, right, left) == [UpperBound("r.w.`end`", True, on_key=True)]
    assert upper_bounds("l.ts = r.ts", left, right) == [UpperBound("l.ts", True, on_key=True)]
    assert upper_bounds("l.k = r.k", left, right) == []
