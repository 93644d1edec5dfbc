"""Warnings about pipeline sources: something a source asks for that lakesmith does not do (a
`%pip` line, a cluster-only `spark_conf` key, a table `path` on DBFS). Each is shown once per load,
at the file and line that asked for it, so nothing a user wrote is dropped silently.

They are Python warnings (`SourceWarning`) issued at the user's file and line, so the CLI shows
them on stderr, tests catch them with `pytest.warns`, and `-W error::...SourceWarning` turns them
into errors for a strict CI.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from lakesmith.source_location import SourceLocation

_shown: ContextVar[set[tuple[SourceLocation, str]] | None] = ContextVar(
    "lakesmith_source_warnings_shown", default=None)


class SourceWarning(UserWarning):
    """A pipeline source asks for something lakesmith ignores."""


@contextmanager
def warnings_once() -> Iterator[None]:
    """While sources load: a warning repeated at the same place (a factory called in a loop) is
    shown once."""
    token = _shown.set(set())
    try:
        yield
    finally:
        _shown.reset(token)


def warn_source(message: str, location: SourceLocation) -> None:
    shown = _shown.get()
    if shown is not None:
        if (location, message) in shown:
            return
        shown.add((location, message))
    # Python's warning display puts the file and line first (and the source line below).
    calls = ", ".join(str(c) for c in location.called_from)
    warnings.warn_explicit(f"{message} (called from {calls})" if calls else message,
                           SourceWarning, location.path, location.line or 0)
