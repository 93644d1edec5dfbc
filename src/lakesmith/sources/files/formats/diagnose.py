"""Naming the file an engine read failed on.

The engine's errors for a list of files do not say which file broke the read. After a failure the
control plane checks each file with metadata-sized reads: that it still exists with the size
discovery recorded, and for Parquet that its footer is sound (`tables.parquet_check`). Text
formats never fail on bytes that are not UTF-8 (they become U+FFFD and corrupt records, as in
Spark), so for them a missing or changed file is what there is to find.
"""

from __future__ import annotations

from collections.abc import Sequence

from lakesmith.files import store_for
from lakesmith.sources.files.formats.spec import ReadSpec
from lakesmith.sources.files.inputs import InputFile
from lakesmith.tables.parquet_check import footer_problem


def diagnose(files: Sequence[InputFile], spec: ReadSpec) -> str | None:
    """Which file is unreadable and why, or None when every file looks sound."""
    for file in files:
        problem = _problem(file, spec.format.lower())
        if problem is not None:
            return f"{spec.where}: the file {file.location} {problem}"
    return None


def _problem(file: InputFile, format: str) -> str | None:
    store = store_for(file.location)
    try:
        if not store.exists(file.location):
            return "no longer exists (it was listed when the batch was planned)."
        if file.size > 0:
            store.read_range(file.location, file.size - 1, 1)
    except OSError as e:
        return f"cannot be read ({e.strerror or e})."
    if format == "parquet":
        problem = footer_problem(file.location, file.size)
        return None if problem is None else problem + "."
    return None
