"""One file a batch reads, as discovery saw it.

Discovery (listing the landing folder) and reading (turning files into rows in the engine) meet
here: the reader gets exactly the files a batch owns, with the size and modification time that
were recorded for them, so `_metadata` columns and re-runs after a crash see the same values.
"""

from __future__ import annotations

from dataclasses import dataclass

from lakesmith.locations import Location


@dataclass(frozen=True)
class InputFile:
    location: Location  # absolute
    size: int
    modification_time_ms: int  # milliseconds since the epoch, UTC
    # From `key=value` folders between the source's root and the file, outermost first.
    partition_values: tuple[tuple[str, str | None], ...] = ()
