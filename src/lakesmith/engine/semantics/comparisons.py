"""A STRING compared with a BOOLEAN, with Spark's answer: Spark casts the STRING to BOOLEAN
(`'true' = true` is true; `'abc' = true` fails CAST_INVALID_INPUT); the engine refuses the
comparison ("Cannot infer common argument type for comparison operation Utf8 = Boolean").

Only comparisons with a boolean literal (`TRUE` / `FALSE`) or a string literal Spark reads as a
boolean (`'true'`, `'yes'`, `'0'`, ...) on one side are candidates: the other side's type is then
asked of the engine (other comparisons never need a probe)."""

from __future__ import annotations

from pyspark.sql.types import BooleanType, DataType, StringType

from lakesmith.engine.semantics.literal_types import literal_type
from lakesmith.engine.semantics.rules import Rule, SqlRewrite

COMPARISONS = frozenset({"=", "==", "!=", "<>", "<", ">", "<=", ">=", "<=>"})
_BOOLEAN_TEXTS = frozenset({"t", "true", "y", "yes", "1", "f", "false", "n", "no", "0"})


def _boolean_like(text: str) -> bool:
    t = literal_type(text)
    if isinstance(t, BooleanType):
        return True
    return isinstance(t, StringType) and text.strip()[1:-1].strip().lower() in _BOOLEAN_TEXTS


def _candidate(args: list[str]) -> bool:
    return len(args) == 2 and any(_boolean_like(a) for a in args)


def _comparison_sql(op: str) -> SqlRewrite:
    def rewrite(args: list[str], types: list[DataType | None], over: str) -> str | None:
        if len(args) != 2 or len(types) != 2:
            return None
        a, b = args
        if isinstance(types[0], StringType) and isinstance(types[1], BooleanType):
            a = f"CAST({a} AS BOOLEAN)"
        elif isinstance(types[0], BooleanType) and isinstance(types[1], StringType):
            b = f"CAST({b} AS BOOLEAN)"
        else:
            return None
        return f"{a} {op} {b}"

    return rewrite


COMPARISON_RULES: tuple[Rule, ...] = tuple(
    Rule(frozenset({op}), "a STRING compared with a BOOLEAN is refused (Spark casts the "
         "STRING to BOOLEAN)", _comparison_sql(op), lambda args, types: None,
         positions=lambda count: (0, 1) if count == 2 else (), refuse_untyped=False,
         candidate=_candidate)
    for op in sorted(COMPARISONS))
