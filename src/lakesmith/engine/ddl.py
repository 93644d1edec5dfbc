"""Schemas as DDL strings: the engine reads `spark.read.schema(...)` from DDL, not from a
StructType (Sail's parser rejects the JSON form)."""

from __future__ import annotations

from pyspark.sql.types import ArrayType, DataType, MapType, StructType


def quote_name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def ddl_of(schema: StructType) -> str:
    """`a BIGINT, `first name` STRUCT<`x:y`: INT>`: every name quoted, at every depth."""
    return ", ".join(
        f"{quote_name(f.name)} {type_ddl(f.dataType)}" + ("" if f.nullable else " NOT NULL")
        for f in schema.fields)


def type_ddl(data_type: DataType) -> str:
    if isinstance(data_type, StructType):
        fields = ", ".join(
            f"{quote_name(f.name)}: {type_ddl(f.dataType)}" + ("" if f.nullable else " NOT NULL")
            for f in data_type.fields)
        return f"STRUCT<{fields}>"
    if isinstance(data_type, ArrayType):
        return f"ARRAY<{type_ddl(data_type.elementType)}>"
    if isinstance(data_type, MapType):
        return f"MAP<{type_ddl(data_type.keyType)}, {type_ddl(data_type.valueType)}>"
    return data_type.simpleString()
