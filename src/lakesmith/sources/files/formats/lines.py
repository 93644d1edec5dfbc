"""The records of line-based files (JSON lines, text) with the file each came from.

Two routes give the same rows. Small files are read whole through `binaryFile` (one scan for a
thousand files) and cut into lines in the engine. A large file (from 4 MB:
`LARGE_FILE_BYTES`) is read with the engine's text reader, which cuts lines itself, in parallel,
without holding the file as one string: about three times faster, and a fraction of the memory.
The text reader fails on bytes that are not UTF-8 (where Spark shows U+FFFD), so a large file
takes that route only after a check of its bytes by the engine finds them valid (once per
process while the file is unchanged); one with a custom `lineSep` never does. A streaming batch
skips the check (`unchecked_utf8`): landing files are nearly always UTF-8, and the check is a
scan of every byte on the batch's critical path. When the line reader then fails on such a file,
nothing was committed: `found_not_utf8` checks the files it read unchecked, the ones it finds
are read whole from then on, and the batch runs again (`runtime/flows/micro_batch.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.connect.session import SparkSession

from lakesmith.engine.parallelism import at_most_local_cores
from lakesmith.engine.paths import engine_path
from lakesmith.sources.files.formats.file_table import (
    engine_key,
    file_columns,
    file_contents,
    file_row,
    path_key,
)
from lakesmith.sources.files.formats.records import LINE, RECORD, split_lines, whole_files
from lakesmith.sources.files.formats.spec import error_mentions
from lakesmith.sources.files.inputs import InputFile

# Where the line reader starts to pay. Sail's binaryFile source can return a file of a few
# megabytes once per byte range it plans, so the small route read such a file twice and dropped
# the copy in a shuffle: a 7 MB file of 51,000 JSON lines costs 0.073 CPU s that way, 0.024 by
# the line reader plus 0.009 for the UTF-8 check. From 1 to 3 MB the two routes cost about the
# same (one file, or a hundred of 1.2 MB), and the line reader is one scan per file, so the
# limit stays above that (docs/benchmarks.md).
LARGE_FILE_BYTES = 4 * 1024 * 1024

# A streaming batch of this many files or fewer reads them all with the line reader: a batch's
# query is planned anew each time, and the small files' route (one `binaryFile` scan, files
# deduplicated and joined to the file table, text cut with a regular expression) costs a fixed
# ~0.01 s to plan and ~0.02 CPU s to run that the line reader does not: a batch of one 0.8 MB
# file (the medallion's +5 % customers) read and written 0.12 -> 0.10 CPU s. Beyond a few files
# the single scan pays (one scan per file, each planned).
FEW_FILES = 4

# How the engine's line reader fails on bytes that are not UTF-8 (Sail's text reader:
# "Parser error: Encountered invalid UTF-8 data at line N", no file named).
LINE_READER_UTF8_ERROR = "invalid UTF-8 data"


def records_of(spark: SparkSession, files: Sequence[InputFile], partition_names: Sequence[str],
               *, whole: bool, line_sep: str | None, where: str,
               unchecked_utf8: bool = False) -> DataFrame:
    """One row per record (a line, or a whole file): the file table's columns and `RECORD`.
    `unchecked_utf8`: large files not known to be invalid go to the line reader without the
    check (the caller recovers from its failure with `found_not_utf8`)."""
    if whole:
        return whole_files(file_contents(spark, files, partition_names, where=where)).drop(LINE)
    large = _line_reader_files(files, line_sep, unchecked_utf8=unchecked_utf8)
    if large:
        large = [f for f in large if _CHECKED.get(_identity(f), True)] if unchecked_utf8 \
            else _valid_utf8(spark, large)
    chosen = {id(f) for f in large}
    small = [f for f in files if id(f) not in chosen]
    frames = []
    if small:
        contents = file_contents(spark, small, partition_names, where=where)
        frames.append(split_lines(contents, line_sep).drop(LINE))
    if large:
        frames.append(_text_lines(spark, large, partition_names))
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def found_not_utf8(spark: SparkSession, files: Sequence[InputFile], error: BaseException, *,
                   whole: bool, line_sep: str | None) -> list[InputFile]:
    """After a read with `unchecked_utf8` failed with `error`: the files it gave the line reader
    unchecked whose bytes are not all UTF-8 (each is read whole from now on). Empty when the
    failure was not theirs: then the line reader's files are all known to be valid."""
    if whole or not error_mentions(error, LINE_READER_UTF8_ERROR):
        return []
    unchecked = [f for f in _line_reader_files(files, line_sep, unchecked_utf8=True)
                 if _identity(f) not in _CHECKED]
    if not unchecked:
        return []
    valid = {id(f) for f in _valid_utf8(spark, unchecked)}
    return [f for f in unchecked if id(f) not in valid]


def _line_reader_files(files: Sequence[InputFile], line_sep: str | None, *,
                       unchecked_utf8: bool) -> list[InputFile]:
    """The files for the line reader (none with a custom `lineSep`): the large ones, and every
    file of a streaming batch of a few (`FEW_FILES`), whose read skips the UTF-8 check."""
    if line_sep:
        return []
    if unchecked_utf8 and len(files) <= FEW_FILES:
        return list(files)
    return [f for f in files if f.size >= LARGE_FILE_BYTES]


# Files already checked, by (URI, size, modification time): inference and the batch read
# the same files in one update, and each check is a scan of every byte.
_CHECKED: dict[tuple[str, int, int], bool] = {}
_CHECKED_MAX = 100_000


def _valid_utf8(spark: SparkSession, files: Sequence[InputFile]) -> list[InputFile]:
    """The files whose bytes are all valid UTF-8 (each checked once while it is unchanged)."""
    valid = {_identity(f): _CHECKED[_identity(f)] for f in files if _identity(f) in _CHECKED}
    unknown = [f for f in files if _identity(f) not in valid]
    if unknown:
        invalid = _not_utf8(spark, unknown)
        if len(_CHECKED) + len(unknown) > _CHECKED_MAX:
            _CHECKED.clear()
        for f in unknown:
            valid[_identity(f)] = _CHECKED[_identity(f)] = engine_key(f) not in invalid
    return [f for f in files if valid[_identity(f)]]


def _identity(file: InputFile) -> tuple[str, int, int]:
    return file.location.uri, file.size, file.modification_time_ms


def _not_utf8(spark: SparkSession, files: Sequence[InputFile]) -> set[str]:
    """The engine keys of the files whose bytes are not all valid UTF-8 (names only)."""
    rows = spark.read.format("binaryFile").load([engine_path(f.location) for f in files]) \
        .where(F.expr("NOT is_valid_utf8(content)")).select("path").distinct().collect()
    return {path_key(str(r.path)) for r in rows}


def _text_lines(spark: SparkSession, files: Sequence[InputFile],
                partition_names: Sequence[str]) -> DataFrame:
    """Each file read by the text reader, its file columns as literals (no join needed)."""
    columns = file_columns(partition_names)
    frames = []
    for index, file in enumerate(files):
        values = file_row(index, file, partition_names)
        frames.append(spark.read.text(engine_path(file.location)).select(
            *[F.lit(value).cast(kind).alias(name) for (name, kind), value in zip(
                columns, values, strict=True)], F.col("value").alias(RECORD)))
    while len(frames) > 1:  # balanced: a chain of unions this long overflows the client
        frames = [frames[i].unionAll(frames[i + 1]) if i + 1 < len(frames) else frames[i]
                  for i in range(0, len(frames), 2)]
    # One scan (or more) per file: written as they are, each would hold a Parquet writer open.
    return at_most_local_cores(frames[0], len(files))
