"""Schemas the engine reads files with.

`spark.read.schema(StructType)` is sent as JSON; the engine rejects it when a field's metadata
holds a non-string value (Delta's column-mapping ids, identity columns), so `read_schema` drops
the metadata (a file read does not keep it anyway). The JSON form keeps what DDL cannot say
(`containsNull`/`valueContainsNull` false), which a table created with that schema requires of
appends. `ddl_of` gives the DDL form, with every name quoted at every depth."""

from __future__ import annotations

from typing import Any

from pyspark.sql.types import ArrayType, DataType, MapType, StringType, StructType, UserDefinedType


def read_schema(schema: StructType) -> StructType:
    """`schema` without field metadata, at every depth."""
    return StructType.fromJson(_without_metadata(schema.jsonValue()))


def _without_metadata(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ({} if k == "metadata" else _without_metadata(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_metadata(v) for v in value]
    return value


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
    if isinstance(data_type, StringType):  # the engine's DDL parser rejects `string collate X`
        return "string"
    if isinstance(data_type, UserDefinedType):
        return type_ddl(data_type.sqlType())
    return data_type.simpleString()
