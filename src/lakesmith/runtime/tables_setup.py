"""Setting up tables before flows run: finish interrupted resets, reset the tables of a full
refresh, and create streaming tables that do not exist yet (empty, with their schema), so that
downstream flows can read them before their first batch.

A full refresh of a streaming table truncates it and deletes its flows' checkpoints and state. A
marker file is written first and removed last, so a crash in between is finished by the next update
instead of leaving a truncated table with old checkpoints (rows lost) or old rows with no
checkpoint (rows duplicated).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from pyspark.sql.types import StructType

from lakesmith.graph.graph import DataflowGraph
from lakesmith.graph.identifiers import TableName
from lakesmith.graph.model import DatasetKind
from lakesmith.runtime.streaming.checkpoint import (
    crash_point,
    directory_name,
    write_json_atomically,
)
from lakesmith.runtime.flows.materialized_view import table_properties
from lakesmith.runtime.flows.writing import write_delta
from lakesmith.tables.catalog import TableCatalog
from lakesmith.tables.delta import apply_metadata, is_delta_table

RESET_MARKER = "_reset_pending"


def checkpoints_of(storage: Path, table: TableName) -> Path:
    return storage / "checkpoints" / directory_name(str(table))


class TableSetup:
    def __init__(self, graph: DataflowGraph, spark: Any, catalog: TableCatalog, storage: Path,
                 schemas: dict[TableName, StructType], update_id: str) -> None:
        self.graph = graph
        self.spark = spark
        self.catalog = catalog
        self.storage = storage
        self.schemas = schemas
        self.update_id = update_id

    def run(self, full_refresh: frozenset[TableName]) -> None:
        streaming = [name for name in self.graph.stored_datasets()
                     if self.graph.kind(name) == DatasetKind.STREAMING_TABLE]
        # Every table to reset is marked before any is touched, so an interrupted full refresh
        # of several tables is finished for all of them.
        for name in streaming:
            if name in full_refresh:
                write_json_atomically(self._marker(name), {"table": str(name),
                                                           "update_id": self.update_id})
        crash_point("after_reset_marker")
        for name in streaming:
            if self._marker(name).exists():
                self._reset(name)
            elif not is_delta_table(self.catalog.location(name)):
                self._write_empty(name, mode="append")

    def _marker(self, name: TableName) -> Path:
        return checkpoints_of(self.storage, name) / RESET_MARKER

    def _reset(self, name: TableName) -> None:
        """Truncate the table, then delete its flows' checkpoints and state; the marker goes
        last. Each step can be repeated, so finishing an interrupted reset is the same code."""
        self._write_empty(name, mode="overwrite")
        crash_point("after_truncate", str(name))
        for child in sorted(self._marker(name).parent.iterdir()):
            if child.is_dir():
                trash = child.with_name(f".{child.name}.deleted-{uuid.uuid4().hex}")
                os.replace(child, trash)
                shutil.rmtree(trash)
        self._marker(name).unlink()

    def _write_empty(self, name: TableName, *, mode: str) -> None:
        schema = self.schemas.get(name)
        if schema is None:
            return  # only AUTO CDC flows write it: they create it themselves
        dataset = self.graph.dataset(name)
        marker = json.dumps({"lakesmith": {"update_id": self.update_id, "setup": mode}})
        write_delta(self.spark.createDataFrame([], schema), self.catalog.location(name),
                    mode=mode, marker=marker, partition_cols=dataset.partition_cols)
        apply_metadata(self.catalog.location(name), description=dataset.comment,
                       properties=table_properties(dataset))
