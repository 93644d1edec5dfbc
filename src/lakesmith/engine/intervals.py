"""Spark interval strings (`withWatermark("ts", "10 minutes")`, `window(ts, "5 minutes")`) in
milliseconds, parsed as Spark's `CalendarInterval` does for a day-time interval."""

from __future__ import annotations

import re
from decimal import Decimal

from lakesmith.errors import LakesmithError

# Exact (decimal) arithmetic: 1.001 seconds is 1001 ms, not 1000.9999999999999 truncated.
_UNITS_MS: dict[str, Decimal | int] = {
    "microsecond": Decimal("0.001"), "millisecond": 1, "ms": 1, "second": 1000, "sec": 1000,
    "s": 1000, "minute": 60_000, "min": 60_000, "m": 60_000, "hour": 3_600_000, "h": 3_600_000,
    "day": 86_400_000, "d": 86_400_000, "week": 7 * 86_400_000,
}
_PART = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*([a-z]+)\s*", re.IGNORECASE)


def interval_ms(text: str, *, what: str = "interval") -> int:
    """`"10 seconds"`, `"1 hour 30 minutes"`, `"interval 2 days"` -> milliseconds."""
    body = text.strip()
    if body.lower().startswith("interval"):
        body = body[len("interval"):]
    total = Decimal(0)
    position = 0
    body = body.strip()
    while position < len(body):
        match = _PART.match(body, position)
        unit = match.group(2).lower() if match else ""
        if unit not in _UNITS_MS and unit.endswith("s"):
            unit = unit[:-1]  # plurals
        if match is None or match.end() == position or unit not in _UNITS_MS:
            raise LakesmithError(
                f"{what} '{text}' is not an interval such as '10 seconds' or '1 hour 30 minutes'.")
        total += Decimal(match.group(1)) * _UNITS_MS[unit]
        position = match.end()
    if not body:
        raise LakesmithError(f"{what} '{text}' is empty.")
    return int(total)
