"""The known differences between the embedded engine and Apache Spark 4.3 (`differences.toml`):
per conformance case, its status — `fixed` (lakesmith rewrites it), `refused` (lakesmith stops
with a clear error) or `open` (the engine's answer differs; an upstream issue) — and what the
engine answers without lakesmith."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance_outcome import same

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


def disagreement(case_id: str, code: str, expected: dict[str, Any], actual: dict[str, Any],
                 difference: Difference | None) -> str | None:
    """Why lakesmith's outcome `actual` of a case is wrong, or None when it is what the case's
    status says: Spark's answer (no difference, or `fixed`), lakesmith's refusal (`refused`),
    or still the engine's different answer (`open`: a fix upstream must be noticed)."""
    agrees = same(expected, actual)
    if difference is None or difference.status == "fixed":
        if not agrees:
            return (f"{case_id} differs from Apache Spark 4.3:\n  code: {code}\n"
                    f"  spark: {json.dumps(expected)[:400]}\n"
                    f"  lakesmith: {json.dumps(actual)[:400]}")
    elif difference.status == "refused":
        if actual.get("error") != "NotSupportedYet":
            return (f"{case_id} is listed as refused by lakesmith, but: "
                    f"{json.dumps(actual)[:300]}")
    elif agrees:  # open upstream
        return (f"{case_id} now gives Spark's answer: mark it resolved (remove it from "
                "differences.toml and regenerate docs/compatibility.md)")
    return None
