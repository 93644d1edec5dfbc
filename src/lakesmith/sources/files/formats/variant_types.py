"""Spark's JSON schema inference, merged from the types the engine reports per record.

The engine gives each record's shape as `schema_of_variant(try_parse_json(record))`
(`OBJECT<a: BIGINT, b: ARRAY<DOUBLE>>`); only those type strings come back to Python, and they are
merged here with Spark's `JsonInferSchema` rules: NULL fits anything, BIGINT and DOUBLE widen to
DOUBLE, objects merge field by field, arrays element by element, anything else becomes STRING;
fields are sorted by name at every level (tests/golden/file_formats.json, `json_infer_*`).
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DecimalType,
    DoubleType,
    LongType,
    NullType,
    StringType,
    StructField,
    StructType,
)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def parse(self) -> DataType:
        value = self.type()
        if self.i != len(self.text):
            raise ValueError(f"unexpected text at {self.i} in {self.text!r}")
        return value

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i] == " ":
            self.i += 1

    def word(self) -> str:
        self.skip()
        start = self.i
        while self.i < len(self.text) and (self.text[self.i].isalnum() or self.text[self.i] == "_"):
            self.i += 1
        return self.text[start:self.i].upper()

    def expect(self, char: str) -> None:
        self.skip()
        if not self.text.startswith(char, self.i):
            raise ValueError(f"expected {char!r} at {self.i} in {self.text!r}")
        self.i += len(char)

    def name(self) -> str:
        self.skip()
        if self.text.startswith("`", self.i):
            end = self.i + 1
            parts = []
            while True:
                close = self.text.index("`", end)
                parts.append(self.text[end:close])
                if self.text.startswith("``", close):
                    parts.append("`")
                    end = close + 2
                    continue
                self.i = close + 1
                return "".join(parts)
        close = self.text.index(":", self.i)
        name = self.text[self.i:close]
        self.i = close
        return name

    def type(self) -> DataType:
        word = self.word()
        if word in ("OBJECT", "STRUCT"):
            self.expect("<")
            fields = []
            self.skip()
            while not self.text.startswith(">", self.i):
                name = self.name()
                self.expect(":")
                fields.append(StructField(name, self.type()))
                self.skip()
                if self.text.startswith(",", self.i):
                    self.i += 1
                    self.skip()
            self.expect(">")
            return StructType(fields)
        if word == "ARRAY":
            self.expect("<")
            element = self.type()
            self.expect(">")
            return ArrayType(element)
        if word == "DECIMAL":
            self.expect("(")
            precision = int(self.word())
            self.expect(",")
            scale = int(self.word())
            self.expect(")")
            return DecimalType(precision, scale) if scale > 0 else (
                LongType() if precision <= 18 else DecimalType(precision, 0))
        simple = {"BIGINT": LongType(), "INT": LongType(), "SMALLINT": LongType(),
                  "TINYINT": LongType(), "DOUBLE": DoubleType(), "FLOAT": DoubleType(),
                  "STRING": StringType(), "BOOLEAN": BooleanType(), "VOID": NullType(),
                  "VARIANT": StringType()}
        if word not in simple:
            raise ValueError(f"unknown type {word!r} in {self.text!r}")
        return simple[word]


def parse_variant_type(text: str) -> DataType:
    """A `schema_of_variant` result as a Spark type (a mixed array, ARRAY<VARIANT>, is taken as
    ARRAY<STRING>, which is Spark's answer when strings are among the elements)."""
    return _Parser(text).parse()


def merge(a: DataType, b: DataType) -> DataType:
    """Spark's `JsonInferSchema.compatibleType`."""
    if a == b:
        return a
    if isinstance(a, NullType):
        return b
    if isinstance(b, NullType):
        return a
    numeric = (LongType, DoubleType, DecimalType)
    if isinstance(a, numeric) and isinstance(b, numeric):
        if isinstance(a, DoubleType) or isinstance(b, DoubleType):
            return DoubleType()
        if isinstance(a, DecimalType) and isinstance(b, DecimalType):
            scale = max(a.scale, b.scale)
            digits = max(a.precision - a.scale, b.precision - b.scale)
            return DecimalType(min(38, digits + scale), scale) if digits + scale <= 38 \
                else DoubleType()
        return merge(DecimalType(20, 0), b if isinstance(a, LongType) else a)
    if isinstance(a, StructType) and isinstance(b, StructType):
        fields = {f.name: f.dataType for f in a.fields}
        for f in b.fields:
            fields[f.name] = merge(fields[f.name], f.dataType) if f.name in fields else f.dataType
        return StructType([StructField(n, t) for n, t in fields.items()])
    if isinstance(a, ArrayType) and isinstance(b, ArrayType):
        return ArrayType(merge(a.elementType, b.elementType))
    return StringType()


def finish(data_type: DataType, *, primitives_as_string: bool) -> DataType | None:
    """Spark's `canonicalizeType`: fields sorted by name, NULL-only values as STRING, primitives
    as STRING when asked; fields with an empty name dropped, and structs left with no field
    dropped with the field or array that holds them (SPARK-8093). None when nothing is left."""
    if isinstance(data_type, StructType):
        fields = []
        for f in sorted(data_type.fields, key=lambda f: f.name):
            inner = finish(f.dataType, primitives_as_string=primitives_as_string)
            if f.name and inner is not None:
                fields.append(StructField(f.name, inner))
        return StructType(fields) if fields else None
    if isinstance(data_type, ArrayType):
        element = finish(data_type.elementType, primitives_as_string=primitives_as_string)
        return None if element is None else ArrayType(element)
    if isinstance(data_type, NullType) or primitives_as_string:
        return StringType()
    return data_type
