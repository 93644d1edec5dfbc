"""Pointing at the user's line when their pipeline code raises."""

from __future__ import annotations

import traceback
from collections.abc import Collection

from lakesmith.source_location import SourceLocation


def user_location(error: BaseException, files: Collection[str],
                  fallback: SourceLocation | None = None) -> SourceLocation | None:
    """The innermost frame of `error`'s traceback that is in one of the user's `files`."""
    found = fallback
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename in files:
            found = SourceLocation(frame.filename, frame.lineno)
    return found


def describe(error: BaseException) -> str:
    """A one-paragraph description of an exception from user code or the engine."""
    text = str(error).strip() or type(error).__name__
    # Spark Connect errors carry a JVM-style stack or long SQLSTATE trailers; keep the first lines.
    lines = [line for line in text.splitlines() if line.strip()]
    head = "\n".join(lines[:6])
    name = type(error).__name__
    return head if name in head or name in ("Exception",) else f"{name}: {head}"
