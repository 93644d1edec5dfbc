"""A cheaper route to the shape Spark infers from JSON lines when every primitive is a STRING:
the engine's own JSON inference over every record, checked in one cheap pass.

The exact route (`inference._string_shape`) parses every record into a VARIANT, which costs
about twice the engine's own inference (arrow-json's `infer_json_schema` over every line,
`schemaInferMaxRecords`). With every primitive a STRING only the structure must match Spark's:
which fields are objects, arrays, or scalars. The engine's inference *errors* where Spark
would give STRING for an object against a scalar or an array, an array of mixed elements, a
malformed line, a scalar or `null` or array record, text after a record's value, and types
that differ between files; lakesmith then takes the exact route. Where it answers without an
error, it differs from Spark in a few ways, each checked here, and any hit takes the exact
route too:

* a scalar against an array in the same field: Spark gives STRING, the engine an array of
  scalars. Checked for every array-of-scalars field outside arrays, with `get_json_object`
  (an empty string is NULL to Spark and passes); such a field inside an array, or an array of
  arrays of scalars, cannot be checked cheaply: exact route;
* lines: the engine cuts at `\\n` and trims Unicode whitespace; Spark also cuts at a lone `\\r`
  and reads a line that starts with other Unicode whitespace as malformed. Every record must be
  a JSON object to the key scan (`json_object_keys`, which accepts only JSON's whitespace);
* a key twice in one object: Spark refuses ([COLUMN_ALREADY_EXISTS]), the engine keeps the last
  value. Checked at the top level and in struct fields outside arrays (the key scan lists
  repeated keys). Objects inside arrays cannot be checked cheaply (no engine function lists an
  array element's keys without merging repeated ones): a shape with one takes the exact route.

Only the merged types come back to Python; the data stays in the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.connect.session import SparkSession
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DoubleType,
    LongType,
    NullType,
    StringType,
    StructField,
    StructType,
)

from lakesmith.engine.parallelism import local_cores
from lakesmith.sources.files.formats.records import RECORD
from lakesmith.sources.files.formats.variant_types import merge
from lakesmith.sources.files.inputs import InputFile

# File name endings the engine reads as compressed (its listing picks the codec by extension);
# lakesmith's records read such files' bytes as they are, so the two would see other records.
_COMPRESSED = (".gz", ".gzip", ".bz2", ".xz", ".zst", ".zstd", ".deflate", ".lz4", ".snappy",
               ".br", ".zip")
_SCALARS = (LongType, DoubleType, StringType, BooleanType)


def native_string_shape(spark: SparkSession, files: Sequence[InputFile], records: DataFrame,
                        options: dict[str, str]) -> DataType | None:
    """The merged shape (leaves STRING, all-NULL leaves NULL) of `records`, the JSON records of
    `files`, from the engine's own inference; None when this route cannot vouch for Spark's
    answer (the caller takes the exact route)."""
    if not _eligible(files, options):
        return None
    # The first 1000 records' shape says early (in milliseconds) whether the whole shape could
    # be checked: most JSON with an object inside an array has one there. (The limit is given:
    # the engine's default sample took seconds on a 20 MB file.)
    sample = _group_shape(spark, files[:1], max_records=1000)
    if sample is not None and not _checkable(sample):
        return None
    candidate = _engine_inference(spark, files)
    if candidate is None or not _checkable(candidate):
        return None
    return candidate if _checks_pass(records, candidate) else None


def _eligible(files: Sequence[InputFile], options: dict[str, str]) -> bool:
    """JSON lines with Spark's line separators, uncompressed: the records the engine's
    inference reads are then the lines lakesmith reads."""
    if options.get("multiline", "false").strip().lower() != "false" or options.get("linesep"):
        return False
    return bool(files) and not any(
        f.location.uri.lower().endswith(_COMPRESSED) for f in files)


def _engine_inference(spark: SparkSession, files: Sequence[InputFile]) -> DataType | None:
    """The engine's inference over every record of every file, as a shape; None when it
    refuses the records (any of the cases where it differs from Spark by an error).

    The engine infers on one thread per read; on a local engine with several cores, large
    inputs are split by size into one read per core, each on a session of its own (requests
    of one client are not shared between threads), and the shapes merged here with Spark's
    rules: a type that differs between two reads (BIGINT and DOUBLE) is Spark's answer here,
    where one read over both files refuses it."""
    groups = _groups(files, local_cores(spark) or 1)
    if len(groups) == 1:
        return _group_shape(spark, groups[0])
    endpoint = getattr(spark.client._builder, "endpoint", None)
    if not isinstance(endpoint, str):
        return _group_shape(spark, files)
    sessions = [spark] + [SparkSession.builder.remote(f"sc://{endpoint}").create()
                          for _ in groups[1:]]
    try:
        with ThreadPoolExecutor(max_workers=len(groups)) as pool:
            shapes = list(pool.map(_group_shape, sessions, groups))
    finally:
        for extra in sessions[1:]:
            extra.stop()
    if any(shape is None for shape in shapes):
        return None
    result: DataType = NullType()
    for shape in shapes:
        assert shape is not None
        result = merge(result, shape)
    return result


# Below this many bytes one read infers faster than several (each read lists and opens files).
_SPLIT_BYTES = 16 * 1024 * 1024


def _groups(files: Sequence[InputFile], cores: int) -> list[list[InputFile]]:
    """`files` in at most `cores` consecutive groups of about equal size."""
    total = sum(f.size for f in files)
    count = min(cores, len(files)) if total >= _SPLIT_BYTES else 1
    groups: list[list[InputFile]] = [[] for _ in range(count)]
    done = 0
    for f in files:
        middle = done + f.size // 2  # a file goes with the group its middle byte falls in
        groups[min(count - 1, middle * count // max(total, 1))].append(f)
        done += f.size
    return [g for g in groups if g]


def _group_shape(spark: SparkSession, files: Sequence[InputFile],
                 max_records: int = 2**62) -> DataType | None:
    """The engine's inference over the first `max_records` records of `files` (every record by
    default), as a shape."""
    from lakesmith.engine.paths import engine_path

    paths = [engine_path(f.location) for f in files]
    try:
        schema = spark.read.option("schemaInferMaxRecords", max_records).json(paths).schema
    except PySparkException:
        return None
    return _shape(schema)


def _shape(data_type: DataType) -> DataType | None:
    """The engine's type with every scalar as STRING; None for a type it should not give."""
    if isinstance(data_type, StructType):
        fields = []
        for f in data_type.fields:
            inner = _shape(f.dataType)
            if inner is None:
                return None
            fields.append(StructField(f.name, inner))
        return StructType(fields)
    if isinstance(data_type, ArrayType):
        element = _shape(data_type.elementType)
        return None if element is None else ArrayType(element)
    if isinstance(data_type, NullType):
        return NullType()
    if isinstance(data_type, _SCALARS):
        return StringType()
    return None


def _leaf(data_type: DataType) -> DataType:
    while isinstance(data_type, ArrayType):
        data_type = data_type.elementType
    return data_type


def _is_scalar(data_type: DataType) -> bool:
    return isinstance(data_type, (StringType, NullType))


def _checkable(shape: DataType, inside_array: bool = False) -> bool:
    """Whether every difference the engine's answer can hide is checkable: no array of arrays
    of scalars, no array of scalars inside an array, no object inside an array (its repeated
    keys), no field name `get_json_object` cannot address."""
    if isinstance(shape, StructType):
        if inside_array:
            return False
        return all(_addressable(f.name)
                   and _checkable(f.dataType, inside_array) for f in shape.fields)
    if isinstance(shape, ArrayType):
        if _is_scalar(_leaf(shape)) and (inside_array or isinstance(shape.elementType,
                                                                    ArrayType)):
            return False
        return _checkable(shape.elementType, True)
    return True


def _addressable(name: str) -> bool:
    return "'" not in name and "\\" not in name


def _json_path(path: tuple[str, ...]) -> str:
    return "$" + "".join(f"['{p}']" for p in path)


def _repeats(keys: Column) -> Column:
    return F.size(keys) != F.size(F.array_distinct(keys))


def _struct_paths(shape: StructType, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The struct fields outside arrays, with their paths."""
    found: list[tuple[str, ...]] = []
    for f in shape.fields:
        if isinstance(f.dataType, StructType):
            found += [(*path, f.name), *_struct_paths(f.dataType, (*path, f.name))]
    return found


def _scalar_array_paths(shape: StructType, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The arrays of scalars outside arrays, with their paths."""
    found: list[tuple[str, ...]] = []
    for f in shape.fields:
        if isinstance(f.dataType, StructType):
            found += _scalar_array_paths(f.dataType, (*path, f.name))
        elif isinstance(f.dataType, ArrayType) and _is_scalar(f.dataType.elementType):
            found.append((*path, f.name))
    return found


def _checks_pass(records: DataFrame, shape: DataType) -> bool:
    """One pass: every record an object to the key scan, no repeated key, no scalar where the
    engine found an array. Each key list is computed once, as a column of its own (used in
    two tests as an expression, the engine would scan the record twice)."""
    if not isinstance(shape, StructType):
        return False
    record = F.col(RECORD)
    key_lists = [F.json_object_keys(record).alias("k0")] + [
        F.json_object_keys(F.get_json_object(record, _json_path(p))).alias(f"k{i + 1}")
        for i, p in enumerate(_struct_paths(shape))]
    keys = records.select(record, *key_lists)
    problem = F.col("k0").isNull() | _repeats(F.col("k0"))
    for i in range(1, len(key_lists)):
        problem = problem | (F.col(f"k{i}").isNotNull() & _repeats(F.col(f"k{i}")))
    for p in _scalar_array_paths(shape):
        text = F.get_json_object(record, _json_path(p))
        # The value's text starts with `[` for an array; a string's text is its content, so a
        # record with a string that starts with `[` (or an escape) is not vouched for. An empty
        # string is NULL to Spark's inference, which merges it into the array.
        ambiguous = (F.instr(record, '"[') > 0) | (F.instr(record, '"\\u005') > 0)
        problem = problem | (text.isNotNull() & (text != "")
                             & (~text.startswith("[") | ambiguous))
    row = keys.select(F.coalesce(F.bool_or(problem), F.lit(False)).alias("bad")).collect()[0]
    return not row.bad
