"""The variables of SQL lambdas over an array's elements, for typing what uses them: in
`filter(a, v -> v > d)` the variable `v` stands for an element of `a`, whose type the engine can
tell as `element_at(a, 1)` (analysed, never run) where `v` alone cannot be probed. So a rule that
needs `v`'s type (`comparisons`: a DOUBLE element beside a DECIMAL `d`; `round(v, 2)`) gets it
(`operand_types`). Other lambdas (`aggregate`'s accumulator, `map_filter`'s key and value,
`zip_with`'s two elements) are not read: their variables stay untyped."""

from __future__ import annotations

from typing import Any

# Functions whose lambda's first variable is an element of their first argument, and a second
# one (when given) the element's index.
_ELEMENT_LAMBDAS = frozenset({"arrayfilter", "transform", "exists", "arrayall", "filter",
                              "forall", "arrayany"})


def lambda_variables(node: Any) -> set[str]:
    """The names of the variables of the lambdas `node` is in."""
    from sqlglot import exp

    names: set[str] = set()
    lam = node.find_ancestor(exp.Lambda)
    while lam is not None:
        names |= {v.name.lower() for v in lam.expressions}
        lam = lam.find_ancestor(exp.Lambda)
    return names


def without_lambda_variables(node: Any) -> Any | None:
    """The marked operand with each variable of the lambdas it is in replaced by what it stands
    for — an element of the array the lambda is applied to (`element_at(a, 1)`, typed, never
    run), an index (`0`) — so it can be typed in its SELECT (`filter(a, v -> v > d)`: `v` is
    `element_at(a, 1)`); None in a lambda of another kind (`aggregate`'s accumulator, a map's)."""
    from sqlglot import exp

    operand = node.expressions[0].copy()
    lam = node.find_ancestor(exp.Lambda)
    while lam is not None:
        hof = lam.parent
        kind = (str(hof.this) if isinstance(hof, exp.Anonymous) else type(hof).__name__).lower()
        array = hof.expressions[0] if isinstance(hof, exp.Anonymous) and hof.expressions \
            else hof.this if isinstance(hof, exp.Func) else None
        names = [v.name.lower() for v in lam.expressions]
        if kind not in _ELEMENT_LAMBDAS or not isinstance(array, exp.Expression) or \
                array is lam or not 1 <= len(names) <= 2:
            return None
        stands_for: dict[str, Any] = {names[0]: exp.Anonymous(this="element_at", expressions=[
            array.copy(), exp.Literal.number(1)])}
        if len(names) == 2:
            stands_for[names[1]] = exp.Literal.number(0)

        def replaced(n: Any, stands_for: dict[str, Any] = stands_for) -> Any:
            bare = isinstance(n, exp.Column) and not n.table or \
                isinstance(n, exp.Identifier) and not isinstance(n.parent, (exp.Column, exp.Table))
            return stands_for[n.name.lower()].copy() if bare and \
                n.name.lower() in stands_for else n

        operand = operand.transform(replaced)
        lam = hof.find_ancestor(exp.Lambda)
    return operand
