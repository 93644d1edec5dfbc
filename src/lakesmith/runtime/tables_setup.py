"""Setting up tables before flows run: finish interrupted resets, reset the tables of a full
refresh, and create streaming tables that do not exist yet (empty, with their schema), so that
downstream flows can read them before their first batch; a table's comment and properties are set
after it is created, and again on each update where they differ from its definition.

A full refresh of a streaming table truncates it (and its quarantine table: its flows quarantine
their rows again) and deletes its flows' checkpoints and state. A marker file is written first and
removed last, so a crash in between is finished by the next update instead of leaving a truncated
table with old checkpoints (rows lost) or old rows with no checkpoint (rows duplicated).
"""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql.types import StructType

from lakesmith.engine.paths import engine_path
from lakesmith.files import store_for
from lakesmith.graph.identifiers import TableName
from lakesmith.graph.model import DatasetKind, Table
from lakesmith.locations import Location
from lakesmith.runtime.checkpoint import CheckpointError
from lakesmith.runtime.checkpoint.crash import AFTER_RESET_MARKER, AFTER_TRUNCATE, crash_point
from lakesmith.runtime.checkpoint.records import CREATE, RESET, Marker
from lakesmith.runtime.flows.materialized_view import seed_auto_clustering, table_properties
from lakesmith.runtime.flows.quality import quarantine_table
from lakesmith.runtime.schema import column_comments
from lakesmith.runtime.workspace import Workspace
from lakesmith.tables.delta import apply_metadata
from lakesmith.tables.writes import write_delta


class TableSetup:
    def __init__(self, workspace: Workspace, schemas: dict[TableName, StructType],
                 update_id: str) -> None:
        self.workspace = workspace
        self.schemas = schemas
        self.update_id = update_id

    def run(self, full_refresh: frozenset[TableName]) -> None:
        graph = self.workspace.graph
        streaming = [name for name in graph.stored_datasets()
                     if graph.kind(name) == DatasetKind.STREAMING_TABLE]
        # Every table to reset is marked before any is touched, so an interrupted full refresh
        # of several tables is finished for all of them.
        for name in streaming:
            if name in full_refresh:
                marker = self._marker(name)
                store_for(marker).write(marker, json.dumps(
                    {"table": str(name), "update_id": self.update_id}).encode())
        crash_point(AFTER_RESET_MARKER)
        for name in streaming:
            marker = self._marker(name)
            if store_for(marker).exists(marker):
                self._reset(name)
            elif self.workspace.table_log(name).version() is None:
                self._check_no_checkpoints(name)
                self._write_empty(name, mode="append")
            else:  # an update killed right after creating the table did not get to set them
                self._apply_metadata(name)

    def _marker(self, name: TableName) -> Location:
        return self.workspace.storage.reset_marker(name)

    def _reset(self, name: TableName) -> None:
        """Truncate the table and its quarantine, then delete its flows' checkpoints and state; the
        marker goes last. Each step can be repeated, so finishing an interrupted reset is the same
        code."""
        self._write_empty(name, mode="overwrite")
        self._truncate_quarantine(name)
        crash_point(AFTER_TRUNCATE, str(name))
        folder = self.workspace.storage.table_checkpoints(name)
        store = store_for(folder)
        for entry in sorted(store.list(folder), key=lambda e: e.name):
            if entry.is_dir:
                store.delete_tree(folder.join(entry.name))
        store.delete(self._marker(name))

    def _truncate_quarantine(self, name: TableName) -> None:
        """Empty the table's quarantine, if it has one: the reset flows quarantine their rows
        again."""
        location = self.workspace.catalog.location(quarantine_table(name))
        if self.workspace.logs(location).version() is None:
            return
        spark: Any = self.workspace.spark
        empty = spark.read.format("delta").load(engine_path(location)).where("false")
        marker = Marker(kind=RESET, pipeline=self.workspace.pipeline_name, update_id=self.update_id)
        write_delta(empty, location, mode="overwrite", user_metadata=marker.to_json())

    def _check_no_checkpoints(self, name: TableName) -> None:
        """A missing table whose flows have committed batches was deleted: recreating it empty
        would lose its rows silently."""
        for flow in self.workspace.graph.flows_into(name):
            checkpoint = self.workspace.checkpoint(flow)
            if checkpoint.commits.latest_batch() is not None:
                raise CheckpointError(
                    f"Streaming table '{self.workspace.graph.dataset(name).name}' does not exist at "
                    f"{self.workspace.catalog.location(name)}, but the checkpoint of its flow "
                    f"'{flow.name}' at {checkpoint.location} has committed batches: the table's "
                    "folder was deleted or moved, and its rows would be lost.",
                    hint=checkpoint.reset_hint)

    def _write_empty(self, name: TableName, *, mode: str) -> None:
        schema = self.schemas.get(name)
        if schema is None:
            return  # only AUTO CDC flows write it: they create it themselves
        dataset = self.workspace.graph.dataset(name)
        assert isinstance(dataset, Table)  # streaming tables only
        spark: Any = self.workspace.spark
        marker = Marker(kind=RESET if mode == "overwrite" else CREATE,
                        pipeline=self.workspace.pipeline_name, update_id=self.update_id)
        location = self.workspace.catalog.location(name)
        write_delta(spark.createDataFrame([], schema), location, mode=mode,
                    user_metadata=marker.to_json(), partition_cols=dataset.partition_cols)
        self._apply_metadata(name)

    def _apply_metadata(self, name: TableName) -> None:
        """The comment and properties of the definition (a commit only when they differ)."""
        dataset = self.workspace.graph.dataset(name)
        assert isinstance(dataset, Table)  # streaming tables only
        seed_auto_clustering(dataset, self.workspace.catalog.location(name))
        apply_metadata(self.workspace.catalog.location(name), description=dataset.comment,
                       properties=table_properties(dataset),
                       column_comments=column_comments(self.workspace.spark, dataset),
                       log=self.workspace.table_log(name))
