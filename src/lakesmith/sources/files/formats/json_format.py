"""JSON files read with Spark's PERMISSIVE semantics and Databricks' rescued data column.

Sail's own JSON reader stops at the first malformed line and has no corrupt-record column, so
records are cut from the files' text (`records`) and parsed in the engine with `from_json`:

* a malformed record is kept as a row of NULL data columns; its text goes to the
  `columnNameOfCorruptRecord` column when the schema has one (Spark 4.3 PERMISSIVE);
* a value that does not parse as its column's type is NULL, the record's other fields are kept
  (Spark's partial results), and the whole record goes to the corrupt-record column;
* a line holding a JSON array gives one row per element, as in Spark;
* with a rescued data column (Databricks Auto Loader, following "What is the rescued data
  column?" in the Auto Loader schema docs, docs.databricks.com/ingestion/cloud-object-storage/
  auto-loader/schema), top-level fields not in the schema (names differing only by case
  included), values that do not parse as their column's type, and `_file_path` are collected as
  a JSON object of strings; the column is NULL when nothing was rescued. A rescued type mismatch
  does not make the record corrupt. Malformed records are not rescued (the docs name only
  unknown fields, type mismatches and case mismatches): they stay NULL rows, and their text
  reaches the corrupt-record column when the schema has one.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, FloatType, StringType, StructField, StructType

from lakesmith.engine.ddl import ddl_of, type_ddl
from lakesmith.sources.files.formats.convert import convert, parse_type
from lakesmith.sources.files.formats.file_table import FILE_URI
from lakesmith.sources.files.formats.nested_texts import (
    Record,
    Refusal,
    as_texts,
    field_value,
    has_string_leaves,
    marks_clash,
    may_rewrite_numbers,
    numbers_quoted,
    split_array,
    texts_type,
)
from lakesmith.sources.files.formats.new_fields import guard_keys
from lakesmith.sources.files.formats.records import RECORD, is_blank
from lakesmith.sources.files.formats.spec import ReadSpec, corrupt_column

PARSED = "__ls_json"
WHOLE = "__ls_json_whole"
RAW = "__ls_raw"
RAW_MAP = "map<string,string>"
FOUND = "__ls_found"
KEYS = "__ls_keys"
EXPLODED = "__ls_exploded"
VALID = "__ls_valid"
REPEATED = "__ls_repeated"  # a record's repeated top-level keys: their last values
SOURCE = "__ls_source"  # the record as written, before an array is split
ARRAY_TEXT = "__ls_array_text"  # a record that starts with `[`: the array's text
IN_ARRAY = "__ls_in_array"  # the row is an element of a line's array of objects
TEXTS = "__ls_texts"  # the fields with nested STRING leaves, parsed with numbers quoted


def json_records(records: DataFrame, spec: ReadSpec) -> DataFrame:
    """One row per JSON record from the files' records (`lines.records_of`: lines, or whole
    files for multiLine): blank lines skipped, a top-level array one record per element."""
    records = records.where(~is_blank(F.col(RECORD)))
    record = F.col(RECORD)
    # A top-level array holds one record per element; an unparsable one stays a (corrupt) record.
    # Only records that start with `[` are parsed as arrays (CASE branches run on their rows).
    exploded = F.when(F.ltrim(record).startswith("["), F.coalesce(
        F.from_json(record, "array<string>"), F.array(record))).otherwise(F.array(record))
    # `*` and `drop` keep the other columns without asking the engine what they are.
    return records.select("*", F.explode(exploded).alias(EXPLODED)).drop(RECORD) \
        .withColumnRenamed(EXPLODED, RECORD)


def json_read_records(records: DataFrame, where: str = "") -> DataFrame:
    """The rows a read gives for the files' records, as Spark's JSON reader gives them: blank
    lines skipped; a record whose first value is an array of objects gives one row per object
    (none for `[]`), each keeping the whole record as `SOURCE`, the text a corrupt-record column
    shows; an array holding anything else (a number, a string, `null`, an array) is one corrupt
    record, not one row per element (tests/golden/file_formats.json, `json_root_arrays`).
    Records that do not start with `[` are not looked at (CASE branches run on their rows), and
    a record starting with `{` (nearly all) is neither trimmed nor tested further.

    The expressions are kept small: the engine plans every batch's query again, and its
    planning time grows with the expressions (docs/benchmarks.md, branch `bronzejson`)."""
    record = F.col(RECORD)
    starts_object = record.startswith("{")
    records = records.where(starts_object | ~is_blank(record))
    # The array's text: the whole record when it parses as an array, else its first value
    # (text after the array is ignored, as in Spark), which the scan copies (as costly as a
    # parse for a multiLine file). NULL for a record that does not start with `[`.
    array_text = F.when(starts_object, F.lit(None).cast("string")).when(
        F.ltrim(record).startswith("["),
        F.when(F.from_json(record, "array<map<string,string>>").isNotNull(), record)
        .otherwise(first_value()))
    records = records.select("*", array_text.alias(ARRAY_TEXT))
    text = F.col(ARRAY_TEXT)
    objects = F.from_json(text, "array<map<string,string>>")  # NULL elements: not objects
    only_objects = F.coalesce(F.size(F.array_compact(objects)) == F.size(objects), F.lit(False))
    # The elements keep their numbers as written (`nested_texts.split_array`); objects and
    # arrays in their STRING fields are checked against the line (`nested_texts.Record`).
    in_array = text.isNotNull() & only_objects
    clash = F.raise_error(F.concat(
        F.lit(f"{where}: a JSON line in "), F.col(FILE_URI),
        F.lit(" holding an array of objects contains the escape \\u0001, which lakesmith "
              "uses to keep the elements' numbers as written; write the records one per line "
              "instead. Line: "), F.substring(record, 1, 200)))
    exploded = F.when(in_array & marks_clash(text), clash.cast("array<string>")) \
        .when(in_array, split_array(text)).otherwise(F.array(record))
    # `*` and `drop` keep the other columns without asking the engine what they are.
    return records.select("*", record.alias(SOURCE), in_array.alias(IN_ARRAY),
                          F.explode(exploded).alias(EXPLODED)) \
        .drop(RECORD, ARRAY_TEXT).withColumnRenamed(EXPLODED, RECORD)


def json_data_columns(records: DataFrame, spec: ReadSpec) -> tuple[DataFrame, list[Column]]:
    """`records` with the parse columns added, and the data columns (then the rescued column
    when asked) to select from it, in `spec.schema` order."""
    corrupt = corrupt_column(spec.options)
    fields = [f for f in spec.schema.fields if f.name != corrupt]
    has_corrupt = len(fields) != len(spec.schema.fields)
    # A top-level STRING column holds the value's text as written (Spark's `12.30`, `1e3`,
    # `{"k": [1, 2]}`); `from_json` would re-serialize it (`12.3`). `get_json_object` keeps the
    # text, and costs about half a typed parse.
    as_text = {f.name for f in fields if read_as_text(f)}
    typed = [f for f in fields if f.name not in as_text]
    # With a typed parse, the text columns ride along in it (the record is parsed anyway): its
    # value is the last of repeated keys, as Spark's, where `get_json_object` finds the first.
    parse_schema = StructType([StructField(f.name, parse_type(f.dataType)) for f in typed] + (
        [StructField(f.name, StringType()) for f in fields if f.name in as_text] if typed
        else []))
    need_raw = has_corrupt or spec.rescued_data_column is not None
    parsed = records
    all_null: Column | None = None
    if typed:
        ddl = ddl_of(parse_schema)
        parsed = parsed.withColumn(WHOLE, F.from_json(F.col(RECORD), ddl))
        # A record with text after its first value parses to all NULLs here (the engine finds
        # it malformed): only such records are parsed again, from their first value.
        all_null = F.lit(True)
        for f in typed:
            all_null = all_null & F.col(WHOLE)[f.name].isNull()
        parsed = parsed.withColumn(PARSED, F.when(all_null, F.from_json(first_value(), ddl))
                                   .otherwise(F.col(WHOLE)))
    # STRING leaves inside structs, arrays and maps keep their text as written
    # (`nested_texts.py`): a record holding a number the parse would write otherwise parses
    # those fields again with every number quoted (`TEXTS`).
    nested = {f.name for f in typed if has_string_leaves(f.dataType)}
    if nested and all_null is not None:
        texts_ddl = ddl_of(StructType([StructField(f.name, texts_type(f.dataType))
                                       for f in typed if f.name in nested]))
        source = F.when(all_null, first_value()).otherwise(F.col(RECORD))
        parsed = parsed.withColumn(TEXTS, F.when(
            may_rewrite_numbers(F.col(RECORD)), F.from_json(numbers_quoted(source), texts_ddl)))
    # Texts first: with every field a STRING, they tell which records need the keys looked at.
    text_names = {f.name: f"__ls_t{i}" for i, f in enumerate(fields) if f.name in as_text}
    parsed = parsed.select("*", *[text_as_written(name).alias(column)
                                  for name, column in text_names.items()])
    texts_found = None if typed or not text_names else \
        count_not_null([F.col(column) for column in text_names.values()])
    # The keys also carry the guard against fields the schema lacks (`new_fields.py`): with
    # one, every record's keys are scanned.
    need_keys = need_raw or spec.new_field_guard is not None
    parsed = with_validity(parsed, all_null, need_keys, spec, texts_found)
    has_keys = need_keys or all_null is None  # `with_validity` added KEYS
    parsed = refuse_single_quotes(parsed, VALID, spec)
    valid = F.col(VALID)
    if has_keys and not typed:
        parsed = parsed.withColumn(REPEATED, _last_values(texts_found))
    # Converted values are computed once, as columns of their own: used twice as expressions
    # (value and mismatch test), the engine would compute them twice.
    value_names = {f.name: f"__ls_v{i}" for i, f in enumerate(fields)}
    record_of = Record(F.col(RECORD), F.col(SOURCE), F.col(IN_ARRAY), _nested_refusal(spec))
    # A field's STRING leaves as parsed, a column of its own: every leaf reads it.
    texts_names = {f.name: f"__ls_x{i}" for i, f in enumerate(fields) if f.name in nested}
    parsed = parsed.select("*", *[
        F.when(F.col(TEXTS).isNotNull(), F.col(TEXTS)[f.name])
        .otherwise(as_texts(F.col(PARSED)[f.name], parse_type(f.dataType)))
        .alias(texts_names[f.name]) for f in fields if f.name in nested])
    parsed = parsed.select("*", *[(
        F.when(valid, _in_array_checked(_text_value(
            F.col(text_names[f.name]), f.name, bool(typed), has_keys), record_of, f.name))
        if f.name in as_text else F.when(valid, field_value(
            convert(F.col(PARSED)[f.name], f.dataType, spec.options),
            F.col(texts_names[f.name]), f.dataType, record_of, f.name,
            F.col(TEXTS).isNotNull()))
        if f.name in nested else F.when(valid, _with_special_floats(
            convert(F.col(PARSED)[f.name], f.dataType, spec.options), f)))
        .alias(value_names[f.name]) for f in fields])
    values = {f.name: F.col(value_names[f.name]) for f in fields}
    if need_raw:
        keys = F.col(KEYS)
        # The raw key/value map costs about as much as the typed parse itself, and almost every
        # record is clean: only a record with a key the schema lacks, or a field whose value did
        # not convert, gets it (the engine evaluates CASE branches only for matching rows).
        # Suspect: a key the schema lacks, or a field present whose value is NULL (a JSON null or
        # a value that did not convert), is a record with more keys than values. A value is
        # only ever found under its key, so a clean record has exactly as many; a repeated key
        # also counts, which only costs that record the raw map. No per-field key look-ups.
        suspect = F.size(keys) > count_not_null(list(values.values()))
        parsed = parsed.withColumn(
            RAW, F.when(keys.isNotNull() & suspect, _raw_texts()))
    raw = F.col(RAW)
    # A STRING read as text takes any JSON value (Spark's parser copies a number or an object
    # as its text), so only typed fields can hold a value that did not convert. (A text is
    # found under every key spelling the map finds, escapes and brackets included.)
    mismatch = {f.name: raw[f.name].isNotNull() & values[f.name].isNull() for f in fields
                if f.name not in as_text}
    if spec.rescued_data_column is not None:
        parsed = parsed.select("*", F.when(raw.isNotNull(), found_map(
            [f.name for f in fields], mismatch)).alias(FOUND))
    columns: list[Column] = []
    for f in spec.schema.fields:
        if f.name == corrupt:
            if not isinstance(f.dataType, StringType):
                from lakesmith.errors import NotSupportedYet

                raise NotSupportedYet(
                    f"{spec.where}: the corrupt record column '{corrupt}' must be a STRING, "
                    f"not {type_ddl(f.dataType)}.")
            bad = ~valid  # malformed, or not a JSON object
            if spec.rescued_data_column is None:
                for name in mismatch:
                    bad = bad | mismatch[name]
            columns.append(F.when(bad, F.col(SOURCE)).alias(corrupt))
        else:
            columns.append(values[f.name].alias(f.name))
    if spec.rescued_data_column is not None:
        found = F.col(FOUND)
        with_path = F.map_concat(found, F.create_map(F.lit("_file_path"), F.col(FILE_URI)))
        rescued = F.when(found.isNotNull() & (F.size(found) > 0), F.to_json(with_path))
        if not has_corrupt:
            # A malformed record keeps its text: without a corrupt-record column it would be a
            # row of NULLs, its data lost (a lakesmith choice; see docs/auto-loader.md).
            rescued = F.when(~valid, F.to_json(F.create_map(
                F.lit(corrupt), F.col(SOURCE), F.lit("_file_path"), F.col(FILE_URI)))) \
                .otherwise(rescued)
        columns.append(rescued.cast("string").alias(spec.rescued_data_column))
    return parsed, columns


def read_as_text(field: StructField) -> bool:
    """Whether a top-level field's value is read as its text as written (`text_as_written`): a
    STRING whose name a JSON path can spell."""
    return isinstance(field.dataType, StringType) and "'" not in field.name \
        and "\\" not in field.name


def text_as_written(name: str) -> Column:
    """The text of the record's top-level value under key `name` as written (the first, when
    the key repeats); NULL when the key is missing or holds a JSON null."""
    return F.get_json_object(F.col(RECORD), f"$['{name}']")


def first_value() -> Column:
    """The record's first JSON value, as written. Spark's parser reads a record's first value
    and ignores what follows it (`{"a": 1} {"a": 2}` is the row a=1, not a corrupt record);
    the engine's `from_json` finds such a record malformed (a row of NULLs), where its key
    scan (`json_object_keys`, `get_json_object`) stops after the first value as Spark does.
    The scan and copy cost about 10 % of a typed read, so only records that did not parse
    whole are parsed from it."""
    return F.get_json_object(F.col(RECORD), "$")


def _text_value(text: Column, name: str, parsed: bool, has_keys: bool) -> Column:
    """A top-level STRING field's value: its text as written (`text`, from `get_json_object`,
    a column of its own: a CASE would compute it in its test and again in its result), unless
    the record repeats the key, where Spark keeps the last value and `get_json_object` finds the
    first. Then the value comes from a parse (the engine's keeps the last): `PARSED`'s when the
    record was parsed with the field (`parsed`; where the two agree, which is every record
    without repeated keys or re-serialized numbers, nothing else is computed), else a parse of
    the record's first value as a map, only for records whose keys repeat (`KEYS`, which a read
    without a typed parse always has; `has_keys`: the read has it)."""
    if parsed:
        keys = F.col(KEYS) if has_keys else F.json_object_keys(F.col(RECORD))
        last = F.col(PARSED)[name]
        repeated = F.size(keys) - F.size(F.array_remove(keys, F.lit(name))) > 1
        return F.when(text.eqNullSafe(last), text).when(repeated, last).otherwise(text)
    repeated = F.col(REPEATED)
    return F.when(F.map_contains_key(repeated, F.lit(name)), repeated[name]).otherwise(text)


def _in_array_checked(text: Column, record: Record, name: str) -> Column:
    """A top-level STRING field's text, refused where it is an object or array in an element of
    a line's array that may not be as written (the engine re-serialized the element)."""
    bracketed = text.startswith("{") | text.startswith("[")
    # Nested CASEs: the line is searched only for such a value in such a row.
    return F.when(record.in_array, F.when(bracketed, F.when(
        record.unsure(text), record.refuse(name).cast("string")).otherwise(text))
        .otherwise(text)).otherwise(text)


def _raw_texts() -> Column:
    """The record's top-level values by key, each as written (what rescued data holds): the
    numbers quoted before the parse keep their text (`nested_texts.numbers_quoted`), and an
    object or array is looked up by its key (the parse re-serializes it). A key a JSON path
    cannot spell keeps the parsed text."""
    parsed = F.from_json(numbers_quoted(first_value()), RAW_MAP)
    keys = F.map_keys(parsed)

    def as_written(value: Column, index: Column) -> Column:
        # A path from a column: the engine looks up `$.` + key as the key itself, any key.
        path = F.concat(F.lit("$."), F.element_at(keys, index + 1))
        looked_up = F.call_function("get_json_object", first_value(), path)
        return F.when(value.startswith("{") | value.startswith("["),
                      F.coalesce(looked_up, value)).otherwise(value)

    as_written_values = F.transform(F.map_values(parsed), as_written)
    return F.map_from_arrays(keys, as_written_values)


def _nested_refusal(spec: ReadSpec) -> Refusal:
    """How a read refuses a record whose nested STRING leaf's text it cannot give as written
    (`nested_texts.py`): an error naming the source, the file, the field and the record."""
    def refuse(name: str) -> Column:
        return F.raise_error(F.concat(
            F.lit(f"{spec.where}: a JSON record in "), F.col(FILE_URI),
            F.lit(f" holds an object or array in the STRING field {name} inside an array or a "
                  "map, or in a line holding an array of objects; Spark reads it as its text as "
                  "written, which lakesmith cannot give there yet. Declare the field's type as "
                  "the value's structure (a schema or schema hints), or read the enclosing "
                  "top-level field as a STRING. Record: "),
            F.substring(F.col(SOURCE), 1, 200)))
    return refuse


def count_not_null(values: list[Column]) -> Column:
    """How many of `values` are not NULL."""
    count = F.lit(0)
    for value in values:
        count = count + value.isNotNull().cast("int")
    return count


def _last_values(texts_found: Column | None) -> Column:
    """For a record that repeats a top-level key, the last value of each key it repeats (the
    engine's parse of the record's first value as a map keeps the last), by key; NULL for every
    other record. A column of its own, computed once per record rather than in each field's
    value: six `array_distinct` per record cost the medallion's bronze batch about a quarter of
    its read, and six copies of the parse and the key counts made its plan slower to plan (the
    engine plans every batch's query again). A record whose keys are as many as the STRING
    texts found (`texts_found`) repeats none: each text was found under its own key."""
    keys = F.col(KEYS)
    repeats = F.size(keys) > F.size(F.array_distinct(keys))
    if texts_found is not None:
        repeats = F.when(F.size(keys) == texts_found, F.lit(False)).otherwise(repeats)
    return F.when(repeats, F.map_filter(
        F.from_json(first_value(), RAW_MAP),
        lambda k, _v: F.size(keys) - F.size(F.array_remove(keys, k)) > 1))


def with_validity(records: DataFrame, all_null: Column | None, need_keys: bool,
                  spec: ReadSpec, texts_found: Column | None = None) -> DataFrame:
    """`records` with `VALID`: whether the record is a JSON object (its first value, as Spark
    reads it), and `KEYS`, its top-level keys, when `need_keys` (rescued data and the corrupt
    record column compare them with the schema). `texts_found`, when every field is a STRING
    read as text: how many of them the record holds. A record with exactly that many keys holds
    only the schema's names (each text was found under its own key), so the new-field guard
    does not compare its top-level keys: almost every record of a batch.

    The typed parse cannot tell a malformed record from an object without the schema's fields
    (the engine's `from_json` gives a struct of NULLs for both), so the key scan
    (`json_object_keys`) decides. Without `need_keys` it runs only where it can change the
    answer: a record whose typed parse (`all_null` false) found a value is an object the engine
    parsed whole, which the key scan also reads as an object (it is the laxer parser: it stops
    after the first value). That skips the scan for almost every record: about 10 % of a read
    (docs/benchmarks.md)."""
    keys = F.json_object_keys(F.col(RECORD))
    if need_keys or all_null is None:
        # The new-field guard rides on the keys (`new_fields.py`), which every value depends on.
        records = records.withColumn(KEYS, keys)
        settled = None if texts_found is None else F.size(F.col(KEYS)) == texts_found
        records = records.withColumn(KEYS, guard_keys(F.col(KEYS), spec, settled))
        return records.withColumn(VALID, F.col(KEYS).isNotNull())
    return records.withColumn(VALID, F.when(all_null, keys.isNotNull()).otherwise(F.lit(True)))


def refuse_single_quotes(parsed: DataFrame, valid_column: str, spec: ReadSpec) -> DataFrame:
    """Spark reads `{'a': 1}` (allowSingleQuotes is on by default); the engine's parser finds
    it malformed. Rather than give NULLs where Spark gives values, such a record fails the read,
    naming its file. The check guards `valid_column` (whether the record is an object), which
    every value column depends on, so that it cannot be pruned."""
    column = F.col(valid_column)
    single_quoted = ~column & F.col(RECORD).rlike(r"^\s*[\[{]\s*'")
    message = F.concat(
        F.lit(f"{spec.where}: a JSON record in "), F.col(FILE_URI),
        F.lit(" uses single quotes, which Spark reads (allowSingleQuotes) and lakesmith cannot "
              "yet; convert the file to standard JSON (double quotes). Record: "),
        F.substring(F.col(RECORD), 1, 200))
    return parsed.withColumn(valid_column, F.when(
        single_quoted, F.raise_error(message).cast("boolean")).otherwise(column))


# Strings Spark reads as a DOUBLE or FLOAT (JacksonParser, allowNonNumericNumbers).
_SPECIAL_FLOATS = {"NaN": "NaN", "Infinity": "Infinity", "+Infinity": "Infinity",
                   "+INF": "Infinity", "-Infinity": "-Infinity", "-INF": "-Infinity"}


def _with_special_floats(value: Column, field: StructField) -> Column:
    """A DOUBLE/FLOAT field given as the string "NaN", "Infinity", ... holds that value, as in
    Spark (`from_json` gives NULL); only records where the value came out NULL are looked at."""
    if not isinstance(field.dataType, (DoubleType, FloatType)) or "'" in field.name \
            or "\\" in field.name:
        return value
    text = F.get_json_object(F.col(RECORD), f"$['{field.name}']")
    special = F.lit(None).cast(type_ddl(field.dataType))
    for written, meaning in _SPECIAL_FLOATS.items():
        special = F.when(text == written, F.lit(meaning).cast(type_ddl(field.dataType))) \
            .otherwise(special)
    return F.when(value.isNull(), special).otherwise(value)


def found_map(names: list[str], mismatch: dict[str, Column]) -> Column:
    """What a record's rescued data holds: fields not in `names` and the values `mismatch`
    finds (per field that can mismatch), raw text."""
    raw = F.col(RAW)
    known = F.array(*[F.lit(n) for n in names]) if names else F.array().cast("array<string>")
    unknown = F.map_filter(raw, lambda k, _v: ~F.array_contains(known, k))
    if not mismatch:
        return unknown
    wrong = F.map_filter(
        F.map_from_arrays(F.array(*[F.lit(n) for n in mismatch]),
                          F.array(*[F.when(mismatch[n], raw[n]) for n in mismatch])),
        lambda _k, v: v.isNotNull())
    return F.map_concat(unknown, wrong)
