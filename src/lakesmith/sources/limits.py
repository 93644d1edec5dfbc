"""Per-trigger admission limits shared by stream sources: `maxFilesPerTrigger` and
`maxBytesPerTrigger`, with Spark's parsing and defaults."""

from __future__ import annotations

from dataclasses import dataclass

from lakesmith.errors import LakesmithError

DEFAULT_MAX_FILES_PER_TRIGGER = 1000  # Spark's default for Delta and file sources


@dataclass(frozen=True)
class TriggerLimits:
    max_files: int | None
    max_bytes: int | None

    @staticmethod
    def parse(lowered: dict[str, str], where: str) -> TriggerLimits:
        """From options keyed in lower case; with neither limit set, Spark's default file cap."""
        max_files = positive_int(lowered.get("maxfilespertrigger"), "maxFilesPerTrigger", where)
        max_bytes = byte_size(lowered.get("maxbytespertrigger"), "maxBytesPerTrigger", where)
        if max_files is None and max_bytes is None:
            max_files = DEFAULT_MAX_FILES_PER_TRIGGER
        return TriggerLimits(max_files, max_bytes)

    def budget(self) -> Budget:
        return Budget(self.max_files, self.max_bytes)


class Budget:
    """Admission control for one batch: at most max_files files and (soft) max_bytes bytes; the
    first file is always admitted, so a file larger than max_bytes still makes progress."""

    def __init__(self, max_files: int | None, max_bytes: int | None) -> None:
        self.max_files = max_files
        self.max_bytes = max_bytes
        self.files = 0
        self.bytes = 0

    @property
    def exhausted(self) -> bool:
        if self.max_files is not None and self.files >= self.max_files:
            return True
        return self.max_bytes is not None and self.bytes >= self.max_bytes

    def add(self, size: int) -> None:
        self.files += 1
        self.bytes += size


def positive_int(value: str | None, name: str, where: str, *,
                 allow_zero: bool = False) -> int | None:
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if number < 0 or (number == 0 and not allow_zero):
        raise LakesmithError(f"{where}: option {name} must be a positive integer, got {value!r}.")
    return number


_UNITS = {"b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def byte_size(value: str | None, name: str, where: str) -> int | None:
    if value is None:
        return None
    text = str(value).strip().lower()
    digits = text.rstrip("bkmg")
    unit = text[len(digits):] or "b"
    if not digits.isdigit() or unit not in _UNITS or int(digits) <= 0:
        raise LakesmithError(
            f"{where}: option {name} must be a size such as 10485760, 10m or 1g, got {value!r}.")
    return int(digits) * _UNITS[unit]
