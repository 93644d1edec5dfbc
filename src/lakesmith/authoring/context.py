"""State that pipeline sources see while they load: the active session and the registry."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

from pyspark.pipelines.graph_element_registry import get_active_graph_element_registry

from lakesmith.authoring.registry import DefinitionRegistry
from lakesmith.errors import LakesmithError
from lakesmith.source_location import SourceLocation, defined_at

active_spark: ContextVar[Any] = ContextVar("lakesmith_active_spark", default=None)


@contextmanager
def session_active(spark: Any) -> Iterator[None]:
    """Pipeline code (dlt.read, ...) uses `spark` while sources load and query functions run."""
    token = active_spark.set(spark)
    try:
        yield
    finally:
        active_spark.reset(token)


def current_spark() -> Any:
    spark = active_spark.get()
    if spark is None:
        raise LakesmithError(
            "No pipeline session is active: dlt.read/read_stream only work inside pipeline sources "
            "run by lakesmith."
        )
    return spark


def current_registry() -> DefinitionRegistry:
    registry = get_active_graph_element_registry()
    if not isinstance(registry, DefinitionRegistry):
        raise LakesmithError("Pipeline definitions can only be registered while lakesmith loads sources.")
    return registry


def caller_location(depth: int = 1) -> SourceLocation:
    """The file and line `depth` frames above the function calling this one (or the first
    frame of the user's above it, past lakesmith's and libraries' own); when that is inside
    a function of the user's (a factory), also the calls that led there, up to module level."""
    frame = sys._getframe(depth + 1)
    while _is_library(frame.f_code.co_filename) and frame.f_back is not None:
        frame = frame.f_back  # through wrappers of the same call (`spark.sql`'s, say)
    location = defined_at(frame.f_code.co_filename, frame.f_lineno)
    calls: list[SourceLocation] = []
    outer = frame.f_back
    while (frame.f_code.co_name != "<module>" and outer is not None
           and not _is_library(outer.f_code.co_filename)):
        calls.append(SourceLocation(outer.f_code.co_filename, outer.f_lineno))
        frame, outer = outer, outer.f_back
    return replace(location, called_from=tuple(calls)) if calls else location


def _is_library(path: str) -> bool:
    """Frames of Python itself, installed packages and lakesmith are not the user's."""
    return (path.startswith("<") or os.sep + "site-packages" + os.sep in path
            or path.startswith(_LAKESMITH_DIR) or path.startswith(_STDLIB_DIR))


_LAKESMITH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STDLIB_DIR = os.path.dirname(os.__file__)
