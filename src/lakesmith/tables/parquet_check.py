"""Naming the unreadable file of a batch. The engine reports a corrupt Parquet file of an explicit
file list without naming it ("Corrupt footer", "Unexpected EOF"); after such a failure each file's
footer is checked from the control plane (metadata only: the last bytes of each file)."""

from __future__ import annotations

import struct
from collections.abc import Iterable

from lakesmith.files import store_for
from lakesmith.locations import Location

MAGIC = b"PAR1"


def footer_problem(location: Location, size: int | None = None) -> str | None:
    """Why the file is not a readable Parquet file, or None when its footer looks sound."""
    store = store_for(location)
    try:
        head = store.read_range(location, 0, 4)
        tail = store.read_range(location, -8, 8)
    except OSError as e:
        return f"cannot be read ({e.strerror or e})"
    if size is not None and size < 12:
        return f"has {size} bytes, too few for a Parquet file"
    if head != MAGIC or len(tail) != 8 or tail[4:] != MAGIC:
        return "is not a Parquet file (no PAR1 marker at its start and end: truncated or garbage)"
    (footer_length,) = struct.unpack("<i", tail[:4])
    if size is not None and not 0 < footer_length <= size - 12:
        return f"has a corrupt footer (length {footer_length} in a file of {size} bytes)"
    if location.is_local:
        import pyarrow.parquet as pq

        try:
            pq.read_metadata(location.local_path)
        except Exception as e:  # pyarrow's error for the footer, reported to the user
            return f"has a corrupt footer ({e})"
    return None


def first_problem(files: Iterable[tuple[Location, int | None]]) -> tuple[Location, str] | None:
    for location, size in files:
        problem = footer_problem(location, size)
        if problem is not None:
            return location, problem
    return None
