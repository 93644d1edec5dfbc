"""The known differences between the embedded engine and Apache Spark 4.3 (`differences.toml`):
per conformance case, its status — `fixed` (lakesmith rewrites it), `refused` (lakesmith stops
with a clear error) or `open` (the engine's answer differs; an upstream issue) — and what the
engine answers without lakesmith."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DIFFERENCES_FILE = Path(__file__).with_name("differences.toml")
STATUSES = ("fixed", "refused", "open")


@dataclass(frozen=True)
class Difference:
    case: str
    status: str
    engine: str  # the engine's answer without lakesmith's rewrites
    note: str = ""


def load_differences(path: Path = DIFFERENCES_FILE) -> dict[str, Difference]:
    data = tomllib.loads(path.read_text())
    differences: dict[str, Difference] = {}
    for entry in data.get("difference", []):
        difference = Difference(entry["case"], entry["status"], entry["engine"],
                                entry.get("note", ""))
        if difference.status not in STATUSES:
            raise ValueError(f"{path}: {difference.case}: status must be one of {STATUSES}")
        differences[difference.case] = difference
    return differences
