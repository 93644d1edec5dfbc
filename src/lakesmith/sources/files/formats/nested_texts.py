"""STRING values inside structs, arrays and maps of a JSON read: their text as written.

Spark's JSON reader gives a STRING field holding a number or an object the bytes as written
(`JacksonParser`'s StringType converter copies the raw bytes, `spark.sql.json.
enableExactStringParsing`, on by default): `{"s": {"a": 12.30}}` read as `s STRUCT<a: STRING>`
gives `12.30`, `1e3` stays `1e3`, `12345678901234567890` keeps its digits and `{"k": [1, 2]}`
keeps its spaces. The engine's `from_json` re-serializes them (`12.3`, `1000.0`,
`1.2345678901234568e+22`, `{"k":[1,2]}`), and Auto Loader infers every nested leaf as a STRING,
so this is the common ingestion path (tests/golden/file_formats.json, `json_nested_texts*`).

Numbers are made exact without a second reader: before the parse, every number outside a string
is quoted (`numbers_quoted`: `{"a": 12.30}` becomes `{"a": "12.30"}`), so the parse of the
STRING leaves gives each number's text. A field whose leaves are not all STRING is parsed both
ways and each leaf taken from the parse of its type (`exact_value`).

An object or array in a STRING leaf would still come back re-serialized (with its numbers
quoted). Reached through struct fields only, such a leaf is read again with `get_json_object`,
which gives the text as written. Inside an array or a map it cannot be (the engine's
`get_json_object` takes no array index from a column), so a record holding one fails the read,
naming its file and field: lakesmith gives Spark's answer or none. A STRING that merely begins
with `{` or `[` reads fine when its text appears in the record as is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, MapType, StringType, StructField, StructType

from lakesmith.engine.ddl import type_ddl

# A JSON string, or a number outside one (the regex engine's leftmost-first search starts every
# match at a string's opening quote, so no number is found inside a string).
_STRING_OR_NUMBER = r'("(?:[^"\\]|\\.)*")|(-?[0-9][0-9.eE+-]*)'
_MARK = "\u0001"  # cannot be in a valid JSON text unescaped (a control character)
_END = "\u0002"

Refusal = Callable[[str], Column]


@dataclass(frozen=True)
class Record:
    """The record a value is read from: `text`, what the parse read (for a line holding an
    array of objects, one element as the engine re-serialized it, numbers as written:
    `split_array`); `source`, the line as written; `in_array`, whether the row is such an
    element; `refuse(name)`, the read's error for a value it cannot give as written."""

    text: Column
    source: Column
    in_array: Column
    refuse: Refusal

    def unsure(self, value: Column) -> Column:
        """Whether `value` (a STRING beginning with `{` or `[`) may not be its text as written.
        Its text found in the line as is reads the same either way: a string (its quotes
        aside), or an object or array written without spaces or numbers."""
        return ~self.source.contains(value)


def has_string_leaves(data_type: DataType) -> bool:
    """Whether a struct, array or map type holds a STRING somewhere below it."""
    if isinstance(data_type, StructType):
        return any(has_string_leaves(f.dataType) or isinstance(f.dataType, StringType)
                   for f in data_type.fields)
    if isinstance(data_type, ArrayType):
        element = data_type.elementType
        return isinstance(element, StringType) or has_string_leaves(element)
    if isinstance(data_type, MapType):
        value = data_type.valueType
        return isinstance(value, StringType) or has_string_leaves(value)
    return False


def texts_type(data_type: DataType) -> DataType:
    """`data_type` with every leaf a STRING: the type the quoted text is parsed with."""
    if isinstance(data_type, StructType):
        return StructType([StructField(f.name, texts_type(f.dataType)) for f in data_type.fields])
    if isinstance(data_type, ArrayType):
        return ArrayType(texts_type(data_type.elementType))
    if isinstance(data_type, MapType):
        return MapType(StringType(), texts_type(data_type.valueType))
    return StringType()


def all_leaves_strings(data_type: DataType) -> bool:
    return texts_type(data_type) == data_type


# A number whose text the engine's parse may write otherwise (measured on Sail 0.7.2: it keeps
# integers and decimals of up to 15 significant digits without a trailing zero, and writes
# `12.30` as `12.3`, `-0` as `-0.0`, `1e3` as `1000.0`, `0.000001` as `1e-6`, `1e16` and
# beyond with an exponent, 17 digits rounded): an exponent, a fraction ending in 0 (`.0`
# alone excepted), `-0`, four zeros after `0.`, or 17 characters of digits and point. Each
# followed by what ends a number outside a string, so that timestamps inside strings
# (`05.000Z`) rarely match; a string that does only costs its record the quoted parse.
_REWRITTEN_NUMBER = (r"([0-9][eE][-+]?[0-9]+|\.[0-9]+0|-0|0\.0000[0-9]*|[0-9.]{17,})"
                     r"([,}\]\s]|$)")


def may_rewrite_numbers(record: Column) -> Column:
    """Whether `record` may hold a number the parse writes otherwise than as written: only
    such records pay for `numbers_quoted` and a second parse (a regular expression with
    groups scans at about a fifth of the speed of one without)."""
    return record.rlike(_REWRITTEN_NUMBER)


def as_texts(parsed: Column, data_type: DataType) -> Column:
    """A field parsed as `data_type` in the type `texts_type` gives it: a record without
    rewritten numbers takes its STRING leaves from the typed parse."""
    texts = texts_type(data_type)
    return parsed if texts == data_type else parsed.cast(type_ddl(texts))


def numbers_quoted(text: Column) -> Column:
    """`text` (JSON) with every number outside a string written as a string of its text.
    Each string match is followed by two marks, each number put between two: removing the
    pairs, then turning the single marks into quotes, leaves strings as they were."""
    marked = F.regexp_replace(text, _STRING_OR_NUMBER, f"$1{_MARK}$2{_MARK}")
    return F.replace(F.replace(marked, F.lit(_MARK * 2), F.lit("")), F.lit(_MARK), F.lit('"'))


def field_value(typed: Column, texts: Column, data_type: DataType, record: Record, name: str,
                quoted: Column) -> Column:
    """A top-level field's value (of a type with STRING leaves) with every STRING leaf its text
    as written. `typed`: the field parsed with its own type (converted); `texts`: its STRING
    leaves (`texts_type`), parsed from the record with its numbers quoted where `quoted`
    (`numbers_quoted`), else as parsed. The leaves are looked at one by one only in a record
    holding a STRING that begins with `{` or `[`, or (for a field with leaves of other types)
    one whose numbers were quoted: nearly every record takes `texts` or `typed` as they are."""
    exact = exact_value(typed, texts, data_type, record, _deeper([], name), name)
    bracketed = bracketed_strings(texts, data_type)
    if all_leaves_strings(data_type):
        return F.when(bracketed, exact).otherwise(texts)
    return F.when(quoted | bracketed, exact).otherwise(typed)


def split_array(text: Column) -> Column:
    """The elements of a JSON array (`text`) each as the engine re-serializes it, but with
    every number as written: before the split each number outside a string becomes a string
    starting with the escape `\\u0001` (which the engine writes back as such), and after it
    such strings become their numbers again. NULL where `text` is no array. A line that already
    holds that escape is refused by the caller (`marks_clash`)."""
    marked = F.regexp_replace(text, _STRING_OR_NUMBER, f"$1{_MARK}$2{_END}")
    marked = F.replace(F.replace(F.replace(marked, F.lit(_MARK + _END), F.lit("")),
                                 F.lit(_MARK), F.lit('"\\u0001')), F.lit(_END), F.lit('"'))
    return F.transform(F.from_json(marked, "array<string>"),
                       lambda e: F.regexp_replace(e, r'"\\u0001([^"]*)"', "$1"))


def marks_clash(text: Column) -> Column:
    """Whether `split_array` could take a string of `text` for a number it marked."""
    return F.lower(text).contains("\\u0001")


def exact_value(typed: Column, texts: Column, data_type: DataType, record: Record,
                path: Sequence[str] | None, name: str) -> Column:
    """`field_value` leaf by leaf: `path` holds the keys from the record's root when only struct
    fields lead here (None under an array or a map, or where a key cannot be spelled in a JSON
    path); `name` is how errors name the value."""
    if isinstance(data_type, StringType):
        return _string_leaf(texts, record, path, name)
    if not has_string_leaves(data_type):
        return typed
    same = all_leaves_strings(data_type)
    if isinstance(data_type, StructType):
        fields = [exact_value(texts[f.name] if same else typed[f.name], texts[f.name],
                              f.dataType, record, _deeper(path, f.name),
                              f"{name}.{f.name}").alias(f.name)
                  for f in data_type.fields]
        null = F.lit(None).cast(type_ddl(data_type))
        return F.when((texts if same else typed).isNull(), null).otherwise(F.struct(*fields))
    if isinstance(data_type, ArrayType):
        element = data_type.elementType
        if same:
            return F.transform(texts, lambda t: exact_value(
                t, t, element, record, None, f"{name}[]"))
        return _pairs(typed, texts, lambda v, t: exact_value(
            v, t, element, record, None, f"{name}[]"))
    assert isinstance(data_type, MapType)
    # The engine has no `transform_values`: the values are rebuilt in key order (both parses
    # read the same object, so their keys come in the same order).
    value_type = data_type.valueType
    values = F.map_values(texts) if same else _pairs(
        F.map_values(typed), F.map_values(texts), lambda v, t: exact_value(
            v, t, value_type, record, None, f"{name}[key]"))
    if same:
        values = F.transform(values, lambda t: exact_value(
            t, t, value_type, record, None, f"{name}[key]"))
    keys_of = texts if same else typed
    return F.when(keys_of.isNull(), F.lit(None).cast(type_ddl(data_type))).otherwise(
        F.map_from_arrays(F.map_keys(keys_of), values))


def _pairs(typed: Column, texts: Column, pair: Callable[[Column, Column], Column]) -> Column:
    """`pair` of each element of `typed` and the element at its place in `texts` (the engine
    has no `zip_with`; the two arrays come from one JSON array, so they are as long)."""
    return F.transform(typed, lambda v, i: pair(v, F.element_at(texts, i + 1)))


def bracketed_strings(texts: Column, data_type: DataType) -> Column:
    """Whether a field's STRING leaves (`texts`, of `texts_type(data_type)`) hold one that
    begins with `{` or `[`: an object or array the parse re-serialized, or a string that looks
    like one. An `exists` per array or map costs about a quarter of the parse; rebuilding every
    value leaf by leaf, or finding such strings in the field's `to_json`, about half."""
    if isinstance(data_type, StringType):
        return texts.startswith("{") | texts.startswith("[")
    if isinstance(data_type, StructType):
        found = F.lit(False)
        for f in data_type.fields:
            if has_string_leaves(f.dataType) or isinstance(f.dataType, StringType):
                found = found | F.coalesce(bracketed_strings(texts[f.name], f.dataType),
                                           F.lit(False))
        return found
    if isinstance(data_type, ArrayType):
        element = data_type.elementType
        return F.coalesce(F.exists(texts, lambda t: bracketed_strings(t, element)),
                          F.lit(False))
    assert isinstance(data_type, MapType)
    value_type = data_type.valueType
    return F.coalesce(F.exists(F.map_values(texts), lambda t: bracketed_strings(t, value_type)),
                      F.lit(False))


def _string_leaf(texts: Column, record: Record, path: Sequence[str] | None, name: str
                 ) -> Column:
    bracketed = texts.startswith("{") | texts.startswith("[")
    if path is None:
        # The parse wrote the value's numbers quoted: as written they had no quotes.
        unquoted = F.regexp_replace(texts, r'"(-?[0-9][0-9.eE+-]*)"', "$1")
        return F.when(bracketed, F.when(~record.unsure(texts), texts)
                      .when(~record.unsure(unquoted), unquoted)
                      .otherwise(record.refuse(name).cast("string"))).otherwise(texts)
    # Reached through struct fields: the text as written is found by its path (the first of
    # repeated keys, where Spark keeps the last: refused), but an element of a line's array is
    # the engine's re-serialization, objects and arrays compacted (refused unless as written).
    as_written = F.get_json_object(record.text, _json_path(path))
    unsure = _keys_repeat(record.text, path) | (record.in_array & record.unsure(as_written))
    return F.when(bracketed, F.when(unsure, record.refuse(name).cast("string"))
                  .otherwise(as_written)).otherwise(texts)


def _json_path(path: Sequence[str]) -> str:
    return "$" + "".join(f"['{key}']" for key in path)


def _keys_repeat(record: Column, path: Sequence[str]) -> Column:
    """Whether an object on the way to `path` (the record, then each struct) repeats a key."""
    repeats = F.lit(False)
    for depth in range(len(path)):
        parent = record if depth == 0 else F.get_json_object(record, _json_path(path[:depth]))
        keys = F.json_object_keys(parent)
        repeats = repeats | F.coalesce(F.size(keys) > F.size(F.array_distinct(keys)),
                                       F.lit(False))
    return repeats


def _deeper(path: Sequence[str] | None, key: str) -> list[str] | None:
    """The path one struct field further, or None where a JSON path cannot spell the key."""
    if path is None or "'" in key or "\\" in key:
        return None
    return [*path, key]
