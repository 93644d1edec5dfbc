"""The schema of a file stream, and its history, under `cloudFiles.schemaLocation`.

As on Databricks, every version of an inferred schema is a file `_schemas/<n>` (a `v1` line, then
JSON with `dataSchemaJson` and `partitionSchemaJson`). The newest one is the stream's schema: a
rerun reads it instead of inferring again, and schema evolution (`addNewColumns`) adds a version
before it stops the stream, so the rerun reads the new columns. By default the location is inside
the flow's checkpoint, so a full refresh infers the schema again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark.sql.types import StructType

from lakesmith.errors import LakesmithError
from lakesmith.files import store_for
from lakesmith.locations import Location

_VERSION_LINE = "v1"


@dataclass(frozen=True)
class StoredSchema:
    data: StructType
    partitions: StructType

    def to_bytes(self) -> bytes:
        body = {"dataSchemaJson": self.data.json(), "partitionSchemaJson": self.partitions.json()}
        return (_VERSION_LINE + "\n" + json.dumps(body)).encode()

    @staticmethod
    def from_bytes(raw: bytes, where: Location) -> StoredSchema:
        text = raw.decode()
        first, _, rest = text.partition("\n")
        try:
            if first.strip() != _VERSION_LINE:
                raise ValueError(f"unknown version line {first.strip()!r}")
            body = json.loads(rest)
            return StoredSchema(StructType.fromJson(json.loads(body["dataSchemaJson"])),
                                StructType.fromJson(json.loads(body["partitionSchemaJson"])))
        except (ValueError, KeyError, TypeError) as e:
            raise LakesmithError(f"The schema file {where} cannot be read: {e}.",
                                 hint="restore it, or delete the schema location to infer the "
                                 "schema again.") from e


class SchemaLocation:
    def __init__(self, location: Location) -> None:
        self.location = location
        self.folder = location.join("_schemas")
        self.store = store_for(self.folder)

    def latest(self) -> tuple[int, StoredSchema] | None:
        numbers = sorted(int(e.name) for e in self.store.list(self.folder)
                         if not e.is_dir and e.name.isdigit())
        if not numbers:
            return None
        where = self.folder.join(str(numbers[-1]))
        raw = self.store.read(where)
        if raw is None:
            raise LakesmithError(f"The schema file {where} disappeared while it was read.")
        return numbers[-1], StoredSchema.from_bytes(raw, where)

    def add(self, number: int, schema: StoredSchema) -> None:
        """Write schema version `number`; a version that exists already is left as it is (a
        rerun after a crash infers the same schema)."""
        self.store.create(self.folder.join(str(number)), schema.to_bytes())
