"""Schemas inferred from files by the engine, and the new columns schema evolution adds.

Only type strings and column names come back to Python (`DISTINCT` over per-record shapes, or a
header); the data stays in the engine. JSON follows Spark's `JsonInferSchema` (see
variant_types); without `infer_column_types` every leaf is a STRING and objects and arrays keep
their structure (Databricks `cloudFiles.inferColumnTypes` false; Spark's `primitivesAsString`).
A malformed record adds the corrupt-record column, as Spark's inference does. CSV takes names
from the first file's header (duplicates get their position appended, empty names `_c<i>`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.connect.session import SparkSession
from pyspark.sql.types import (
    ArrayType,
    DataType,
    DoubleType,
    IntegerType,
    LongType,
    NullType,
    StringType,
    StructField,
    StructType,
)

from lakesmith.errors import LakesmithError
from lakesmith.sources.files.formats.csv_format import TOKENS, tokenized
from lakesmith.sources.files.formats.file_table import FILE_URI, INDEX, file_contents
from lakesmith.sources.files.formats.json_format import json_records
from lakesmith.sources.files.formats.lines import records_of
from lakesmith.sources.files.formats.native_json_shape import native_string_shape
from lakesmith.sources.files.formats.new_fields import object_keys, struct_paths
from lakesmith.sources.files.formats.records import RECORD
from lakesmith.sources.files.formats.spec import ReadSpec, corrupt_column, format_flag, normalize
from lakesmith.sources.files.formats.variant_types import finish, merge, parse_variant_type
from lakesmith.sources.files.inputs import InputFile


def infer_schema(spark: SparkSession, files: Sequence[InputFile], format: str,
                 options: Mapping[str, str], *, infer_column_types: bool, where: str
                 ) -> StructType:
    """The data columns of `files` (no partition, rescued or metadata columns)."""
    name, opts = normalize(format, options, where)
    if not files:
        raise LakesmithError(f"{where}: there are no files to infer a schema from.",
                             hint="give the schema, or add files to the source folder.")
    if name == "text":
        return StructType([StructField("value", StringType())])
    if name == "parquet":
        schema: StructType = spark.read.parquet(*[_path(f) for f in files]).schema
        return schema
    if name == "json":
        records = records_of(spark, files, [], whole=format_flag(opts, "multiline", False, where),
                             line_sep=opts.get("linesep"), where=where)
        return _infer_json(spark, files, records, opts, infer_column_types, where)
    return _infer_csv(file_contents(spark, files, [], where=where), opts, infer_column_types,
                      where)


def _path(file: InputFile) -> str:
    from lakesmith.engine.paths import engine_path

    return engine_path(file.location)


def _infer_json(spark: SparkSession, files: Sequence[InputFile], records,  # type: ignore[no-untyped-def]
                options: dict[str, str], infer_types: bool, where: str) -> StructType:
    spec = ReadSpec("json", options, StructType(), where=where)
    records = json_records(records, spec)
    primitives_as_string = format_flag(options, "primitivesasstring", not infer_types, where)
    if primitives_as_string:
        native = native_string_shape(spark, files, records, options)
        merged, malformed = (native, False) if native is not None else _string_shape(records, where)
    else:
        merged, malformed = _typed_shape(records, where)
    result = finish(merged, primitives_as_string=primitives_as_string)
    schema = result if isinstance(result, StructType) else StructType()
    if malformed:
        schema = StructType([*schema.fields, StructField(corrupt_column(options), StringType())])
        schema = StructType(sorted(schema.fields, key=lambda f: f.name))
    _refuse_case_duplicates(schema, where)
    return schema


def _typed_shape(records, where: str) -> tuple[DataType, bool]:  # type: ignore[no-untyped-def]
    """Each distinct record shape from the engine, merged here with Spark's JSON rules (numbers
    widen as Spark widens them, which the engine's own merge does not do); whether a record is
    malformed (or not an object, which Spark counts as malformed)."""
    parsed = _parsed(records)
    odd = F.when(F.expr("v IS NULL OR NOT o"), F.when(_nothing(), F.lit("nothing"))
                 .when(_unreadable(), F.concat(F.lit("unreadable "), F.col(FILE_URI)))
                 .otherwise(F.lit("malformed")))
    shapes = parsed.select(F.expr("schema_of_variant(v)").alias("s"), odd.alias("odd")) \
        .distinct().collect()
    merged: DataType = NullType()
    malformed = False
    for row in shapes:
        if row.odd is not None:
            if row.odd.startswith("unreadable "):
                _refuse_unreadable(row.odd.removeprefix("unreadable "), where)
            malformed = malformed or row.odd == "malformed"
            continue
        shape = parse_variant_type(row.s)
        merged = merge(merged, shape)
    return merged, malformed


# A record whose text starts with `{` after JSON's whitespace: once it parses, it is an object.
_OBJECT_TEXT = r"^[ \t\n\r]*\{"
_NOTHING_TEXT = r"^[ \t\n\r]*(null[ \t\n\r]*)?\z"


def _parsed(records: DataFrame) -> DataFrame:
    """Each record's VARIANT `v`, whether its text is an object's `o`, the record and its file."""
    return records.select(F.expr(f"try_parse_json({RECORD})").alias("v"),
                          F.col(RECORD).rlike(_OBJECT_TEXT).alias("o"), F.col(RECORD),
                          F.col(FILE_URI))


def _nothing() -> Column:
    """A record of JSON whitespace only, or `null`: nothing to Spark (NullType, discarded)."""
    return F.col(RECORD).rlike(_NOTHING_TEXT)


def _unreadable() -> Column:
    """An object the key scan reads but the VARIANT parser refuses: it repeats a key (or nests
    deeper than the parser goes). Spark refuses repeated keys; a VARIANT cannot hold them."""
    return F.expr("v IS NULL AND o") & F.json_object_keys(F.col(RECORD)).isNotNull()


def _refuse_unreadable(file: str, where: str) -> None:
    raise LakesmithError(
        f"{where}: a JSON record in {file} repeats a key within one object (or nests deeper "
        "than lakesmith can infer a schema from); Spark refuses repeated keys "
        "([COLUMN_ALREADY_EXISTS]).",
        hint="give the schema (.schema(...) or schemaHints), or fix the records.")


def _string_shape(records, where: str) -> tuple[DataType, bool]:  # type: ignore[no-untyped-def]
    """The records' merged shape, merged by the engine in one aggregate, for inference with
    every primitive as STRING (Auto Loader's default, Spark's `primitivesAsString`), when the
    engine's own inference cannot be vouched for (`native_json_shape`).

    The engine's `schema_of_variant_agg` merges objects field by field, arrays element by
    element and NULL into anything, as Spark's JSON inference does; where the two differ (a
    number with a string, a struct with a scalar, an array with a scalar: VARIANT in the
    engine, STRING or a wider number in Spark) every difference ends as STRING here, since all
    primitives become strings. It costs one pass, with no per-record shape strings: 15-35 % less
    CPU than the distinct shapes of `_typed_shape` (docs/benchmarks.md)."""
    # Only records that are not objects are looked at for the last two.
    row = _parsed(records).select(
        F.expr("schema_of_variant_agg(CASE WHEN o AND v IS NOT NULL THEN v END)").alias("s"),
        F.coalesce(F.bool_or(F.when(F.expr("v IS NULL OR NOT o"), ~_nothing())), F.lit(False))
        .alias("bad"), F.max(F.when(_unreadable(), F.col(FILE_URI))).alias("unreadable")) \
        .collect()[0]
    if row.unreadable is not None:
        _refuse_unreadable(row.unreadable, where)
    merged = NullType() if row.s is None else parse_variant_type(row.s)
    return merged, bool(row.bad)


def _refuse_case_duplicates(data_type: DataType, where: str, path: str = "") -> None:
    """Names that differ only by case, at any depth. Spark refuses them at the top level and in
    most nested cases ([COLUMN_ALREADY_EXISTS]); it keeps the first record's spelling when two
    structs have the same fields but for case, which depends on the order records merge in:
    lakesmith refuses those too rather than guess."""
    if isinstance(data_type, ArrayType):
        _refuse_case_duplicates(data_type.elementType, where, path)
        return
    if not isinstance(data_type, StructType):
        return
    seen: dict[str, str] = {}
    for f in data_type.fields:
        if f.name.lower() in seen:
            kind = "columns" if not path else f"fields of '{path}'"
            raise LakesmithError(
                f"{where}: the files have the {kind} '{seen[f.name.lower()]}' and '{f.name}', "
                "which differ only by case; Spark refuses them ([COLUMN_ALREADY_EXISTS]).",
                hint="give the schema, or rename the fields in the files.")
        seen[f.name.lower()] = f.name
        _refuse_case_duplicates(f.dataType, where, f"{path}.{f.name}" if path else f.name)


def csv_names(first_record: list[str | None] | None, header: bool) -> list[str]:
    """Spark's column names from the first record: header names, duplicates (without case)
    suffixed with their position, empty names `_c<position>`."""
    tokens = first_record or []
    if not header:
        return [f"_c{i}" for i in range(len(tokens))]
    lowered = [t.lower() if t else None for t in tokens]
    names = []
    for i, token in enumerate(tokens):
        if not token:
            names.append(f"_c{i}")
        elif lowered.count(token.lower()) > 1:
            names.append(f"{token}{i}")
        else:
            names.append(token)
    return names


def _infer_csv(contents, options: dict[str, str], infer_types: bool, where: str) -> StructType:  # type: ignore[no-untyped-def]
    rows = tokenized(contents, options, where)
    first = rows.where(F.col(INDEX) == 0).orderBy("__ls_position").limit(1) \
        .select(TOKENS).collect()
    header = format_flag(options, "header", False, where)
    names = csv_names(first[0][TOKENS] if first else None, header)
    if not format_flag(options, "inferschema", infer_types, where):
        return StructType([StructField(n, StringType()) for n in names])
    data = rows.where(F.col("__ls_position") > 0) if header else rows
    null_value = options.get("nullvalue", "")
    # Per token, whether it fits each type, as named columns first: the engine names an
    # aggregate by its expression and refuses two that print alike (its plan shows
    # `try_cast(t AS INT) IS NOT NULL` and the BIGINT one the same way).
    fits = []
    checks = []
    for i in range(len(names)):
        token = F.get(F.col(TOKENS), i)
        present = token.isNotNull() & (token != null_value)
        for kind, target in (("int", "int"), ("long", "bigint"), ("double", "double")):
            fits.append(F.when(present, token.try_cast(target).isNotNull() & token.rlike(
                r"^\s*[+-]?[0-9]" if kind != "double" else r"[0-9]")).alias(f"{kind}{i}"))
        fits.append(F.when(present, F.lower(token).isin("true", "false")).alias(f"bool{i}"))
        fits.append(present.cast("int").alias(f"any{i}"))
        checks += [F.coalesce(F.bool_and(f"{kind}{i}"), F.lit(True)).alias(f"{kind}{i}")
                   for kind in ("int", "long", "double", "bool")]
        checks.append(F.max(f"any{i}").alias(f"any{i}"))
    found = data.select(*fits).select(*checks).collect()[0] if names else None
    fields = []
    for i, name in enumerate(names):
        data_type: DataType = StringType()
        if found is not None and found[f"any{i}"]:
            if found[f"int{i}"]:
                data_type = IntegerType()
            elif found[f"long{i}"]:
                data_type = LongType()
            elif found[f"double{i}"]:
                data_type = DoubleType()
            elif found[f"bool{i}"]:
                from pyspark.sql.types import BooleanType

                data_type = BooleanType()
        fields.append(StructField(name, data_type))
    return StructType(fields)


def new_columns(spark: SparkSession, files: Sequence[InputFile], spec: ReadSpec) -> list[str]:
    """Names in the files that `spec.schema` lacks (exact spelling), sorted; for JSON also the
    fields of struct columns (`customer.tier`); a name that differs from a schema column only by
    case is not new (it is rescued)."""
    name, opts = normalize(spec.format, spec.options, spec.where)
    known = {f.name.lower() for f in spec.schema.fields}
    if name == "text":
        return []
    if name == "parquet":
        columns = spark.read.parquet(*[_path(f) for f in files]).columns
        return [c for c in columns if c.lower() not in known]
    if name == "json":
        lines = records_of(spark, files, [], whole=format_flag(opts, "multiline", False,
                                                                spec.where),
                           line_sep=opts.get("linesep"), where=spec.where)
        records = json_records(lines, ReadSpec("json", opts, StructType(), where=spec.where))
        return _new_json_fields(records, spec.schema)
    contents = file_contents(spark, files, [], where=spec.where)
    rows = tokenized(contents, opts, spec.where)
    firsts = rows.where(F.col("__ls_position") == 0).select(TOKENS).collect()
    header = format_flag(opts, "header", False, spec.where)
    names: list[str] = []
    for r in firsts:
        names += [n for n in csv_names(r[TOKENS], header) if n not in names]
    return [n for n in names if n.lower() not in known]


def _prefixed(label: str):  # type: ignore[no-untyped-def]
    # One parameter: `transform` passes the index as a second argument to a two-parameter lambda.
    return lambda key: F.concat(F.lit(label), key)


def _new_json_fields(records, schema: StructType) -> list[str]:  # type: ignore[no-untyped-def]
    """One engine query: the distinct keys of the records and of their struct values, as
    dotted paths, less those the schema has (compared without case, as Spark resolves them)."""
    key_lists = []
    for path, _ in struct_paths(schema):
        keys = object_keys(path, F.json_object_keys(F.col(RECORD)))
        label = "".join(p + "." for p in path)
        key_lists.append(F.transform(keys, _prefixed(label)) if label else keys)
    found = records.select(F.explode(F.concat(*key_lists)).alias("k")).distinct().collect()
    known = {".".join(p + (f.name,)).lower() for p, struct in struct_paths(schema)
             for f in struct.fields}
    return sorted(r.k for r in found if r.k.lower() not in known)
