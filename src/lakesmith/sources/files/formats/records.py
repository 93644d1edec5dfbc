"""Files' text cut into records: lines for JSON lines, CSV without multiLine and text; the
whole file for multiLine JSON and `wholetext`.

Spark's line reader ends a line at `\n`, `\r\n` or `\r` unless `lineSep` names the separator; a
separator at the very end of a file does not start another (empty) line
(tests/golden/file_formats.json, `text_lines`).
"""

from __future__ import annotations

import re

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from lakesmith.sources.files.formats.file_table import CONTENT

RECORD = "__ls_record"
LINE = "__ls_line"  # 0-based position of the record in its file


def line_separator_pattern(line_sep: str | None) -> str:
    """The regular expression the engine splits a file's text with."""
    if line_sep is None or line_sep == "":
        return "\r\n|\r|\n"
    return re.escape(line_sep)


def split_lines(contents: DataFrame, line_sep: str | None) -> DataFrame:
    """One row per line: every column of `contents` but the text, `LINE` and `RECORD`."""
    pattern = line_separator_pattern(line_sep)
    # A separator at the end of the text does not begin a last, empty line.
    # (`\z`: the end of the text, for Java and Rust alike)
    trimmed = F.regexp_replace(F.col(CONTENT), f"({pattern})" + r"\z", "")
    # `*` and `drop` keep the other columns without asking the engine what they are.
    exploded = contents.select(
        "*", F.when(F.col(CONTENT) == "", F.array().cast("array<string>"))
        .otherwise(F.split(trimmed, pattern, -1)).alias("__ls_lines")).drop(CONTENT)
    return exploded.select("*", F.posexplode(F.col("__ls_lines")).alias(LINE, RECORD)) \
        .drop("__ls_lines")


def whole_files(contents: DataFrame) -> DataFrame:
    """One row per file, its whole text as `RECORD`."""
    return contents.select("*", F.lit(0).alias(LINE), F.col(CONTENT).alias(RECORD)) \
        .drop(CONTENT)


def is_blank(record: Column) -> Column:
    return F.trim(record) == ""
