"""JSON lines of plain records, read the short way, or not at all.

Spark's PERMISSIVE reading of JSON (`json_format.py`: blank lines, top-level arrays, malformed
records, repeated keys, rescued data, the new-field guard) is a plan of about twenty projections.
The engine plans every batch's query anew, and that plan takes it ~0.03 s to plan and about half
again the CPU of reading each value (docs/benchmarks.md, branch `bronzefast`). Yet nearly every
landing record is plain: one JSON object on its line, each key once, every key a field of the
schema. For a plain record the full read gives each STRING field's text as written
(`text_as_written`), nothing rescued and no guard fired, whatever else the schema asks.

So a streaming batch whose schema is all STRING fields (what Auto Loader infers for JSON) is read
plainly: each field's text, and one test per record that it is plain. The first record that is
not (an array, a malformed line, a repeated key, a key the schema lacks when rescued data or the
guard would see it) fails the read with the source's tag (`PlainRecords`). Nothing of the batch
is committed: the source reads it again the full way (`FileStreamSource.read_again_after`), as
it does every later batch of the update. A plain read therefore never answers differently from
the full one; it only answers sooner (tests/sources/files/test_plain_json.py).

Every value column, and the rescued data column, depends on the test, so a query reading any of
them runs it; blank lines are skipped and any other line that does not start with `{` fails the
read in a filter, so even a query reading no data column gets the full read's rows.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakesmith.sources.files.formats.file_table import FILE_URI
from lakesmith.sources.files.formats.json_format import (
    KEYS,
    count_not_null,
    read_as_text,
    text_as_written,
)
from lakesmith.sources.files.formats.records import RECORD, is_blank
from lakesmith.sources.files.formats.spec import ReadSpec, corrupt_column

PLAIN = "__ls_plain"


def reads_plainly(spec: ReadSpec) -> bool:
    """Whether `spec` (normalized) asks for a plain read and its records can have one: JSON
    lines, every column a STRING read as text, none of them the corrupt-record column."""
    if spec.plain_records is None or spec.format != "json" or spec.flag("multiline") \
            or not spec.schema.fields:
        return False
    corrupt = corrupt_column(spec.options)
    return all(read_as_text(f) and f.name != corrupt for f in spec.schema.fields)


def plain_json_columns(records: DataFrame, spec: ReadSpec) -> tuple[DataFrame, list[Column]]:
    """`records` (one row per line, `lines.records_of`) with each field's text and the plain
    test added, and the data columns (then the rescued column when asked) to select from it:
    the full read's columns (`json_format.json_data_columns`), for a batch of plain records."""
    assert spec.plain_records is not None
    record = F.col(RECORD)
    stop = F.raise_error(F.concat(
        F.lit(f"{spec.plain_records.error_prefix} {spec.where}: a record in "), F.col(FILE_URI),
        F.lit(" is not a plain JSON object of the schema's fields; the batch is read again "
              "with Spark's full semantics.")))
    # As the full read: blank lines are no records. Any other line not starting with `{` (an
    # array, a scalar, text, leading blanks) is not plain.
    records = records.where(F.when(record.startswith("{"), F.lit(True))
                            .when(is_blank(record), F.lit(False))
                            .otherwise(stop.cast("boolean")))
    names = [f.name for f in spec.schema.fields]
    texts = {name: f"__ls_t{i}" for i, name in enumerate(names)}
    records = records.select("*", *[text_as_written(name).alias(column)
                                    for name, column in texts.items()],
                             F.json_object_keys(record).alias(KEYS))
    records = records.select("*", F.when(_is_plain(spec, [F.col(c) for c in texts.values()]),
                                         F.lit(True)).otherwise(stop.cast("boolean")).alias(PLAIN))
    plain = F.col(PLAIN)
    columns = [F.when(plain, F.col(texts[name])).alias(name) for name in names]
    if spec.rescued_data_column is not None:
        columns.append(F.when(plain, F.lit(None).cast("string")).alias(spec.rescued_data_column))
    return records, columns


def _is_plain(spec: ReadSpec, texts: list[Column]) -> Column:
    """Whether the record is an object (its keys scanned, as the full read decides it) whose
    keys are the schema's, each once: then each field's first text is its only one, and the
    full read rescues nothing and its guard does not fire. A record with as many keys as texts
    found is one (each text is found under its own key); only the others (a JSON null value, a
    missing field beside an unknown one, a repeated key) are compared key by key. Keys the
    schema lacks only matter where rescued data or a top-level guard would see them."""
    keys = F.col(KEYS)
    once = F.size(keys) == F.size(F.array_distinct(keys))
    guard = spec.new_field_guard
    if spec.rescued_data_column is not None or (guard is not None and not guard.nested_only):
        names = F.array(*[F.lit(f.name) for f in spec.schema.fields]).cast("array<string>")
        once = once & (F.size(F.array_except(keys, names)) == 0)
    return keys.isNotNull() & F.when(F.size(keys) == count_not_null(texts), F.lit(True)) \
        .otherwise(once)
