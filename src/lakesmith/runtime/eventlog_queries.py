"""Reading the event log back for `lakesmith runs`, `events` and `quality`.

The log is lakesmith's own metadata (a few rows per flow and update), read with delta-rs; the
pipeline's table data is never involved.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lakesmith.errors import LakesmithError, UsageError
from lakesmith.files import store_for
from lakesmith.locations import Location
from lakesmith.runtime.storage import EVENT_LOG, UNWRITTEN_EVENTS
from lakesmith.tables.delta import open_table

logger = logging.getLogger("lakesmith")


def read_events(storage: Location, event_type: str | None = None) -> list[dict[str, Any]]:
    """Every event (or every one of `event_type`), oldest first: the event log's, and those kept
    aside while it could not be written (a corrupt log warns; it never hides the updates that
    ran)."""
    rows: list[dict[str, Any]] = []
    location = storage.join(*EVENT_LOG)
    try:
        table = open_table(location)
        if table is not None:
            events = pa.table(table.to_pyarrow_table())
            if event_type is not None:
                events = events.filter(pc.field("event_type") == event_type)
            rows = events.to_pylist()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # delta-rs panics are BaseExceptions, too
        logger.warning("The event log at %s cannot be read (%s); showing the events kept "
                       "aside only.", location, str(e).splitlines()[0] if str(e) else e)
    rows += [e for e in _unwritten_events(storage)
             if event_type is None or e["event_type"] == event_type]
    rows.sort(key=lambda r: (r["sequence"]["control_plane_seq_no"], r["timestamp"]))
    for row in rows:
        row["details_json"] = json.loads(row["details"]) if row["details"] else {}
    return rows


def _unwritten_events(storage: Location) -> list[dict[str, Any]]:
    folder = storage.join(*UNWRITTEN_EVENTS)
    store = store_for(folder)
    events: list[dict[str, Any]] = []
    for entry in sorted(store.list(folder), key=lambda e: e.name):
        if entry.is_dir or not entry.name.endswith(".jsonl"):
            continue
        for line in (store.read(folder.join(entry.name)) or b"").splitlines():
            if line.strip():
                event = json.loads(line)
                event["timestamp"] = datetime.fromisoformat(event["timestamp"])
                events.append(event)
    return events


@dataclass
class UpdateSummary:
    update_id: str
    state: str = "UNKNOWN"
    started: datetime | None = None
    ended: datetime | None = None
    rows_written: int = 0
    failed_flows: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.started is None or self.ended is None:
            return None
        return (self.ended - self.started).total_seconds()


FINAL_STATES = ("COMPLETED", "FAILED", "CANCELED")
KILLED = "KILLED"


def updates(events: list[dict[str, Any]], *, running: bool = False) -> list[UpdateSummary]:
    """One summary per update, oldest first. An update without a final state whose process is
    gone (a later update started, or, for the newest, no process holds the pipeline's lock:
    `running` is False) was killed: it is shown as KILLED, not as running forever."""
    summaries: dict[str, UpdateSummary] = {}
    for event in events:
        update_id = event["origin"]["update_id"]
        summary = summaries.setdefault(update_id, UpdateSummary(update_id))
        details = event["details_json"]
        if event["event_type"] == "create_update" or summary.started is None:
            summary.started = summary.started or event["timestamp"]
        if event["event_type"] == "update_progress":
            summary.state = details["update_progress"]["state"]
            summary.ended = event["timestamp"]
            if event["error"]:
                summary.error = event["message"]
        elif event["event_type"] == "flow_progress":
            progress = details["flow_progress"]
            if progress["status"] == "COMPLETED":
                summary.rows_written += progress.get("metrics", {}).get("num_output_rows") or 0
            elif progress["status"] == "FAILED":
                summary.failed_flows.append(event["origin"]["flow_name"])
    result = list(summaries.values())
    for i, summary in enumerate(result):
        newest = i == len(result) - 1
        if summary.state not in FINAL_STATES and (not newest or not running):
            summary.state = KILLED
            summary.error = "the process ended without finishing the update (killed)"
    return result


def resolve_updates(events: list[dict[str, Any]], update_id: str | None, last: int = 1
                    ) -> list[str]:
    """One update from an id prefix, else the newest `last` updates, oldest first."""
    if update_id is not None:
        return [resolve_update(events, update_id)]
    resolve_update(events, None)  # refuses an empty log
    return [u.update_id for u in updates(events)][-last:]


def resolve_update(events: list[dict[str, Any]], update_id: str | None) -> str:
    """An update id from a prefix, or the latest update when None."""
    ids = [u.update_id for u in updates(events)]
    if not ids:
        raise LakesmithError("The event log is empty: the pipeline has not run yet.")
    if update_id is None:
        return ids[-1]
    matches = [i for i in ids if i.startswith(update_id)]
    if len(matches) != 1:
        raise UsageError(
            f"Update '{update_id}' " + ("matches several updates." if matches else "not found."),
            hint="`lakesmith runs` lists the updates.")
    return matches[0]


@dataclass(frozen=True)
class ExpectationQuality:
    update_id: str
    dataset: str
    expectation: str
    action: str  # warn, drop or fail (as the update defined it), "?" when not recorded
    passed: int
    failed: int

    @property
    def pass_rate(self) -> float:
        total = self.passed + self.failed
        return self.passed / total if total else 1.0


def quality(events: list[dict[str, Any]], update_id: str) -> list[ExpectationQuality]:
    """Passed and failed records of each expectation in one update, summed over its flows, with
    the rule's action from the update's definitions: a flow's own rules (an append flow's, in its
    `flow_definition`) first, then its target's (`dataset_definition`). Rules of one name with
    different actions (on two flows into one dataset) are reported apart."""
    totals: dict[tuple[str, str, str], list[int]] = {}
    dataset_actions: dict[tuple[str, str], str] = {}
    flow_actions: dict[tuple[str, str], str] = {}
    progress: list[dict[str, Any]] = []
    for event in events:
        if event["origin"]["update_id"] != update_id:
            continue
        kind = event["event_type"]
        if kind == "dataset_definition":
            _record_actions(dataset_actions, event["origin"]["dataset_name"],
                            event["details_json"]["dataset_definition"])
        elif kind == "flow_definition":
            _record_actions(flow_actions, event["origin"]["flow_name"],
                            event["details_json"]["flow_definition"])
        elif kind == "flow_progress":
            progress.append(event)
    for event in progress:
        flow = event["origin"]["flow_name"]
        data_quality = event["details_json"]["flow_progress"].get("data_quality") or {}
        for entry in data_quality.get("expectations", []):
            dataset, name = entry["dataset"], entry["name"]
            action = flow_actions.get((flow, name)) or dataset_actions.get((dataset, name), "?")
            counts = totals.setdefault((dataset, name, action), [0, 0])
            counts[0] += entry["passed_records"]
            counts[1] += entry["failed_records"]
    return [ExpectationQuality(update_id, dataset, name, action, passed, failed)
            for (dataset, name, action), (passed, failed) in totals.items()]


def _record_actions(actions: dict[tuple[str, str], str], owner: str,
                    definition: dict[str, Any]) -> None:
    for rule in definition.get("expectations", []):
        actions[(owner, rule["name"])] = _ACTIONS.get(rule["action"], rule["action"].lower())


# The event log's action names (Databricks') in the words of the decorators.
_ACTIONS = {"ALLOW": "warn", "DROP": "drop", "FAIL": "fail"}
