"""Where an AUTO CDC flow from snapshots gets them: a Delta table (its current version, read by
time travel so a rerun reads the same rows), a temporary view (its result at each update, copied
into the checkpoint so a rerun reads the same rows), or the user's function
`next_snapshot_and_version(latest_version)`. All say the next snapshot after a version, and give
back a recorded one for a rerun."""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from typing import Any

from lakesmith.authoring.tracebacks import describe, user_location
from lakesmith.cdc.scratch import drop_replaced_files
from lakesmith.engine.paths import engine_path
from lakesmith.engine.plans import relation_of
from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.graph.flows import AutoCdcSnapshotFlow
from lakesmith.graph.graph import ResolvedFlow
from lakesmith.graph.model import DatasetKind
from lakesmith.locations import Location
from lakesmith.runtime.flows.base import FlowContext
from lakesmith.runtime.workspace import Workspace
from lakesmith.tables.delta import is_delta_table, latest_version, open_table, table_id
from lakesmith.tables.writes import write_delta

VIEW_COPY = "view-snapshot"  # a view's current snapshot, copied (`ViewSnapshots`)
VERSION_KEY = "lakesmith_snapshot_version"


class Snapshots(ABC):
    reason: str  # what the plan shows
    identity: str | None = None
    many_per_update: bool = False  # a function is called until it returns None

    @abstractmethod
    def up_to_date(self, applied: Any) -> bool:
        """Whether planning can tell that nothing after `applied` exists (metadata only)."""

    @abstractmethod
    def next(self, applied: Any) -> tuple[Any, Any] | None:
        """The snapshot after version `applied` (None: the first), and its version."""

    @abstractmethod
    def at(self, version: Any, previous: Any) -> Any:
        """The snapshot recorded as `version` (after `previous`), for a rerun."""

    def for_run(self, ctx: FlowContext) -> Snapshots:
        """These snapshots as the flow's run reads them (a view is bound to the run's tables)."""
        return self


class TableSnapshots(Snapshots):
    def __init__(self, name: str, location: Location, *, internal: bool) -> None:
        self.name = name
        self.location = location
        self.internal = internal
        self.identity = table_id(location)
        self.reason = (f"the snapshot of '{name}' after the flows upstream write it" if internal
                       else f"the snapshot of '{name}'")
        self._spark: Any = None

    def bind(self, spark: Any) -> TableSnapshots:
        self._spark = spark
        return self

    def up_to_date(self, applied: Any) -> bool:
        # A pipeline table's version is known only when the flows upstream have written.
        return not self.internal and applied is not None \
            and latest_version(self.location) == applied

    def next(self, applied: Any) -> tuple[Any, Any] | None:
        version = latest_version(self.location)
        if version is None or version == applied:
            return None
        return self.at(version, applied), version

    def at(self, version: Any, previous: Any) -> Any:
        return self._spark.read.format("delta").option("versionAsOf", int(version)) \
            .load(engine_path(self.location))


class ViewSnapshots(Snapshots):
    """A temporary view: one snapshot per update, its result then, numbered 1, 2, ... Before the
    batch is recorded the rows are copied into the flow's checkpoint (`copy`, a Delta table whose
    commit names the version), so a rerun after a crash applies the rows the first run read, not
    the view's result at the rerun."""

    def __init__(self, name: str, copy: Location) -> None:
        self.name = name
        self.copy = copy
        self.reason = f"a snapshot of view '{name}'"
        self._ctx: FlowContext | None = None

    def for_run(self, ctx: FlowContext) -> ViewSnapshots:
        self._ctx = ctx
        return self

    def up_to_date(self, applied: Any) -> bool:
        return False  # only computing the view tells whether it changed

    def next(self, applied: Any) -> tuple[Any, Any] | None:
        assert self._ctx is not None, "ViewSnapshots.for_run() first"
        ctx = self._ctx
        version = 1 if applied is None else int(applied) + 1
        binder = ctx.binder
        rows = binder.rewriter.dataframe(binder.prepare(relation_of(
            ctx.spark.read.table(self.name))))
        write_delta(rows, self.copy, mode="overwrite",
                    user_metadata=json.dumps({VERSION_KEY: version}))
        drop_replaced_files(self.copy)
        return self.at(version, applied), version

    def at(self, version: Any, previous: Any) -> Any:
        assert self._ctx is not None, "ViewSnapshots.for_run() first"
        table = open_table(self.copy)
        found = None
        for commit in table.history(5) if table is not None else []:  # after it: a vacuum's
            metadata = commit.get("userMetadata")
            if metadata and VERSION_KEY in metadata:
                found = json.loads(metadata).get(VERSION_KEY)
                break
        if found != version:
            raise LakesmithError(
                f"The copy of snapshot {version} of view '{self.name}' at {self.copy} is missing "
                f"(found: {found}); the checkpoint cannot be trusted.",
                hint="run a full refresh of the flow's target to start from a new snapshot.")
        return self._ctx.spark.read.format("delta").load(engine_path(self.copy))


class FunctionSnapshots(Snapshots):
    many_per_update = True

    def __init__(self, flow: AutoCdcSnapshotFlow) -> None:
        assert callable(flow.source)
        self.flow = flow
        self.function = flow.source
        self.reason = f"snapshots from {getattr(flow.source, '__name__', 'the function')}()"

    def up_to_date(self, applied: Any) -> bool:
        return False  # only calling the function tells

    def next(self, applied: Any) -> tuple[Any, Any] | None:
        found = self._call(applied)
        if found is None:
            return None
        snapshot, version = found
        if applied is not None and not _after(version, applied):
            raise LakesmithError(
                f"AUTO CDC flow '{self.flow.name}': {self._name}({applied!r}) returned version "
                f"{version!r}, which is not after the version applied last ({applied!r}).",
                hint="the function must return snapshots in increasing version order, and None "
                     "when there is no snapshot after the version it is given.")
        return snapshot, version

    def at(self, version: Any, previous: Any) -> Any:
        found = self._call(previous)
        if found is None or found[1] != version:
            got = "None" if found is None else f"version {found[1]!r}"
            raise LakesmithError(
                f"AUTO CDC flow '{self.flow.name}': an interrupted batch applied version "
                f"{version!r}, but {self._name}({previous!r}) now returns {got}.",
                hint="the function must return the same snapshot for the same version each "
                     "time it is called; restore it, or run a full refresh of the target.")
        return found[0]

    @property
    def _name(self) -> str:
        return getattr(self.function, "__name__", "next_snapshot_and_version")

    def _call(self, applied: Any) -> tuple[Any, Any] | None:
        try:
            found = self.function(applied)
        except Exception as e:  # user code: report it against the line that raised
            files = {inspect.getsourcefile(self.function) or ""}
            where = user_location(e, files, self.flow.location)
            raise LakesmithError(
                f"AUTO CDC flow '{self.flow.name}': {self._name}({applied!r}) raised an error at "
                f"{where}: {describe(e)}") from e
        if found is None:
            return None
        if not isinstance(found, tuple) or len(found) != 2 or not hasattr(found[0], "columns"):
            raise LakesmithError(
                f"AUTO CDC flow '{self.flow.name}': {self._name}({applied!r}) returned "
                f"{type(found).__name__}; it must return (DataFrame, version) or None.")
        version = found[1]
        if isinstance(version, bool) or not isinstance(version, (int, float, str)):
            raise LakesmithError(
                f"AUTO CDC flow '{self.flow.name}': {self._name}({applied!r}) returned version "
                f"{version!r}; a version must be a number or a string (it is recorded in the "
                "checkpoint and passed back to the function).")
        return found[0], version


def snapshots_for(workspace: Workspace, flow: ResolvedFlow) -> Snapshots:
    cdc = flow.flow
    assert isinstance(cdc, AutoCdcSnapshotFlow)
    if cdc.source_name is None:
        return FunctionSnapshots(cdc)
    graph = workspace.graph
    name = graph.names.qualify(cdc.source_name)
    internal = name in graph.datasets
    if internal and graph.kind(name) == DatasetKind.TEMPORARY_VIEW:
        return ViewSnapshots(cdc.source_name,
                             workspace.checkpoint(flow).state_location(VIEW_COPY))
    if internal and not graph.kind(name).is_stored:
        raise NotSupportedYet(
            f"AUTO CDC flow '{cdc.name}' (at {cdc.location}): its source '{cdc.source_name}' is "
            f"a {graph.kind(name).label}; snapshots are read from tables and temporary views "
            "only in lakesmith yet. Read from a table, or pass a function "
            "next_snapshot_and_version.")
    location = workspace.catalog.location(name)
    if not internal and not is_delta_table(location):
        raise LakesmithError(
            f"AUTO CDC flow '{cdc.name}' (at {cdc.location}): source '{cdc.source_name}' is not "
            f"a Delta table at {location}; snapshots are read from Delta tables (their versions "
            "say when a new snapshot exists).")
    return TableSnapshots(cdc.source_name, location, internal=internal).bind(workspace.spark)


def _after(version: Any, applied: Any) -> bool:
    try:
        return bool(version > applied)
    except TypeError:
        return False
