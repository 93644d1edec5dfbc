"""JSON functions with Spark's answers:

* `from_json(s, schema)`: the engine wraps an INT/SMALLINT/TINYINT that overflows
  (3000000000 becomes -1294967296; Spark gives NULL) and fails on TIMESTAMP and DATE fields.
  Such fields are parsed as BIGINT / STRING (a wider schema) and converted with a range check
  or a cast, at every depth (structs, arrays, map values), as Auto Loader's JSON reader does
  (`sources/files/formats/convert.py`). The schema is the engine's analysis of the call.
* `to_json(x)`: the engine writes TIMESTAMPs with microseconds (`...00.000000Z`; Spark
  milliseconds, `...00.000Z`) and DECIMALs without trailing zeros (`1.5`; Spark `1.50`).
  TIMESTAMP fields are formatted as Spark formats them; DECIMAL fields (scale up to 6, which
  Spark writes in plain notation) are written as their text between two private-use marks
  (U+E000, U+E001) and unquoted after `to_json`. A `timestampFormat` option is honoured by the
  engine as by Spark; a DECIMAL of a larger scale is refused (Spark writes `1.2E-7`).
* `json_array_length(s)`: the engine counts an object's members (`{"a":1}` is 1, `{}` 0);
  Spark gives NULL for anything that is not a JSON array.

The parsed value is written once per field (`from_json(...).a`, `from_json(...).b`): the engine
computes the repeated call once (measured: 5 references cost 1.4x one, where binding it to a
lambda variable, `transform(array(v), e -> ...)[0]`, costs 1.7x and trips an engine bug in
nested lambdas; see docs/engine-gaps.md).

Like Spark's parser, a value that does not convert inside an array or a map makes the whole
array or map NULL (Spark's partial results stop at struct fields)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import (
    ArrayType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    MapType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from lakesmith.engine.ddl import type_ddl
from lakesmith.engine.semantics.lambda_text import VARIABLE
from lakesmith.engine.semantics.rules import Rule
from lakesmith.engine.semantics.string_dates import string_to_date_column, string_to_date_sql
from lakesmith.errors import NotSupportedYet

# A leaf of a type: SQL (value text → text) or Column (value → Column), None when unchanged.
SqlLeaf = Callable[[str, DataType], str | None]
ColumnLeaf = Callable[[Any, DataType], Any | None]

# The integer types whose overflow the engine's from_json wraps: parsed as BIGINT, then a
# `try_cast` is NULL out of range (a CASE on the range is folded eagerly for a literal).
RANGES = (IntegerType, ShortType, ByteType)
_TEXTUAL = (TimestampType, TimestampNTZType, DateType)
_SPARK_JSON_TIMESTAMP = "yyyy-MM-dd'T'HH:mm:ss.SSSXXX"
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKED = f'"{_OPEN}([^"{_CLOSE}]*){_CLOSE}"'
_PLAIN_SCALE = 6  # Java's BigDecimal.toString is plain down to 1e-6


def _touches(t: DataType, leaf: Callable[[DataType], bool]) -> bool:
    if isinstance(t, StructType):
        return any(_touches(f.dataType, leaf) for f in t.fields)
    if isinstance(t, ArrayType):
        return _touches(t.elementType, leaf)
    if isinstance(t, MapType):
        return _touches(t.valueType, leaf)
    return leaf(t)


def _structural_sql(v: str, t: DataType, leaf: SqlLeaf, touched: Callable[[DataType], bool],
                    *, strict: bool, depth: int = 0) -> str:
    """`v` of type `t` with `leaf` applied to every leaf, structure kept; `strict`: an array
    or map with an element that does not convert (NULL from a value) is NULL."""
    if not _touches(t, touched):
        return v
    e = f"{VARIABLE}{depth}"

    def inner(value: str, of: DataType) -> str:
        return _structural_sql(value, of, leaf, touched, strict=strict, depth=depth + 1)

    if isinstance(t, StructType):
        fields = ", ".join(
            f"'{_sql_string(f.name)}', "
            + inner(f"{v}.`" + f.name.replace("`", "``") + "`", f.dataType) for f in t.fields)
        return f"CASE WHEN {v} IS NOT NULL THEN named_struct({fields}) END"
    if isinstance(t, ArrayType):
        element = inner(e, t.elementType)
        converted = f"transform({v}, {e} -> {element})"
        values = v
    elif isinstance(t, MapType):
        element = inner(e, t.valueType)
        converted = (f"map_from_entries(transform(map_entries({v}), {e} -> "
                     f"struct({e}.key AS key, {inner(f'{e}.value', t.valueType)} AS value)))")
        values = f"map_values({v})"
    else:
        return leaf(v, t) or v
    if not strict:
        return converted
    return (f"CASE WHEN exists({values}, {e} -> {e} IS NOT NULL AND ({element}) IS NULL) "
            f"THEN NULL ELSE {converted} END")


def _structural_column(v: Any, t: DataType, leaf: ColumnLeaf,
                       touched: Callable[[DataType], bool], *, strict: bool) -> Any:
    """`_structural_sql` for a Column."""
    if not _touches(t, touched):
        return v

    def inner(value: Any, of: DataType) -> Any:
        return _structural_column(value, of, leaf, touched, strict=strict)

    if isinstance(t, StructType):
        return F.when(v.isNotNull(), F.struct(*[
            inner(v[f.name], f.dataType).alias(f.name) for f in t.fields]))
    if isinstance(t, ArrayType):
        element_type = t.elementType
        converted = F.transform(v, lambda x: inner(x, element_type))
        values = v
    elif isinstance(t, MapType):
        element_type = t.valueType
        converted = F.map_from_entries(F.transform(F.map_entries(v), lambda x: F.struct(
            x["key"].alias("key"), inner(x["value"], element_type).alias("value"))))
        values = F.map_values(v)
    else:
        result = leaf(v, t)
        return v if result is None else result
    if not strict:
        return converted
    failed = F.exists(values, lambda x: x.isNotNull() & inner(x, element_type).isNull())
    return F.when(~failed, converted)


def _sql_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


# from_json ---------------------------------------------------------------------------------

def _widened(t: DataType) -> bool:
    return isinstance(t, RANGES) or isinstance(t, _TEXTUAL)


def _integers(t: DataType) -> bool:
    return isinstance(t, RANGES)


def _widened_with(format_given: bool) -> Callable[[DataType], bool]:
    """The leaves to widen: with a dateFormat/timestampFormat option the engine parses DATE
    and TIMESTAMP fields itself (as Spark does), so only integers are widened."""
    return _integers if format_given else _widened


def _parse_type(t: DataType, widened: Callable[[DataType], bool]) -> DataType:
    """The type `from_json` is asked for: overflowing integers as BIGINT, dates as text."""
    if isinstance(t, StructType):
        return StructType([StructField(f.name, _parse_type(f.dataType, widened))
                           for f in t.fields])
    if isinstance(t, ArrayType):
        return ArrayType(_parse_type(t.elementType, widened))
    if isinstance(t, MapType):
        return MapType(t.keyType, _parse_type(t.valueType, widened))
    if not widened(t):
        return t
    return LongType() if isinstance(t, RANGES) else StringType()


def _from_json_leaf_sql(v: str, t: DataType) -> str | None:
    if isinstance(t, RANGES):  # NULL when out of range
        return f"try_cast({v} AS {type_ddl(t)})"
    if isinstance(t, DateType):
        return string_to_date_sql(v, try_=True)
    if isinstance(t, (TimestampType, TimestampNTZType)):
        return f"try_cast({v} AS {type_ddl(t)})"
    return None


def _from_json_leaf_column(v: Any, t: DataType) -> Any | None:
    if isinstance(t, RANGES):
        return v.try_cast(type_ddl(t))
    if isinstance(t, DateType):
        return string_to_date_column(v, try_=True)
    if isinstance(t, (TimestampType, TimestampNTZType)):
        return v.try_cast(type_ddl(t))
    return None


_WIDENED_WORDS = re.compile(r"\b(?:int|integer|smallint|short|tinyint|byte|timestamp|"
                            r"timestamp_ltz|timestamp_ntz|date)\b", re.IGNORECASE)


def _may_widen(args: list[str]) -> bool:
    """Whether a from_json schema (as SQL text, "" when unknown) can name a type to widen."""
    return len(args) < 2 or not args[1] or bool(_WIDENED_WORDS.search(args[1]))


def _has_format(options: str, key: str = "format") -> bool:
    """Whether options (as SQL text or a plan) name a format: the engine honours them."""
    return key in options.lower()


def _from_json_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    t = types[-1]
    if len(args) not in (2, 3) or t is None or not _touches(t, _widened):
        return None
    widened = _widened_with(len(args) == 3 and _has_format(args[2]))
    if not _touches(t, widened):
        return None
    ddl = type_ddl(_parse_type(t, widened))
    parse = f"from_json({', '.join([args[0], _quoted_sql(ddl), *args[2:]])})"
    return _structural_sql(f"({parse})", t, _from_json_leaf_sql, widened, strict=True)


def _quoted_sql(text: str) -> str:
    return f"'{_sql_string(text)}'"


def _from_json_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    t = types[-1]
    if len(args) not in (2, 3) or t is None or not _touches(t, _widened):
        return None
    widened = _widened_with(len(args) == 3 and _has_format(str(args[2]._expr.to_plan(None))))
    if not _touches(t, widened):
        return None
    parse = F.from_json(args[0], F.lit(type_ddl(_parse_type(t, widened))),
                        *([] if len(args) == 2 else [args[2]]))
    return _structural_column(parse, t, _from_json_leaf_column, widened, strict=True)


# to_json -----------------------------------------------------------------------------------

def _rewritten_leaf(t: DataType) -> bool:
    return isinstance(t, (TimestampType, DecimalType))


def _decimal_leaf(t: DataType) -> bool:
    return isinstance(t, DecimalType)


def _to_json_leaves(args: list[str]) -> Callable[[DataType], bool]:
    """The leaves to rewrite: with a timestampFormat option the engine formats TIMESTAMPs as
    asked (as Spark does); DECIMALs lose their trailing zeros whatever the options."""
    return _decimal_leaf if len(args) > 1 and _has_format(args[1], "timestampformat") \
        else _rewritten_leaf


def _check_decimals(t: DataType) -> None:
    if _touches(t, lambda x: isinstance(x, DecimalType) and x.scale > _PLAIN_SCALE):
        raise NotSupportedYet(
            f"to_json of a DECIMAL with a scale above {_PLAIN_SCALE}: Spark writes small values "
            "of it in exponent form (1.2E-7), the engine in plain form (0.00000012), and "
            "lakesmith does not rewrite it.",
            hint="cast the field to a DECIMAL with a scale of 6 or less, or to STRING.")


def _to_json_leaf_sql(v: str, t: DataType) -> str | None:
    if isinstance(t, TimestampType):
        return f"date_format({v}, '{_sql_string(_SPARK_JSON_TIMESTAMP)}')"
    if isinstance(t, DecimalType):
        return f"concat('{_OPEN}', CAST({v} AS STRING), '{_CLOSE}')"
    return None


def _to_json_leaf_column(v: Any, t: DataType) -> Any | None:
    if isinstance(t, TimestampType):
        return F.date_format(v, _SPARK_JSON_TIMESTAMP)
    if isinstance(t, DecimalType):
        return F.concat(F.lit(_OPEN), v.cast("string"), F.lit(_CLOSE))
    return None


def _has_decimals(t: DataType) -> bool:
    return _touches(t, lambda x: isinstance(x, DecimalType))


def _to_json_sql(args: list[str], types: list[DataType | None], over: str) -> str | None:
    t, leaves = types[0], _to_json_leaves(args)
    if t is None or not _touches(t, leaves):
        return None
    _check_decimals(t)
    converted = _structural_sql(f"({args[0]})", t, _to_json_leaf_sql, leaves, strict=False)
    text = f"to_json({', '.join([converted, *args[1:]])})"
    if _has_decimals(t):
        text = f"regexp_replace({text}, '{_MARKED}', '$1')"
    return text


def _to_json_column(args: list[Any], types: list[DataType | None]) -> Any | None:
    options = [str(a._expr.to_plan(None)) for a in args[1:]]
    t, leaves = types[0], _to_json_leaves(["", *options])
    if t is None or not _touches(t, leaves):
        return None
    _check_decimals(t)
    converted = _structural_column(args[0], t, _to_json_leaf_column, leaves, strict=False)
    text = F.call_function("to_json", converted, *args[1:])
    return F.regexp_replace(text, _MARKED, "$1") if _has_decimals(t) else text


# json_array_length -------------------------------------------------------------------------

# (white space as the characters themselves: Java's syntax reads them the same, `regex_rules`)
_ARRAY_START = "^[\t\n\x0b\x0c\r ]*\\\\["


def _json_array_length_sql(args: list[str], _: list[DataType | None], over: str) -> str | None:
    if len(args) != 1:
        return None
    return (f"(CASE WHEN ({args[0]}) RLIKE '{_ARRAY_START}' "
            f"THEN json_array_length({args[0]}) END)")


def _json_array_length_column(args: list[Any], _: list[DataType | None]) -> Any | None:
    if len(args) != 1:
        return None
    return F.when(args[0].rlike(_ARRAY_START.replace("\\\\", "\\")),
                  F.json_array_length(args[0]))


JSON_RULES: tuple[Rule, ...] = (
    Rule(frozenset({"from_json"}), "from_json wraps INT fields that overflow and fails on "
         "TIMESTAMP and DATE fields", _from_json_sql, _from_json_column,
         refuse_untyped=False, typed_result=True, candidate=_may_widen),
    Rule(frozenset({"to_json"}), "to_json writes TIMESTAMPs with microseconds and DECIMALs "
         "without trailing zeros", _to_json_sql, _to_json_column, typed=1,
         refuse_untyped=False),
    Rule(frozenset({"json_array_length"}), "json_array_length of a JSON object is 0; Spark "
         "NULL", _json_array_length_sql, _json_array_length_column),
)
