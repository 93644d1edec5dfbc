"""Spark interval strings in milliseconds."""

from __future__ import annotations

import pytest

from lakesmith.engine.intervals import interval_ms
from lakesmith.errors import LakesmithError


@pytest.mark.parametrize(("text", "ms"), [
    ("10 seconds", 10_000),
    ("1 second", 1_000),
    ("1 hour 30 minutes", 5_400_000),
    ("interval 2 days", 172_800_000),
    ("INTERVAL 1 DAY", 86_400_000),
    ("  3 mins ", 180_000),
    ("500 milliseconds", 500),
    ("20 ms", 20),
    ("1 week", 604_800_000),
    ("10s", 10_000),
    ("1h30m", 5_400_000),
    ("2 d", 172_800_000),
    ("1.5 seconds", 1_500),
    ("1.001 seconds", 1_001),
    ("4.35 seconds", 4_350),
    ("0.7 hours", 2_520_000),
    ("1500 microseconds", 1),
    ("250 microseconds", 0),
    ("1 minute -30 seconds", 30_000),
])
def test_intervals(text: str, ms: int) -> None:
    assert interval_ms(text) == ms


@pytest.mark.parametrize("text", ["10", "ten seconds", "10 fortnights", "1 month", "1 year",
                                  "2 hours,", "interval 1 hour interval", "1.5.5 seconds"])
def test_what_is_not_an_interval_is_named(text: str) -> None:
    with pytest.raises(LakesmithError) as info:
        interval_ms(text, what="the delay of withWatermark('ts')")
    assert info.value.message == (
        f"the delay of withWatermark('ts') '{text}' is not an interval such as '10 seconds' or "
        "'1 hour 30 minutes'.")


@pytest.mark.parametrize("text", ["", "   ", "interval", "INTERVAL  "])
def test_an_empty_interval_is_named(text: str) -> None:
    with pytest.raises(LakesmithError) as info:
        interval_ms(text)
    assert info.value.message == f"interval '{text}' is empty."
