"""CSV files read with Spark's PERMISSIVE semantics.

Records and fields are cut by `csv_tokens` inside the engine (`mapInArrow` over the files'
text, one Arrow batch per group of files, so no table data comes back to the client); types,
`nullValue`, `dateFormat`/`timestampFormat` and the corrupt-record rules are engine expressions:

* with `header`, each file's first record is its header and is not data (Spark 4.3);
* a record with fewer fields than the schema gets NULLs, one with more loses the extra ones,
  and both are corrupt records; so is a record with a value that does not parse as its column's
  type (that value is NULL, the others are kept) — all as recorded from Spark 4.3;
* with a rescued data column (Databricks), a mismatched value and the extra fields go to it
  instead, named by the header when there is one, as `_c<position>` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField

from lakesmith.errors import NotSupportedYet
from lakesmith.sources.files.formats import csv_tokens
from lakesmith.sources.files.formats.convert import textual
from lakesmith.sources.files.formats.file_table import CONTENT, FILE_URI, INDEX
from lakesmith.sources.files.formats.spec import ReadSpec, corrupt_column

TOKENS = "__ls_tokens"
RAW_RECORD = "__ls_record"
POSITION = "__ls_position"
HEADER = "__ls_header"


def dialect(options: dict[str, str] | ReadSpec, where: str) -> dict[str, object]:
    opts = options.options if isinstance(options, ReadSpec) else options
    sep = opts.get("sep", opts.get("delimiter", ","))
    if sep == "\\t":
        sep = "\t"
    for name in ("linesep",):
        if name in opts:
            raise NotSupportedYet(f"{where}: the CSV option '{name}' is not supported yet.",
                                  hint="remove it; records end at \\n, \\r\\n or \\r.")
    for name in ("ignoreleadingwhitespace", "ignoretrailingwhitespace"):
        if opts.get(name, "false").lower() == "true":
            raise NotSupportedYet(f"{where}: the CSV option '{name}' is not supported yet.")
    if sep == "":
        raise NotSupportedYet(f"{where}: the CSV separator cannot be empty.")
    return {"sep": sep, "quote": opts.get("quote", '"'), "escape": opts.get("escape", "\\"),
            "multiline": opts.get("multiline", "false").lower() == "true",
            "comment": opts.get("comment") or None}


def tokenized(contents: DataFrame, options: dict[str, str] | ReadSpec, where: str) -> DataFrame:
    """One row per record: the file columns, `POSITION` (0-based, header included), the raw
    record text and its fields.

    A file without the quote character anywhere (most machine-written CSV) is cut by the engine
    itself: lines, then fields at the separator, an empty field NULL, exactly as the tokenizer
    would cut it and about a hundred times faster. Other files go through the tokenizer."""
    settings = dialect(options, where)
    if settings["multiline"]:
        return _python_tokenized(contents, settings)
    quote = str(settings["quote"])
    simple = ~F.col(CONTENT).contains(quote) if quote else F.lit(True)
    fast = _engine_tokenized(contents.where(simple), settings)
    slow = _python_tokenized(contents.where(~simple), settings)
    return fast.unionByName(slow)


def _engine_tokenized(contents: DataFrame, settings: dict[str, object]) -> DataFrame:
    import re

    from pyspark.sql.window import Window

    from lakesmith.sources.files.formats.records import LINE, RECORD, split_lines

    lines = split_lines(contents, None).where(F.col(RECORD) != "")
    comment = settings["comment"]
    if comment:
        lines = lines.where(~F.col(RECORD).startswith(str(comment)))
    keep = [c for c in contents.columns if c != CONTENT]
    position = F.row_number().over(Window.partitionBy(INDEX).orderBy(LINE)) - 1
    fields = F.split(F.col(RECORD), re.escape(str(settings["sep"])), -1)
    return lines.select(
        *[F.col(c) for c in keep], position.cast("int").alias(POSITION),
        F.col(RECORD).alias(RAW_RECORD),
        F.transform(fields, lambda x: F.when(x == "", F.lit(None)).otherwise(x)).alias(TOKENS))


def _python_tokenized(contents: DataFrame, settings: dict[str, object]) -> DataFrame:
    keep = [c for c in contents.columns if c != CONTENT]
    schema = contents.select(*keep).schema
    out_fields = [*schema.fields]

    def cut(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            table = batch.to_pydict()
            out: dict[str, list[object]] = {c: [] for c in keep}
            out.update({POSITION: [], RAW_RECORD: [], TOKENS: []})
            for row in range(batch.num_rows):
                text = table[CONTENT][row]
                for position, (raw, fields) in enumerate(
                        csv_tokens.records(text, **settings)):  # type: ignore[arg-type]
                    for c in keep:
                        out[c].append(table[c][row])
                    out[POSITION].append(position)
                    out[RAW_RECORD].append(raw)
                    out[TOKENS].append(fields)
            yield pa.RecordBatch.from_pydict(out)

    ddl = ", ".join([f"`{f.name}` {f.dataType.simpleString()}" for f in out_fields]
                    + [f"{POSITION} INT", f"{RAW_RECORD} STRING", f"{TOKENS} ARRAY<STRING>"])
    return contents.mapInArrow(cut, ddl)


def csv_data(contents: DataFrame, spec: ReadSpec) -> tuple[DataFrame, list[Column]]:
    """The data rows and the columns to select: data columns in schema order, then rescued."""
    rows = tokenized(contents, spec, spec.where)
    header = spec.flag("header")
    if header:
        # Each file's first record, beside its others. A join of the records with their own
        # first ones would make the engine cut every file twice (it does not share the plan).
        from pyspark.sql.window import Window

        first = Window.partitionBy(INDEX).orderBy(POSITION)
        rows = rows.withColumn(HEADER, F.first(TOKENS).over(first)) \
            .where(F.col(POSITION) > 0)
    corrupt = corrupt_column(spec.options)
    fields = [f for f in spec.schema.fields if f.name != corrupt]
    tokens = F.col(TOKENS)
    null_value = spec.options.get("nullvalue")
    empty_value = spec.options.get("emptyvalue")
    values: dict[str, Column] = {}
    mismatch: dict[str, Column] = {}
    for i, f in enumerate(fields):
        token = F.get(tokens, i)
        if null_value:
            token = F.when(token == null_value, F.lit(None)).otherwise(token)
        if empty_value is not None:
            token = F.when(token == "", F.lit(empty_value)).otherwise(token)
        value = token if isinstance(f.dataType, StringType) else textual(f.dataType, spec.options)(token)
        values[f.name] = value
        mismatch[f.name] = token.isNotNull() & value.isNull()
    ragged = F.size(tokens) != len(fields)
    columns: list[Column] = []
    for f in spec.schema.fields:
        if f.name == corrupt:
            bad = ragged if spec.rescued_data_column is None else F.size(tokens) < len(fields)
            if spec.rescued_data_column is None:
                for m in mismatch.values():
                    bad = bad | m
            columns.append(F.when(bad, F.col(RAW_RECORD)).alias(corrupt))
        else:
            columns.append(values[f.name].alias(f.name))
    if spec.rescued_data_column is not None:
        columns.append(_rescued(fields, tokens, mismatch, header).alias(spec.rescued_data_column))
    return rows, columns


def _rescued(fields: list[StructField], tokens: Column, mismatch: dict[str, Column], header: bool) -> Column:
    n = len(fields)
    names = [F.lit(f.name) for f in fields]
    wrong = F.map_filter(F.map_from_arrays(
        F.array(*names), F.array(*[F.when(mismatch[f.name], F.get(tokens, i))
                                   for i, f in enumerate(fields)])),
        lambda _k, v: v.isNotNull()) if fields else F.create_map().cast("map<string,string>")
    extra_values = F.slice(tokens, n + 1, F.greatest(F.size(tokens) - n, F.lit(0)))
    positions = F.sequence(F.lit(n), F.greatest(F.size(tokens) - 1, F.lit(n)))
    default_names = F.transform(positions, lambda p: F.concat(F.lit("_c"), p.cast("string")))
    extra_names = default_names
    if header:
        extra_names = F.transform(positions, lambda p: F.coalesce(
            F.get(F.col(HEADER), p), F.concat(F.lit("_c"), p.cast("string"))))
    extra_names = F.slice(extra_names, 1, F.size(extra_values))
    extra = F.map_from_arrays(extra_names, extra_values)
    found = F.map_concat(wrong, extra)
    with_path = F.map_concat(found, F.create_map(F.lit("_file_path"), F.col(FILE_URI)))
    return F.when(F.size(found) > 0, F.to_json(with_path)).otherwise(F.lit(None).cast("string"))
