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
