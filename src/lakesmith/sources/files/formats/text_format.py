"""Text files: one row per line in a `value` column, or one per file with `wholetext`, from the
same line cutting as JSON (tests/golden/file_formats.json, `text_*`)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakesmith.sources.files.formats.records import RECORD, split_lines, whole_files
from lakesmith.sources.files.formats.spec import ReadSpec


def text_data(contents: DataFrame, spec: ReadSpec) -> tuple[DataFrame, list[Column]]:
    if spec.flag("wholetext"):
        records = whole_files(contents)
    else:
        records = split_lines(contents, spec.option("linesep"))
    names = [f.name for f in spec.schema.fields]
    if names != ["value"]:
        from lakesmith.errors import NotSupportedYet

        raise NotSupportedYet(f"{spec.where}: a text source has one column, `value STRING`; "
                              f"the schema asks for {', '.join(names) or 'no columns'}.")
    return records, [F.col(RECORD).alias("value")]
