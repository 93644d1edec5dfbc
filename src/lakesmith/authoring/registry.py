"""lakesmith's `GraphElementRegistry`: what `pyspark.pipelines` decorators, the dlt compatibility
module and SQL files register while sources load, collected as plain definitions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pyspark.pipelines import flow as sdp_flow
from pyspark.pipelines import output as sdp_output
from pyspark.pipelines.graph_element_registry import GraphElementRegistry

from lakesmith.authoring.expectations import expectations_of
from lakesmith.graph.model import (
    AutoCdcFlow,
    Dataset,
    DatasetKind,
    Definitions,
    Flow,
    PythonQuery,
)
from lakesmith.source_location import SourceLocation

_KINDS: list[tuple[type, DatasetKind]] = [
    (sdp_output.MaterializedView, DatasetKind.MATERIALIZED_VIEW),
    (sdp_output.StreamingTable, DatasetKind.STREAMING_TABLE),
    (sdp_output.TemporaryView, DatasetKind.TEMPORARY_VIEW),
    (sdp_output.Sink, DatasetKind.SINK),
]


def location_of(sdp_location: Any) -> SourceLocation:
    return SourceLocation(str(sdp_location.filename), sdp_location.line_number)


def _kind_of(output: sdp_output.Output) -> DatasetKind:
    for cls, kind in _KINDS:
        if isinstance(output, cls):
            return kind
    raise TypeError(f"Unknown pipeline output type {type(output).__name__}")


class DefinitionRegistry(GraphElementRegistry):
    """Collects definitions in registration order; validation happens when the graph is built."""

    def __init__(self, configuration: dict[str, str] | None = None) -> None:
        self.definitions = Definitions()
        self.configuration = dict(configuration or {})

    # -- lakesmith's own entry points (dlt compatibility, SQL) -----------------------------------

    def add_dataset(self, dataset: Dataset) -> None:
        self.definitions.datasets.append(dataset)

    def add_flow(self, flow: Flow | AutoCdcFlow) -> None:
        self.definitions.flows.append(flow)

    # -- pyspark.pipelines GraphElementRegistry -----------------------------------------------------

    def register_output(self, output: sdp_output.Output) -> None:
        kind = _kind_of(output)
        common: dict[str, Any] = dict(
            name=output.name, kind=kind, location=location_of(output.source_code_location),
            comment=output.comment,
        )
        if isinstance(output, sdp_output.Table):
            common.update(
                table_properties=dict(output.table_properties or {}),
                partition_cols=tuple(output.partition_cols or ()),
                cluster_by=tuple(output.cluster_by or ()),
                schema=output.schema,
                format=output.format,
            )
        if isinstance(output, sdp_output.Sink):
            common.update(format=output.format, options=dict(output.options or {}))
        self.add_dataset(Dataset(**common))

    def register_flow(self, flow: sdp_flow.Flow) -> None:
        expectations = expectations_of(flow.func)
        is_default = self._is_default_flow(flow.name, flow.target)
        if is_default and expectations:
            # Expectations stacked under a dataset decorator belong to the dataset.
            self._attach_to_dataset(flow.target, expectations)
            expectations = ()
        self.add_flow(
            Flow(
                name=flow.name,
                target=flow.target,
                query=PythonQuery(flow.func),
                location=location_of(flow.source_code_location),
                spark_conf=dict(flow.spark_conf or {}),
                is_default=is_default,
                once=bool(getattr(flow, "once", False)),
                expectations=expectations,
            )
        )

    def register_auto_cdc_flow(self, flow: Any) -> None:
        self.add_flow(
            AutoCdcFlow(
                name=flow.name or flow.target,
                target=flow.target,
                source=flow.source,
                keys=tuple(flow.keys),
                sequence_by=flow.sequence_by,
                location=location_of(flow.source_code_location),
                apply_as_deletes=flow.apply_as_deletes,
                apply_as_truncates=getattr(flow, "apply_as_truncates", None),
                column_list=tuple(flow.column_list) if flow.column_list is not None else None,
                except_column_list=(
                    tuple(flow.except_column_list) if flow.except_column_list is not None else None
                ),
                stored_as_scd_type=int(flow.stored_as_scd_type or 1),
                track_history_column_list=_optional_tuple(
                    getattr(flow, "track_history_column_list", None)),
                track_history_except_column_list=_optional_tuple(
                    getattr(flow, "track_history_except_column_list", None)),
                ignore_null_updates=bool(getattr(flow, "ignore_null_updates", False)),
                spark_conf=dict(getattr(flow, "spark_conf", None) or {}),
            )
        )

    def register_sql(self, sql_text: str, file_path: Path) -> None:
        from lakesmith.authoring.sql import parse_sql_definitions

        for element in parse_sql_definitions(sql_text, str(file_path), self.configuration):
            if isinstance(element, Dataset):
                self.add_dataset(element)
            else:
                self.add_flow(element)

    # -- helpers ---------------------------------------------------------------------------------

    def _is_default_flow(self, flow_name: str, target: str) -> bool:
        """A dataset decorator registers its output and then a flow of the same name."""
        datasets = self.definitions.datasets
        return bool(datasets) and datasets[-1].name == target == flow_name

    def _attach_to_dataset(self, name: str, expectations: tuple[Any, ...]) -> None:
        datasets = self.definitions.datasets
        for i in range(len(datasets) - 1, -1, -1):
            if datasets[i].name == name:
                datasets[i] = replace(datasets[i], expectations=datasets[i].expectations + expectations)
                return


def _optional_tuple(value: Any) -> tuple[Any, ...] | None:
    return tuple(value) if value is not None else None
