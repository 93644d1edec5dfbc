"""A pipeline's `storage`: its identity, its flows' checkpoints, its event log and its lock.

Storage belongs to one pipeline: `pipeline.json` records which, and a second pipeline pointed at
the same storage is refused (it would otherwise share, and corrupt, the first one's checkpoints).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lakesmith.errors import LakesmithError
from lakesmith.files import store_for
from lakesmith.graph.identifiers import TableName
from lakesmith.locations import Location, folder_name
from lakesmith.runtime.lock import PipelineLock, pipeline_lock

PIPELINE_FILE = "pipeline.json"
TABLE_LOCATIONS_FILE = "table_locations.json"
DELTA_LOGS_FILE = "delta_logs.json"
CHECKPOINTS = "checkpoints"
RESET_MARKER = "_reset_pending"
EVENT_LOG = ("system", "events")
UNWRITTEN_EVENTS = ("system", "events-unwritten")


class StorageMismatch(LakesmithError):
    """The storage belongs to another pipeline, or is not a folder."""


@dataclass(frozen=True)
class PipelineStorage:
    location: Location
    pipeline_name: str

    @property
    def events(self) -> Location:
        return self.location.join(*EVENT_LOG)

    def unwritten_events(self, update_id: str) -> Location:
        """Where an update's events go when the event log cannot be written (JSON lines)."""
        return self.location.join(*UNWRITTEN_EVENTS, f"{update_id}.jsonl")

    @property
    def unwritten_events_folder(self) -> Location:
        return self.location.join(*UNWRITTEN_EVENTS)

    @property
    def checkpoints(self) -> Location:
        return self.location.join(CHECKPOINTS)

    def table_checkpoints(self, table: TableName) -> Location:
        """The folder of one table's flow checkpoints (and its reset marker)."""
        return self.checkpoints.join(folder_name(".".join(table.key)))

    def reset_marker(self, table: TableName) -> Location:
        """Present while a full refresh of `table` is under way (see `tables_setup`)."""
        return self.table_checkpoints(table).join(RESET_MARKER)

    def reset_pending(self, table: TableName) -> bool:
        marker = self.reset_marker(table)
        return store_for(marker).exists(marker)

    def flow_checkpoint(self, table: TableName, flow: str) -> Location:
        return self.table_checkpoints(table).join(folder_name(flow))

    @property
    def table_locations_file(self) -> Location:
        return self.location.join(TABLE_LOCATIONS_FILE)

    def record_table_locations(self, locations: Mapping[TableName, Location]) -> None:
        """Remember where the tables stored outside the warehouse are (a definition's `path` /
        `LOCATION`): a session opened without loading the pipeline's sources finds them by
        name. Written only when it changes."""
        target = self.table_locations_file
        store = store_for(target)
        text = json.dumps([[*name.parts, location.uri] for name, location in
                           sorted(locations.items(), key=lambda item: item[0].key)]).encode()
        if (store.read(target) or b"[]") != text:
            store.write(target, text)

    def table_locations(self) -> dict[TableName, str]:
        """The recorded locations (URIs) of tables stored outside the warehouse."""
        data = store_for(self.table_locations_file).read(self.table_locations_file)
        return {TableName(catalog, schema, table): uri
                for catalog, schema, table, uri in json.loads(data or b"[]")}

    @property
    def delta_logs_file(self) -> Location:
        return self.location.join(DELTA_LOGS_FILE)

    def record_delta_logs(self, locations: Iterable[Location]) -> None:
        """Remember the Delta tables an update read (its tables, its checkpoints' state tables,
        the event log): the next command loads their logs ahead, while it is still starting
        (`tables/logs_ahead.py`). Written only when it changes."""
        target = self.delta_logs_file
        store = store_for(target)
        text = json.dumps(sorted({location.uri for location in locations})).encode()
        if (store.read(target) or b"[]") != text:
            store.write(target, text)

    def delta_logs(self) -> list[Location]:
        """The Delta tables the last update read (recorded by `record_delta_logs`)."""
        data = store_for(self.delta_logs_file).read(self.delta_logs_file)
        return [Location.parse(uri, options=self.location.options)
                for uri in json.loads(data or b"[]")]

    def lock(self) -> PipelineLock:
        self.check_is_folder()
        return pipeline_lock(self.location, self.pipeline_name)

    def check_is_folder(self) -> None:
        if self.location.is_local and self.location.local_path.is_file():
            raise StorageMismatch(
                f"The pipeline's storage {self.location} is a file; storage must be a folder.",
                hint="point `storage` in spark-pipeline.yml at a folder (it is created if "
                "missing).")

    def pipeline_id(self) -> str:
        """The pipeline's id, created with its storage; refuses storage of another pipeline."""
        self.check_is_folder()
        location = self.location.join(PIPELINE_FILE)
        store = store_for(location)
        data = store.read(location)
        if data is None:
            identity = {"id": str(uuid.uuid4()), "name": self.pipeline_name,
                        "created": time.time()}
            if store.create(location, json.dumps(identity).encode()) is not None:
                return str(identity["id"])
            data = store.read(location) or b"{}"
        try:
            recorded = json.loads(data)
            name, identifier = str(recorded["name"]), str(recorded["id"])
        except (ValueError, KeyError, TypeError) as e:
            raise StorageMismatch(
                f"The pipeline identity file {location} is unreadable ({e}).",
                hint="restore it, or delete it if this storage belongs to this pipeline only.") \
                from e
        if name != self.pipeline_name:
            raise StorageMismatch(
                f"The storage {self.location} belongs to pipeline '{name}' (id {identifier}), "
                f"not to '{self.pipeline_name}'; two pipelines sharing storage would share, and "
                "corrupt, each other's checkpoints.",
                hint="give each pipeline its own `storage` in spark-pipeline.yml (or, if the "
                "pipeline was renamed, put its new name in " + str(location) + ").")
        return identifier
