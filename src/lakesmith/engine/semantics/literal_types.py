"""The Spark type of a SQL literal, read from its text: `1` INT, `3000000000` BIGINT, `1L`
BIGINT, `2.5` DECIMAL(2,1), `0.01` DECIMAL(2,2), `1e3` / `2D` DOUBLE, `'a'` STRING, `NULL`,
`TRUE`. A literal needs no probe of the engine (and no parse of the query by sqlglot), so a CASE
of literal values is typed even in a query sqlglot cannot read."""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql.types import (
    BooleanType,
    ByteType,
    DataType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    NullType,
    ShortType,
    StringType,
)

_NUMBER = re.compile(r"^[-+]?(\d*)(?:\.(\d*))?([eE][-+]?\d+)?(BD|bd|[LSYDFlsydf])?$")
_STRING = re.compile(r"""^(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")$""", re.DOTALL)
_SUFFIX: dict[str, DataType] = {"l": LongType(), "s": ShortType(), "y": ByteType(),
                                "d": DoubleType(), "f": FloatType()}
_INT_MAX, _LONG_MAX = 2**31 - 1, 2**63 - 1
MAX_PRECISION = 38


def literal_type(text: str) -> DataType | None:
    """The type of `text` when it is a single literal, else None."""
    text = text.strip()
    lowered = text.lower()
    if lowered == "null":
        return NullType()
    if lowered in ("true", "false"):
        return BooleanType()
    if _STRING.match(text):
        return StringType()
    match = _NUMBER.match(text)
    if match is None or not (match.group(1) or match.group(2)):
        return None
    integer, fraction, exponent, suffix = match.groups()
    if suffix:
        if suffix.lower() == "bd":
            return _decimal(integer, fraction or "")
        return _SUFFIX[suffix.lower()]
    if exponent:
        return DoubleType()
    if fraction is not None:
        return _decimal(integer, fraction)
    value = int(integer)
    if value <= _INT_MAX:
        return IntegerType()
    if value <= _LONG_MAX:
        return LongType()
    return _decimal(integer, "")


def _decimal(integer: str, fraction: str) -> DataType | None:
    """BigDecimal's precision and scale, as Spark types a decimal literal."""
    unscaled = (integer + fraction).lstrip("0")
    precision, scale = max(len(unscaled), 1), len(fraction)
    precision = max(precision, scale)
    return DecimalType(precision, scale) if precision <= MAX_PRECISION else None


_PROTO_KINDS: dict[str, DataType] = {
    "integer": IntegerType(), "long": LongType(), "short": ShortType(), "byte": ByteType(),
    "double": DoubleType(), "float": FloatType(), "string": StringType(),
    "boolean": BooleanType()}


def expression_literal_type(expression: Any) -> DataType | None:
    """The type of a Spark Connect literal expression (`F.lit(1)`, a value in `when`), or
    None when it is not a plain literal."""
    if expression.WhichOneof("expr_type") != "literal":
        return None
    literal = expression.literal
    kind = literal.WhichOneof("literal_type")
    if kind in _PROTO_KINDS:
        return _PROTO_KINDS[kind]
    if kind == "decimal" and literal.decimal.HasField("precision") and \
            literal.decimal.HasField("scale"):
        return DecimalType(literal.decimal.precision, literal.decimal.scale)
    return None


def column_literal(column: Any) -> tuple[str, Any] | None:
    """The kind (`literal_type`: "integer", "string", ...) and value of a DataFrame Column that
    is a plain literal (`F.lit(2)`, a number a function was given), else None."""
    expr = getattr(column, "_expr", None)
    plan = getattr(expr, "_plan", None)
    if plan is None and expr is not None:
        plan = expr.to_plan(None)
    if plan is None or plan.WhichOneof("expr_type") != "literal":
        return None
    kind = plan.literal.WhichOneof("literal_type")
    return None if kind is None else (kind, getattr(plan.literal, kind))

