"""The last successful analysis of the graph, reused while nothing it depends on has changed.

Analysing a graph (`runtime/analysis.py`) asks the engine for the schema of every flow's query:
some twenty round trips for the medallion example, a tenth of an update with nothing new. Its
answer depends only on the flows' definitions and plans, the datasets' definitions, the pipeline's
configuration, the versions of lakesmith (its files' sizes and times too: an edited checkout) and
of the engine, and the columns of what the flows read from outside the pipeline. A key over all
of those is recorded with the schemas after each successful analysis
(`<storage>/analysis.json`); an update whose key is the same uses the recorded schemas, and
its graph is valid as it was then.

What cannot be told from metadata is never cached (the key is None and the graph is analysed):
a table outside the pipeline read by name, a flow kind whose definition holds a function (AUTO
CDC from a snapshot function), a value lakesmith cannot describe exactly. Reads of files or Delta
paths are keyed by what they hold now (`runtime/input_signature.py`), streams of files by the
schema they are read with (given, or stored in their schema location).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any

from pyspark.sql.connect.column import Column
from pyspark.sql.types import StructType

from lakesmith import __version__
from lakesmith.files import store_for
from lakesmith.graph.flows import AutoCdcSnapshotFlow, PythonQuery, SqlQuery
from lakesmith.graph.graph import ResolvedFlow
from lakesmith.locations import Location
from lakesmith.runtime.flows.up_to_date import plan_bytes
from lakesmith.runtime.input_signature import external_signature
from lakesmith.runtime.streaming.sources import source_key
from lakesmith.runtime.workspace import Workspace
from lakesmith.source_location import SourceLocation

logger = logging.getLogger(__name__)

CACHE_FILE = ("analysis.json",)
FORMAT = 1  # of the key and the record; a change makes every recorded analysis stale


class _NotDescribable(Exception):
    """A value the key cannot describe exactly: the graph is analysed instead."""


def analysis_key(workspace: Workspace, spark: Any) -> str | None:
    """The key of an analysis of the workspace's graph now, or None when it must run."""
    try:
        parts: dict[str, Any] = {
            "format": FORMAT,
            "versions": [__version__, _code_version(), _engine_version(spark),
                         _version("pyspark")],
            "configuration": sorted(workspace.configuration.items()),
            "datasets": sorted((str(name), repr(dataset))
                               for name, dataset in workspace.graph.datasets.items()),
            "flows": [_flow_part(workspace, spark, flow)
                      for flow in sorted(workspace.graph.flows, key=lambda f: f.name)],
        }
        text = json.dumps(parts, sort_keys=True, default=_refuse)
    except Exception as e:  # not describable (or a source that fails): analysis runs, and
        logger.debug("the graph is analysed: %s", e)  # reports what is wrong as it does
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def cached_schemas(storage: Location, key: str | None) -> dict[str, StructType] | None:
    """The flow schemas recorded under `key`; None when there are none (or `key` is None)."""
    if key is None:
        return None
    location = storage.join(*CACHE_FILE)
    data = store_for(location).read(location)
    if data is None:
        return None
    try:
        found = json.loads(data)
        if found.get("key") != key:
            return None
        return {name: StructType.fromJson(schema) for name, schema in found["schemas"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # unreadable: analysed again, and recorded again


def record_schemas(storage: Location, key: str | None, schemas: Mapping[str, StructType]) -> None:
    """Record a successful analysis under `key` (nothing when `key` is None)."""
    if key is None:
        return
    location = storage.join(*CACHE_FILE)
    store_for(location).write(location, json.dumps(
        {"key": key, "schemas": {name: schema.jsonValue() for name, schema in schemas.items()}},
        sort_keys=True).encode())


def _flow_part(workspace: Workspace, spark: Any, flow: ResolvedFlow) -> dict[str, Any]:
    if isinstance(flow.flow, AutoCdcSnapshotFlow):
        raise _NotDescribable(f"flow '{flow.name}' is AUTO CDC from snapshots")
    return {
        "name": flow.name,
        "target": str(flow.target),
        "kind": type(flow.flow).__name__,
        "definition": _describe(flow.flow, spark),
        "plan": None if flow.relation is None else plan_bytes(flow.relation).hex(),
        "upstream": sorted(str(name) for name in flow.upstream),
        "outside": _outside_inputs(workspace, spark, flow),
    }


def _outside_inputs(workspace: Workspace, spark: Any, flow: ResolvedFlow) -> list[Any]:
    """What the flow reads from outside the pipeline, as far as analysis sees it."""
    found: list[Any] = []
    sources = None
    for read in (i.read for i in flow.inputs if i.dataset is None):
        key = source_key(read, workspace.graph, workspace.project)
        if key is not None and key.startswith("cloudfiles:"):
            # A stream of files is analysed with the columns it is read with.
            sources = workspace.sources(flow) if sources is None else sources
            read_spec = getattr(sources.get(key), "analysis_read_spec", None)
            if read_spec is None:
                raise _NotDescribable(f"{read.describe()}: no file stream source")
            try:
                found.append([key, repr(read_spec(spark))])
            except Exception as e:  # (no files yet, ...): analysis reports it as it does
                raise _NotDescribable(f"{read.describe()}: {e}") from e
            continue
        signature = external_signature(workspace, read)
        if signature is None:
            raise _NotDescribable(f"{read.describe()} is read by name")
        found.append([signature[0], repr(signature[1])])
    return sorted(found)


def _describe(value: Any, spark: Any) -> Any:
    """A flow definition as plain data: every field but the query function (its plan is in the
    key) and the place it is defined (moving a definition changes no schema)."""
    if value is None or isinstance(value, Enum):
        return None if value is None else ["enum", str(value.value)]
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, PythonQuery):
        return "python"
    if isinstance(value, SqlQuery):
        return value.text
    if isinstance(value, SourceLocation):
        return None
    if isinstance(value, (list, tuple)):
        return [_describe(v, spark) for v in value]
    if isinstance(value, Mapping):
        return sorted([str(k), _describe(v, spark)] for k, v in value.items())
    if is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__,
                {f.name: _describe(getattr(value, f.name), spark) for f in fields(value)}]
    if isinstance(value, Column):  # its expression, as the engine receives it
        try:
            expression = value._expr.to_plan(spark.client)
        except Exception as e:  # not writable out here: not described
            raise _NotDescribable(f"column {value!r}") from e
        return ["Column", plan_bytes(expression).hex()]
    raise _NotDescribable(f"a {type(value).__name__} in a flow definition")


def _code_version() -> list[int]:
    """lakesmith's modules as installed (how many, their newest change, their total size): a
    checkout edited or upgraded between updates analyses again, whatever `__version__` says."""
    newest = total = count = 0
    pending = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir() and entry.name != "__pycache__":
                    pending.append(entry.path)
                elif entry.name.endswith(".py"):
                    stat = entry.stat()
                    newest, total, count = max(newest, stat.st_mtime_ns), total + stat.st_size, \
                        count + 1
    return [count, newest, total]


def _engine_version(spark: Any) -> str:
    """Sail's version when it runs embedded (the module is loaded then), else the endpoint's."""
    if "pysail" in sys.modules:
        return f"pysail {_version('pysail')}"
    return f"remote {spark.version}"


def _version(package: str) -> str | None:
    """A package's `__version__` (its import is cheap; reading the installed distributions'
    metadata is not)."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        return None
    return str(getattr(module, "__version__", None))


def _refuse(value: Any) -> Any:
    raise TypeError(f"a {type(value).__name__} in the analysis key")
