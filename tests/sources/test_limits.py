"""maxFilesPerTrigger and maxBytesPerTrigger: Spark's spellings and default, and the message
that names the option when a value is wrong."""

from __future__ import annotations

import pytest

from lakesmith.errors import LakesmithError
from lakesmith.sources.limits import (
    DEFAULT_MAX_FILES_PER_TRIGGER,
    Budget,
    TriggerLimits,
    byte_size,
    positive_int,
)

WHERE = "flow 'bronze'"


@pytest.mark.parametrize(("text", "size"), [
    ("512", 512), ("1b", 1), ("10k", 10 * 1024), ("10kb", 10 * 1024), ("10m", 10 * 1024**2),
    ("10MB", 10 * 1024**2), (" 1g ", 1024**3), ("2gb", 2 * 1024**3), ("10485760", 10485760),
])
def test_byte_sizes(text: str, size: int) -> None:
    assert byte_size(text, "maxBytesPerTrigger", WHERE) == size


@pytest.mark.parametrize("text", ["", "0", "0m", "-1", "ten", "1t", "1.5g", "m", "10 m", "1bg",
                                  "1kk", "+5"])
def test_bad_byte_sizes_name_the_option(text: str) -> None:
    with pytest.raises(LakesmithError) as info:
        byte_size(text, "maxBytesPerTrigger", WHERE)
    assert info.value.message == (
        f"flow 'bronze': option maxBytesPerTrigger must be a size such as 10485760, 10m or 1g, "
        f"got {text!r}.")


def test_positive_integers() -> None:
    assert positive_int(" 5 ", "maxFilesPerTrigger", WHERE) == 5
    assert positive_int(None, "maxFilesPerTrigger", WHERE) is None
    assert positive_int("0", "startingVersion", WHERE, allow_zero=True) == 0
    for text in ("0", "-2", "1.5", "many", ""):
        with pytest.raises(LakesmithError) as info:
            positive_int(text, "maxFilesPerTrigger", WHERE)
        assert info.value.message == (
            f"flow 'bronze': option maxFilesPerTrigger must be a positive integer, got {text!r}.")


def test_limits_default_to_sparks_file_cap() -> None:
    assert TriggerLimits.parse({}, WHERE) == TriggerLimits(DEFAULT_MAX_FILES_PER_TRIGGER, None)
    assert DEFAULT_MAX_FILES_PER_TRIGGER == 1000
    assert TriggerLimits.parse({"maxbytespertrigger": "10m"}, WHERE) == \
        TriggerLimits(None, 10 * 1024**2)
    assert TriggerLimits.parse({"maxfilespertrigger": "3", "maxbytespertrigger": "1k"}, WHERE) \
        == TriggerLimits(3, 1024)
    with pytest.raises(LakesmithError, match="option maxFilesPerTrigger must be a positive"):
        TriggerLimits.parse({"maxfilespertrigger": "0"}, WHERE)


def test_budget_admits_the_first_file_and_stops_at_either_limit() -> None:
    budget = Budget(None, 100)
    assert not budget.exhausted
    budget.add(500)  # larger than the limit: still admitted, so the stream makes progress
    assert budget.exhausted
    files = Budget(2, None)
    files.add(1)
    assert not files.exhausted
    files.add(1)
    assert files.exhausted
    both = TriggerLimits(5, 10).budget()
    both.add(6)
    assert not both.exhausted
    both.add(4)
    assert both.exhausted and (both.files, both.bytes) == (2, 10)
