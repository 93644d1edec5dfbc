"""State that pipeline sources see while they load: the active session and the registry."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
    """The file and line `depth` frames above the function calling this one."""
    frame = sys._getframe(depth + 1)
    return defined_at(frame.f_code.co_filename, frame.f_lineno)
