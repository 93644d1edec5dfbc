"""Whether a materialized view is already what a refresh would write: its query, definition and
inputs are those of its last refresh, and the query gives the same rows for the same inputs.

A refresh records a fingerprint next to the flow's checkpoint: a hash of the query's plan (plan ids
left out: they number plans in the order the client built them), the dataset's definition, the
pipeline configuration, and for each table the query reads (through temporary views too) its
Delta table id and version, plus the view's own table id and version after the write. The next
refresh computes the same fingerprint before running the query; when it matches, the table
already holds the result (Databricks reports such a refresh as a no-op) and nothing runs.

Reads of files or Delta paths are part of the fingerprint by their metadata
(`runtime/input_signature.py`: file sizes and modification times, Delta versions). Anything
whose result can change without that is never skipped: a table outside the pipeline read by
name; a function whose value depends on the time, on
chance, on the session or on the engine's partitioning; a Python UDF; a query given as SQL text
that mentions any such function. A full refresh always recomputes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from lakesmith.files import store_for
from lakesmith.graph.graph import ResolvedFlow
from lakesmith.graph.model import PersistedView, TemporaryView
from lakesmith.locations import Location
from lakesmith.runtime.input_signature import external_signature
from lakesmith.runtime.workspace import Workspace

RECORD = "refresh.json"
# Functions whose result is not a function of the input rows (Spark marks them nondeterministic,
# or they read the clock or the session).
VOLATILE = frozenset({
    "current_timestamp", "now", "current_date", "curdate", "localtimestamp", "current_timezone",
    "unix_timestamp", "rand", "random", "randn", "randstr", "uniform", "uuid", "shuffle",
    "monotonically_increasing_id", "spark_partition_id", "input_file_name",
    "input_file_block_start", "input_file_block_length", "current_user", "user", "session_user",
    "current_catalog", "current_database", "current_schema", "reflect", "java_method",
    "try_reflect", "rand_str", "try_aes_decrypt",
})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Fingerprint:
    """What a refresh of a flow depends on: its definition (plans, dataset definition,
    configuration), and the version of each table it reads (`inputs`: key -> [table id,
    version]; files and Delta paths: their metadata)."""

    definition: str
    inputs: dict[str, Any]

    @property
    def value(self) -> str:
        return hashlib.sha256(json.dumps({"definition": self.definition, "inputs": self.inputs},
                                         sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Unstable:
    """Why a flow's result could differ with the same inputs (it then always runs): `issue` in
    the words of Databricks' incrementalization issues, `explanation` in a user's."""

    issue: str
    explanation: str


NONDETERMINISTIC = "EXPRESSION_NOT_DETERMINISTIC"
INPUT_NOT_VERSIONED = "INPUT_NOT_IN_DELTA"


def fingerprint(workspace: Workspace, flow: ResolvedFlow, definition: Any) -> Fingerprint | Unstable:
    """The fingerprint of a refresh of `flow` now, or why its result could differ with the same
    inputs."""
    if flow.relation is None:
        return Unstable(NONDETERMINISTIC, "the flow has no query plan")
    from lakesmith.runtime.update import MAX_CONCURRENT_FLOWS_KEY

    # (how many flows run at once changes no query's result)
    parts: dict[str, Any] = {"definition": repr(definition),
                             "configuration": sorted(
                                 (key, value) for key, value in workspace.configuration.items()
                                 if key != MAX_CONCURRENT_FLOWS_KEY)}
    tables: dict[str, Any] = {}
    unstable = _collect(workspace, flow, parts, tables, seen=set())
    if unstable is not None:
        return unstable
    return Fingerprint(hashlib.sha256(json.dumps(parts, sort_keys=True, default=str)
                                      .encode()).hexdigest(), tables)


def _collect(workspace: Workspace, flow: ResolvedFlow, parts: dict[str, Any],
             tables: dict[str, Any], seen: set[str]) -> Unstable | None:
    """Add the flow's plan and its inputs' versions (views expanded); why not, if not stable."""
    if flow.relation is None or not _deterministic(flow.relation):
        return Unstable(NONDETERMINISTIC, f"the query of '{flow.name}' calls a function whose "
                        "value is not a function of its input rows (the clock, chance, a UDF)")
    parts[f"plan:{flow.name}"] = plan_bytes(flow.relation).hex()
    for read in flow.inputs:
        if read.dataset is None:  # files or a Delta path: their metadata now
            external = external_signature(workspace, read.read)
            if external is None:  # a table outside the pipeline, read by name: unknowable
                return Unstable(INPUT_NOT_VERSIONED, f"it reads {read.read.describe()}, "
                                "outside the pipeline, whose changes cannot be told")
            tables[external[0]] = external[1]
            continue
        key = ".".join(read.dataset.key)
        if key in seen:
            continue
        seen.add(key)
        dataset = workspace.graph.dataset(read.dataset)
        if isinstance(dataset, (TemporaryView, PersistedView)):
            for upstream in workspace.graph.flows_into(read.dataset):
                unstable = _collect(workspace, upstream, parts, tables, seen)
                if unstable is not None:
                    return unstable
            continue
        identity = workspace.table_log(read.dataset).identity()
        if identity is None:
            return Unstable(INPUT_NOT_VERSIONED, f"'{dataset.name}' has no data yet")
        tables[key] = list(identity)
    return None


def plan_bytes(relation: Message) -> bytes:
    """The plan (or expression) without its plan ids, serialized deterministically."""
    copy = type(relation)()
    copy.CopyFrom(relation)
    _clear_plan_ids(copy)
    return bytes(copy.SerializeToString(deterministic=True))


def _children(message: Any) -> Iterator[Any]:
    """The messages directly inside `message` (repeated fields and map values included)."""
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            yield from (v for v in value.values() if hasattr(v, "ListFields"))
        elif field.is_repeated:
            yield from value
        else:
            yield value


def _clear_plan_ids(message: Any) -> None:
    for field, _ in message.ListFields():
        if field.name == "plan_id" and field.type == field.TYPE_INT64:
            message.ClearField(field.name)
    for child in _children(message):
        _clear_plan_ids(child)


def _deterministic(message: Any) -> bool:
    """No volatile function, no Python UDF, no SQL text naming a volatile function."""
    for field, value in message.ListFields():
        if "user_defined" in field.name or field.name in ("python_udf", "java_udf"):
            return False  # Python, pandas, Java UDFs and UDTFs: may not be deterministic
        if isinstance(value, str) and (
                (field.name == "function_name" and value.lower() in VOLATILE)
                or (field.name in ("query", "expression", "unparsed_expression")
                    and any(w.lower() in VOLATILE for w in _WORD.findall(value)))):
            return False
    return all(_deterministic(child) for child in _children(message))


def recorded(location: Location) -> dict[str, Any] | None:
    data = store_for(location).read(location)
    if data is None:
        return None
    try:
        found = json.loads(data)
    except ValueError:
        return None  # unreadable: refresh (and record again)
    return found if isinstance(found, dict) else None


def record(location: Location, fingerprint_now: Fingerprint, table_id: str | None, version: int,
           input_schemas: dict[str, str] | None = None,
           state: dict[str, Any] | None = None) -> None:
    """What this refresh read and wrote: the next refresh is a no-op when nothing changed, and
    can be incremental from it (`runtime/refresh/`) when its inputs only grew."""
    store_for(location).write(location, json.dumps(
        {"fingerprint": fingerprint_now.value, "definition": fingerprint_now.definition,
         "inputs": fingerprint_now.inputs, "input_schemas": input_schemas or {},
         "state": state, "table_id": table_id, "version": version}).encode())


def up_to_date(location: Location, fingerprint_now: Fingerprint | Unstable | None,
               table_id: str | None, version: int | None) -> bool:
    """The last refresh recorded this fingerprint, and the table is still as it left it."""
    if not isinstance(fingerprint_now, Fingerprint) or version is None:
        return False
    last = recorded(location)
    return last is not None and same_table(last, table_id, version) \
        and last.get("fingerprint") == fingerprint_now.value


def same_table(last: dict[str, Any] | None, table_id: str | None, version: int | None) -> bool:
    """The table is the one the last recorded refresh left (no crash after its commit, nobody
    wrote it since)."""
    return last is not None and last.get("table_id") == table_id \
        and last.get("version") == version
