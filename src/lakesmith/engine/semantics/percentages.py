"""The percentages of `percentile_approx(x, array(0.25, 0.75))` one by one: the engine takes a
single percentage only, so each is computed on its own and the answers gathered in an array
(the sorted values are the same aggregate for every one, which the engine computes once)."""

from __future__ import annotations

from typing import Any

from lakesmith.engine.semantics.sql_text import find_calls


def percentage_array(text: str) -> list[str] | None:
    """The element texts of `array(...)` written as SQL, or None when `text` is no such call."""
    calls = find_calls(text, frozenset({"array"}))
    if not calls or calls[0].start != 0 or calls[0].end != len(text):
        return None
    elements = calls[0].arg_texts(text)
    return elements or None


def percentage_columns(column: Any) -> list[Any] | None:
    """The elements of an array literal or an `array(...)` call given to a DataFrame function."""
    from pyspark.sql.connect.column import Column

    from lakesmith.engine.semantics.plan_rewrite import _Proto

    plan = column._expr.to_plan(None)
    kind = plan.WhichOneof("expr_type")
    if kind == "unresolved_function" and plan.unresolved_function.function_name == "array":
        return [Column(_Proto(a)) for a in plan.unresolved_function.arguments] or None
    if kind == "literal" and plan.literal.WhichOneof("literal_type") == "array":
        return [Column(_Proto(_literal(e))) for e in plan.literal.array.elements] or None
    return None


def _literal(element: Any) -> Any:
    from pyspark.sql.connect import proto

    expression = proto.Expression()
    expression.literal.CopyFrom(element)
    return expression

