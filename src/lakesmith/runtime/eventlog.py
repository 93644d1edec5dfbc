"""The pipeline event log: a Delta table at `<storage>/system/events` with the columns and event
types Databricks documents, so the queries people run against a Databricks pipeline's event log
run here too (through `lakesmith sql`, where the table is `event_log`).

The log is lakesmith's own metadata, written by delta-rs from the control plane (no engine round
trip). Events are buffered: they are written as soon as the update writes data (`work_begins`:
its engine starts, so a crash from then on still leaves the update in the log), else a second
after it starts running; then at most once a second (when a flow finishes), and when it ends. An
update with nothing new (it never starts the engine, and ends in about 0.1 s) costs one commit,
not two. Only the last write is made by the thread that reports the update's end: the others are
handed to a writer thread, which also loads the log's table as the update starts running, so no
flow (and no flow waiting for it) waits for a commit of the log, and the last write does not wait
for a load of it either.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from lakesmith.files import store_for
from lakesmith.graph.expectations import Expectation
from lakesmith.graph.flows import QueryFlow
from lakesmith.graph.graph import DataflowGraph, ResolvedFlow
from lakesmith.graph.model import DatasetKind, ExpectationAction, Table
from lakesmith.locations import Location
from lakesmith.runtime.events import IDLE, FlowMetrics, FlowStatus, UpdateState
from lakesmith.runtime.plan import UpdatePlan
from lakesmith.runtime.refresh.planning import PLANNING
from lakesmith.runtime.storage import PipelineStorage
from lakesmith.tables.delta import DeltaLog
from lakesmith.tables.logs_ahead import take
from lakesmith.tables.maintenance import maintain_if_due

logger = logging.getLogger("lakesmith")

FLUSH_INTERVAL_SECONDS = 1.0

ORIGIN = pa.struct([
    ("pipeline_id", pa.string()), ("pipeline_name", pa.string()), ("update_id", pa.string()),
    ("flow_id", pa.string()), ("flow_name", pa.string()), ("dataset_name", pa.string()),
    ("table_name", pa.string()), ("batch_id", pa.int64()), ("host", pa.string()),
])
ERROR = pa.struct([
    ("fatal", pa.bool_()),
    ("exceptions", pa.list_(pa.struct([("class_name", pa.string()), ("message", pa.string())]))),
])
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("sequence", pa.struct([("control_plane_seq_no", pa.int64())])),
    ("origin", ORIGIN),
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("message", pa.string()),
    ("level", pa.string()),
    ("maturity_level", pa.string()),
    ("error", ERROR),
    ("details", pa.string()),
    ("event_type", pa.string()),
])

_FLOW_TYPES = {DatasetKind.MATERIALIZED_VIEW: "COMPLETE", DatasetKind.STREAMING_TABLE: "APPEND",
               DatasetKind.TEMPORARY_VIEW: "VIEW", DatasetKind.PERSISTED_VIEW: "VIEW",
               DatasetKind.SINK: "APPEND"}


class EventLog:
    """An UpdateListener that records one update's events."""

    _sequence = itertools.count()

    def __init__(self, storage: PipelineStorage, update_id: str, graph: DataflowGraph,
                 plan: UpdatePlan, *, continuous: bool = False,
                 started_at: datetime | None = None, flushed_by_caller: bool = False) -> None:
        """`flushed_by_caller`: the caller calls `flush()` once the update has ended (after
        maintenance, which runs meanwhile), so a completed update's last write is handed to the
        writer thread instead of made before `update_progress` returns."""
        self.storage = storage
        self.location = storage.events
        self._fallback: Location | None = None
        self.pipeline_name = storage.pipeline_name
        self.pipeline_id = storage.pipeline_id()
        self.update_id = update_id
        self.graph = graph
        self.plan = plan
        self.continuous = continuous
        # When the update began initializing: its create_update and INITIALIZING events carry
        # it, though they are written once the plan they describe is known.
        self.started_at = started_at
        self._events: list[dict[str, Any]] = []
        # The log's Delta table, loaded at the first flush and written through (delta-rs then
        # advances it in place): an update's two commits do not each load the log twice.
        self._log = DeltaLog(self.location, loaded=take(self.location))
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._running_reported: set[str] = set()
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        self._last_flush = 0.0
        self._base_sequence = time.time_ns() // 1000
        self._writer: ThreadPoolExecutor | None = None
        self._queued: Future[None] | None = None  # a write handed to the writer, not started
        self._handed: list[Future[None]] = []
        self._ended = threading.Event()  # the update ended: its last write takes every event
        self._wake = threading.Event()  # the first write, waiting: the update ended or writes data
        self._flushed_by_caller = flushed_by_caller

    # -- UpdateListener --------------------------------------------------------------------------

    def update_progress(self, state: UpdateState, error: BaseException | None = None) -> None:
        if state == UpdateState.INITIALIZING:
            self._create_update()
        level = "ERROR" if state == UpdateState.FAILED else "INFO"
        message = f"Update {self.update_id[:8]} is {state.value}."
        if error is not None and state == UpdateState.FAILED:
            message = f"Update {self.update_id[:8]} is FAILED: {_first_line(error)}"
        self._emit("update_progress", {"update_progress": {"state": state.value}}, message,
                   level=level, error=error, fatal=state == UpdateState.FAILED,
                   timestamp=self.started_at if state == UpdateState.INITIALIZING else None)
        if state == UpdateState.RUNNING:
            self._flush_soon(delay=FLUSH_INTERVAL_SECONDS)
        elif state == UpdateState.COMPLETED and self._flushed_by_caller:
            self._end()
            self._flush_soon()
        elif state in (UpdateState.COMPLETED, UpdateState.FAILED, UpdateState.CANCELED):
            self._end()
            try:
                self.flush()
            finally:
                self._stop_writer()

    def work_begins(self) -> None:
        """The update is about to write data (its engine starts): the events so far are written
        now rather than a second after it started running."""
        self._wake.set()

    def _end(self) -> None:
        self._ended.set()
        self._wake.set()

    def flow_progress(self, flow: ResolvedFlow, status: FlowStatus,
                      metrics: FlowMetrics | None = None,
                      error: BaseException | None = None) -> None:
        if self.continuous and not status.is_final:
            # Held until the flow's cycle ends: an idle cycle is not recorded at all.
            with self._lock:
                self._pending.setdefault(flow.name, []).append((flow, status, metrics, error))
            return
        if self.continuous:
            with self._lock:
                held = self._pending.pop(flow.name, [])
            if status == FlowStatus.COMPLETED and metrics is not None \
                    and metrics.details.get(IDLE):
                return
            for event in held:
                self._flow_event(*event)
        self._flow_event(flow, status, metrics, error)

    def _flow_event(self, flow: ResolvedFlow, status: FlowStatus,
                    metrics: FlowMetrics | None = None,
                    error: BaseException | None = None) -> None:
        planning = metrics.details.get(PLANNING) if metrics is not None else None
        if planning is not None and not status.is_final:
            self._emit("planning_information", planning.to_event(), planning.message(),
                       flow=flow)
            return
        if status == FlowStatus.RUNNING:
            if flow.name in self._running_reported:
                return  # per-batch progress is summed into the final event
            self._running_reported.add(flow.name)
        if status.is_final:
            self._running_reported.discard(flow.name)
        progress: dict[str, Any] = {"status": status.value}
        if status == FlowStatus.COMPLETED and metrics is not None:
            progress["metrics"] = _metrics(metrics)
            quality = metrics.details.get("data_quality")
            if quality is not None:
                progress["data_quality"] = quality.to_event()
        level = "ERROR" if status == FlowStatus.FAILED else "INFO"
        if status == FlowStatus.COMPLETED and "data_quality" in progress and any(
                e["failed_records"] for e in progress["data_quality"]["expectations"]):
            level = "WARN"
        message = f"Flow '{flow.name}' is {status.value}."
        if error is not None:
            message = f"Flow '{flow.name}' has FAILED: {_first_line(error)}"
        self._emit("flow_progress", {"flow_progress": progress}, message, level=level,
                   error=error, flow=flow)
        if status.is_final and time.monotonic() - self._last_flush >= FLUSH_INTERVAL_SECONDS:
            self._flush_soon()

    def maintenance(self, dataset: str, table: str, operation: str, reason: str,
                    metrics: dict[str, Any], error: str | None = None) -> None:
        """A maintenance operation predictive optimization ran on a table, and why."""
        message = f"Maintenance of '{dataset}': {operation} because {reason}."
        if error is not None:
            message = f"Maintenance of '{dataset}': {operation} failed: {error}"
        self._emit("maintenance", {"maintenance": {
            "operation": operation, "reason": reason, "metrics": metrics, "error": error}},
            message, level="WARN" if error else "INFO", dataset=dataset, table=table)

    def lock_taken_over(self, message: str) -> None:
        self._emit("lock_takeover", {"lock_takeover": {"message": message}}, message,
                   level="WARN")

    # -- definitions -------------------------------------------------------------------------

    def definitions(self, schemas: dict[str, Any]) -> None:
        """dataset_definition and flow_definition events, once per update, after analysis."""
        for name, dataset in self.graph.datasets.items():
            expectations = _expectations(dataset.expectations)
            self._emit("dataset_definition", {"dataset_definition": {
                "dataset_type": "VIEW" if dataset.kind.is_view else "TABLE",
                "dataset_kind": dataset.kind.value.upper(),
                "num_flows": len(self.graph.flows_into(name)),
                "expectations": expectations,
                "comment": dataset.comment,
                "partition_columns": list(dataset.partition_cols)
                if isinstance(dataset, Table) else [],
                "table_properties": dict(dataset.table_properties)
                if isinstance(dataset, Table) else {},
            }}, f"Dataset '{dataset.name}' defined as a {dataset.kind.label}.",
                dataset=dataset.name, table=str(name))
        for flow in self.graph.flows:
            schema = schemas.get(flow.name)
            self._emit("flow_definition", {"flow_definition": {
                "output_dataset": self.graph.dataset(flow.target).name,
                "input_datasets": sorted({self.graph.dataset(i.dataset).name
                                          for i in flow.inputs if i.dataset is not None}),
                "flow_type": "CHANGE" if flow.is_auto_cdc else _FLOW_TYPES.get(
                    self.graph.kind(flow.target), "COMPLETE"),
                "streaming": flow.streaming,
                "schema": [{"name": f.name, "data_type": f.dataType.simpleString(),
                            "nullable": f.nullable} for f in schema.fields] if schema else [],
                "source_code_location": str(flow.flow.location),
                # Rules declared on this flow only (an append flow's); the target's own rules
                # are in its dataset_definition.
                "expectations": _expectations(
                    flow.flow.expectations if isinstance(flow.flow, QueryFlow) else ()),
            }}, f"Flow '{flow.name}' defined, writing to '{self.graph.dataset(flow.target).name}'.",
                flow=flow)

    # -- writing -----------------------------------------------------------------------------

    def _create_update(self) -> None:
        plan = self.plan
        names = self.graph.dataset
        self._emit("create_update", {"create_update": {
            "cause": "USER_ACTION",
            "full_refresh": plan.full_refresh_all,
            "full_refresh_selection": sorted(names(n).name for n in plan.full_refresh)
            if not plan.full_refresh_all else [],
            "refresh_selection": sorted({names(p.flow.target).name for p in plan.flows}
                                        - {names(n).name for n in plan.full_refresh})
            if plan.excluded else [],
            "continuous": self.continuous,
            "engine": "lakesmith",
            "plan": plan.to_event(),
        }}, f"Update {self.update_id[:8]} started by USER_ACTION.", timestamp=self.started_at)

    def _emit(self, event_type: str, details: dict[str, Any], message: str, *,
              level: str = "INFO", error: BaseException | None = None, fatal: bool = False,
              flow: ResolvedFlow | None = None, dataset: str | None = None,
              table: str | None = None, timestamp: datetime | None = None) -> None:
        if flow is not None:
            dataset = self.graph.dataset(flow.target).name
            table = str(flow.target)
        event = {
            "id": str(uuid.uuid4()),
            "sequence": {"control_plane_seq_no": self._base_sequence + next(self._sequence)},
            "origin": {"pipeline_id": self.pipeline_id, "pipeline_name": self.pipeline_name,
                       "update_id": self.update_id,
                       "flow_id": None if flow is None else str(uuid.uuid5(
                           uuid.NAMESPACE_URL, f"{self.pipeline_id}/{flow.name}")),
                       "flow_name": None if flow is None else flow.name,
                       "dataset_name": dataset, "table_name": table, "batch_id": None,
                       "host": None},
            "timestamp": timestamp or datetime.now(timezone.utc),
            "message": message,
            "level": level,
            "maturity_level": "STABLE",
            "error": None if error is None else {
                "fatal": fatal or isinstance(error, KeyboardInterrupt),
                "exceptions": [{"class_name": type(error).__name__, "message": str(error)}]},
            "details": json.dumps(details, default=str),
            "event_type": event_type,
        }
        with self._lock:
            self._events.append(event)

    def _flush_soon(self, delay: float = 0.0) -> None:
        """Write the buffered events on the writer thread (one write queued at a time: a later
        request is served by the queued one, which takes every event buffered when it starts);
        after `delay` seconds or once the update writes data, unless it ends first (its last
        write takes them)."""
        with self._lock:
            self._last_flush = time.monotonic()
            if self._queued is not None and not self._queued.running() \
                    and not self._queued.done():
                return
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="event-log")
            self._queued = self._writer.submit(self._write_after, delay)
            self._handed.append(self._queued)

    def _write_after(self, delay: float) -> None:
        if delay > 0:
            self._load_log()
            self._wake.wait(delay)
            if self._ended.is_set():
                return  # the update's last write takes these events
        self._write_buffered()

    def _load_log(self) -> None:
        """The log's table loaded ahead of its first write, off the update's path. A log that
        cannot be loaded is left to that write, which keeps the events elsewhere and says why."""
        if self._fallback is not None:
            return
        try:
            self._log.table()
        except Exception as e:  # delta-rs: a damaged or unreachable log
            logger.debug("event log at %s not loaded ahead of its write: %s", self.location, e)

    def _stop_writer(self) -> None:
        """The update ended: later events (maintenance) are written by `flush` directly."""
        with self._lock:
            writer, self._writer, self._queued = self._writer, None, None
        if writer is not None:
            writer.shutdown(wait=True)

    def flush(self) -> None:
        """Write every event reported so far, in order, and return when they are written: the
        writes handed to the writer thread first (their failures raised here), then the rest."""
        with self._lock:
            handed, self._handed = self._handed, []
        try:
            for future in handed:
                future.result()
            self._write_buffered()
        finally:
            if self._ended.is_set():
                self._stop_writer()

    def _write_buffered(self) -> None:
        from deltalake import write_deltalake

        with self._write_lock:
            with self._lock:
                events, self._events = self._events, []
            self._last_flush = time.monotonic()
            if not events:
                return
            if self._fallback is None:
                try:
                    table = self._log.table()  # None until the log's first commit
                    write_deltalake(self.location.delta_uri() if table is None else table,
                                    pa.Table.from_pylist(events, schema=SCHEMA), mode="append",
                                    storage_options=self.location.storage_options() or None)
                    version = self._log.version() if table is None else table.version()
                    if version is not None:
                        maintain_if_due(self.location, version, compact=True)
                    return
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as e:  # delta-rs panics are BaseExceptions, too
                    self._fallback = self.storage.unwritten_events(self.update_id)
                    logger.warning(
                        "The event log at %s cannot be written (%s); this update's events are "
                        "kept in %s instead. Repair or move the event log to write there again.",
                        self.location, _first_line(e), self._fallback)
            self._write_fallback(events)

    def _write_fallback(self, events: list[dict[str, Any]]) -> None:
        """An auxiliary log must never block the pipeline: events go to a JSON-lines file."""
        assert self._fallback is not None
        store = store_for(self._fallback)
        earlier = store.read(self._fallback) or b""
        lines = b"".join(json.dumps(e, default=str).encode() + b"\n" for e in events)
        store.write(self._fallback, earlier + lines)


def _metrics(metrics: FlowMetrics) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if metrics.num_output_rows is not None:
        result["num_output_rows"] = metrics.num_output_rows
    if "num_input_rows" in metrics.details:
        result["num_input_rows"] = metrics.details["num_input_rows"]
        result["num_batches"] = metrics.batches
    # AUTO CDC flows (the versions: SCD type 2)
    for key in ("num_upserted_rows", "num_deleted_rows", "num_versions_opened",
                "num_versions_closed"):
        if key in metrics.details:
            result[key] = metrics.details[key]
    if metrics.source_versions:
        result["source_versions"] = metrics.source_versions
    if "stateOperators" in metrics.details:  # Spark's names, as in a streaming query's progress
        result["stateOperators"] = metrics.details["stateOperators"]
    sources = metrics.details.get("sources")
    if sources:
        # Databricks' backlog metrics, and Spark's per-source progress.
        result["backlog_files"] = sum(s.get("numFilesOutstanding", 0) for s in sources.values())
        result["backlog_bytes"] = sum(s.get("numBytesOutstanding", 0) for s in sources.values())
        result["sources"] = sources
    result["duration_ms"] = int(metrics.duration_seconds * 1000)
    return result


def _expectations(rules: Iterable[Expectation]) -> list[dict[str, str]]:
    return [{"name": e.name, "condition": e.condition, "action": _action(e.action)}
            for e in rules]


def _action(action: ExpectationAction) -> str:
    return {"warn": "ALLOW", "drop": "DROP", "fail": "FAIL"}[action.value]


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
