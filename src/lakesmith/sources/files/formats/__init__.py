"""File formats of Auto Loader: a given list of files as an engine DataFrame with Apache Spark's
and Databricks' semantics, and schemas inferred from files by the engine.

Each name is imported on first use: an update in which no files are read (nothing new) does not
load the readers (docs/benchmarks.md, cold start)."""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "INPUT_FILE_NAME_SQL": "columns", "infer_partition_schema": "columns",
    "diagnose": "diagnose", "infer_schema": "inference", "new_columns": "inference",
    "read_files": "read", "found_not_utf8": "read", "ReadSpec": "spec",
}

__all__ = ["INPUT_FILE_NAME_SQL", "ReadSpec", "diagnose", "found_not_utf8",
           "infer_partition_schema", "infer_schema", "new_columns", "read_files"]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'lakesmith.sources.files.formats' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
