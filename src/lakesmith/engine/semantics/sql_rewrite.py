"""SQL text with Spark's meaning: doubled quotes escaped, then each call of a function in
`rules.RULES` replaced by its rewrite (arguments rewritten first, so nested calls are handled).

Typed rules ask a `Typer` for the type of the call's first argument: the engine's own analysis,
so a type is never guessed."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql.types import DataType

from lakesmith.engine.semantics.rules import RULES_BY_NAME
from lakesmith.engine.semantics.sql_text import (
    Call,
    escape_doubled_quotes,
    find_calls,
    is_unaliased_select_item,
    window_after,
)
from lakesmith.errors import NotSupportedYet

# (the whole text, the call) → the type of the call's first argument, or None when unknown.
Typer = Callable[[str, Call], DataType | None]
_NAMES = frozenset(RULES_BY_NAME)


def rewrite_sql(text: str, typer: Typer | None) -> str:
    """`text` rewritten for Spark's answers; unchanged (the same object) when nothing applies."""
    escaped = escape_doubled_quotes(text)
    calls = find_calls(escaped, _NAMES)
    if not calls:
        return escaped
    return _rewrite_span(escaped, 0, len(escaped), calls, typer, escaped)


def _rewrite_span(text: str, start: int, end: int, calls: list[Call], typer: Typer | None,
                  whole: str) -> str:
    """text[start:end] with every call inside it rewritten, outermost calls last."""
    out: list[str] = []
    position = start
    for call in _outermost(calls, start, end):
        out.append(text[position:call.start])
        over, call_end = window_after(text, call.end)
        rewritten = _rewrite_call(text, call, calls, typer, whole, over)
        if rewritten != text[call.start:call_end] and is_unaliased_select_item(text, call):
            # the column keeps the name it has without the rewrite
            name = " ".join(text[call.start:call.end].split()).replace("`", "``")
            rewritten = f"{rewritten} AS `{name}`"
        out.append(rewritten)
        position = call_end
    out.append(text[position:end])
    return "".join(out)


def _outermost(calls: list[Call], start: int, end: int) -> list[Call]:
    inside = [c for c in calls if start <= c.start and c.end <= end]
    return [c for c in inside
            if not any(o is not c and o.start <= c.start and c.end <= o.end for o in inside)]


def _rewrite_call(text: str, call: Call, calls: list[Call], typer: Typer | None,
                  whole: str, over: str) -> str:
    """The call rewritten (with its window clause `over`, when it is a window function)."""
    args = [_rewrite_span(text, a, b, [c for c in calls if c is not call], typer, whole).strip()
            for a, b in call.args]
    rule = RULES_BY_NAME[call.name]
    arg_type = None
    if rule.typed and args and not args[0].lower().startswith("distinct"):
        arg_type = typer(whole, call) if typer is not None else None
        if arg_type is None:
            raise NotSupportedYet(
                f"{text[call.start:call.end]}: lakesmith could not find the type of the "
                f"argument of {call.name}(), and the engine's answer differs from Spark's for "
                f"some types ({rule.difference}).",
                hint=f"cast the argument of {call.name}() to the type you mean, e.g. "
                f"{call.name}(CAST(x AS DOUBLE), ...), or compute it in a DataFrame.")
    replacement = rule.sql(args, arg_type, over)
    if replacement is not None:
        return replacement
    if not call.args:
        return text[call.start:call.end] + over
    return f"{text[call.start:call.args[0][0]]}{', '.join(args)}){over}"
