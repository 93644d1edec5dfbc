"""Text files: one row per line in a `value` column, or one per file with `wholetext`, from the
same line cutting as JSON (tests/golden/file_formats.json, `text_*`)."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakesmith.sources.files.formats.records import RECORD
from lakesmith.sources.files.formats.spec import ReadSpec


def text_data(records: DataFrame, spec: ReadSpec) -> tuple[DataFrame, list[Column]]:
    """`records` from `lines.records_of` (lines, or whole files with `wholetext`)."""
    names = [f.name for f in spec.schema.fields]
    if names != ["value"]:
        from lakesmith.errors import NotSupportedYet

        raise NotSupportedYet(f"{spec.where}: a text source has one column, `value STRING`; "
                              f"the schema asks for {', '.join(names) or 'no columns'}.")
    return records, [F.col(RECORD).alias("value")]
