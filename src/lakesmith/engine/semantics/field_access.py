"""`expr.field` where `expr` is an array of structs: Spark gives the array of that field of each
element (`array(named_struct('a', 1), named_struct('a', 2)).a` is `[1, 2]`); the engine does so
for a column (`arr.a`) but fails on any other expression (a call, a parenthesised expression:
"Cannot cast string 'a' to value of Int64 type"). Such an access is written
`transform(expr, e -> e.field)`.

Only accesses after a closing parenthesis are candidates (`f(...).a`, `(...).a`): a name
followed by `.a` is a column or a qualified name, which the engine already reads as Spark does.
The expression's type is asked of the engine; a struct is left as written."""

from __future__ import annotations

from typing import Any

from pyspark.sql.types import ArrayType, DataType, StructType

from lakesmith.engine.semantics.lambda_text import VARIABLE
from lakesmith.engine.semantics.rules import Rule
from lakesmith.engine.semantics.sql_operators import _primary_start, _tokens
from lakesmith.engine.semantics.sql_text import Call

FIELD = "."  # the rule's name: a field access is a Call named by its operator
# Calls that return a struct (never an array): no need to ask the engine.
_STRUCT_CALLS = frozenset({"window", "session_window", "struct", "named_struct"})


def find_field_accesses(text: str) -> list[Call]:
    """Every `<parenthesised expression or call>.<name>` as a Call named `.`, with the
    expression and the name as its two arguments."""
    tokens = _tokens(text)
    found = []
    for i, token in enumerate(tokens):
        if token.text != "." or i == 0 or tokens[i - 1].text != ")" or i + 1 >= len(tokens) \
                or tokens[i + 1].kind not in ("word", "quoted"):
            continue
        start = _primary_start(tokens, i - 1)
        if start is None:
            continue
        if tokens[start].kind == "word" and tokens[start].lower in _STRUCT_CALLS:
            continue
        name = tokens[i + 1]
        found.append(Call(FIELD, tokens[start].start, name.end,
                          ((tokens[start].start, token.start), (name.start, name.end))))
    return found


def _field_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    t = types[0]
    if len(args) != 2 or not isinstance(t, ArrayType) or \
            not isinstance(t.elementType, StructType):
        return None
    return f"transform({args[0]}, {VARIABLE} -> {VARIABLE}.{args[1]})"


def _field_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    return None  # a DataFrame's field access is no function call: `field_of_each`


def is_expression_field_access(extract: Any) -> bool:
    """Whether a Connect `unresolved_extract_value` takes a named field of an expression (not
    of a column, which the engine reads as Spark does): `F.array(...).getField("a")`."""
    return extract.child.WhichOneof("expr_type") not in ("unresolved_attribute", None) and \
        extract.extraction.WhichOneof("expr_type") == "literal" and \
        extract.extraction.literal.WhichOneof("literal_type") == "string"


def field_of_each(child: Any, child_type: DataType | None, name: str) -> Any | None:
    """`child[name]` as Spark reads it where `child` is an array of structs, else None."""
    if not isinstance(child_type, ArrayType) or not isinstance(child_type.elementType, StructType):
        return None
    from pyspark.sql.connect import functions as F

    return F.transform(child, lambda e: e[name])


FIELD_RULE = Rule(frozenset({FIELD}), "a field of an array of structs given by an expression "
                  "(not a column) fails", _field_sql, _field_column, typed=1,
                  refuse_untyped=False)
