"""The checkpoint of one flow: its identity, its offset and commit logs, and its state tables.

```
<storage>/checkpoints/<table>/<flow>/
    metadata.json      format, id, flow, table, and the id of the Delta table it writes
    offsets/N          what batch N reads (OffsetRecord)
    commits/N          batch N is done (CommitRecord)
    state/<operator>/  Delta tables of stateful operators
```

The id is in every marker the flow writes to its tables, so a table tells which checkpoint wrote
each batch; a full refresh starts a new checkpoint with a new id.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from lakesmith.files import store_for
from lakesmith.locations import Location, folder_name
from lakesmith.runtime.checkpoint.log import DEFAULT_BATCHES_TO_RETAIN, BatchLog
from lakesmith.runtime.checkpoint.records import (
    BATCH,
    FORMAT,
    CheckpointError,
    CommitRecord,
    Marker,
    OffsetRecord,
    dumps,
)

METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class CheckpointMetadata:
    id: str
    flow: str  # normalized (lower-case) flow name
    table: str  # normalized target table name
    target_table_id: str | None
    format: int = FORMAT

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "id": self.id, "flow": self.flow, "table": self.table,
                "target_table_id": self.target_table_id, "created": time.time()}


class Checkpoint:
    def __init__(self, location: Location, *, flow: str, table: str, display_table: str,
                 retain: int = DEFAULT_BATCHES_TO_RETAIN) -> None:
        self.location = location
        self.flow = flow.lower()
        self.table = table.lower()
        self.display_table = display_table  # as the user wrote it, for messages
        self.retain = retain
        self.store = store_for(location)
        reset = f"run a full refresh of '{display_table}' (--full-refresh {display_table}) to " \
                "rebuild it from its sources with a new checkpoint."
        self.reset_hint = reset
        self.offsets: BatchLog[OffsetRecord] = BatchLog(
            self.store, location.join("offsets"), OffsetRecord.from_json,
            what=f"offsets of flow '{flow}'", hint=reset)
        self.commits: BatchLog[CommitRecord] = BatchLog(
            self.store, location.join("commits"), CommitRecord.from_json,
            what=f"commit of flow '{flow}'", hint=reset)
        self._metadata: CheckpointMetadata | None = None

    # -- identity --------------------------------------------------------------------------------

    @property
    def metadata_location(self) -> Location:
        return self.location.join(METADATA_FILE)

    def metadata(self) -> CheckpointMetadata | None:
        """The checkpoint's metadata, or None for a checkpoint that does not exist yet."""
        if self._metadata is not None:
            return self._metadata
        data = self.store.read(self.metadata_location)
        if data is None:
            return None
        try:
            body = json.loads(data)
            found_format = body.get("format", 0)
            if found_format != FORMAT:
                raise CheckpointError(
                    f"The checkpoint of flow '{self.flow}' at {self.location} was written in "
                    f"checkpoint format {found_format} (lakesmith 0.1); this lakesmith reads "
                    f"format {FORMAT} only.", hint=self.reset_hint)
            self._metadata = CheckpointMetadata(
                id=str(body["id"]), flow=str(body["flow"]), table=str(body["table"]),
                target_table_id=body.get("target_table_id"), format=found_format)
        except (ValueError, KeyError, AttributeError) as e:
            raise CheckpointError(
                f"The checkpoint metadata {self.metadata_location} is unreadable ({e}); the "
                "checkpoint cannot be trusted.", hint=self.reset_hint) from e
        return self._metadata

    def create(self, target_table_id: str | None) -> CheckpointMetadata:
        metadata = CheckpointMetadata(str(uuid.uuid4()), self.flow, self.table, target_table_id)
        if not self.store.create(self.metadata_location, dumps(metadata.to_json())):
            raise CheckpointError(
                f"The checkpoint {self.location} was created by another process at the same time.",
                hint="make sure only one update of the pipeline runs at a time.")
        self._metadata = metadata
        return metadata

    @property
    def id(self) -> str:
        metadata = self.metadata()
        if metadata is None:
            raise CheckpointError(f"The checkpoint {self.location} has not been created.")
        return metadata.id

    def has_records(self) -> bool:
        return self.offsets.latest_batch() is not None or self.commits.latest_batch() is not None

    # -- records -------------------------------------------------------------------------------

    def marker(self, batch: int, *, pipeline: str | None, update_id: str | None) -> Marker:
        return Marker(kind=BATCH, flow=self.flow, checkpoint=self.id, batch=batch,
                      pipeline=pipeline, update_id=update_id)

    def purge(self, newest: int) -> None:
        self.offsets.purge(newest, self.retain)
        self.commits.purge(newest, self.retain)

    def state_location(self, operator: str) -> Location:
        return self.location.join("state", folder_name(operator))
