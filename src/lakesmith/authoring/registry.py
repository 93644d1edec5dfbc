"""lakesmith's `GraphElementRegistry`: what `pyspark.pipelines` decorators, the dlt compatibility
module and SQL files register while sources load, collected as plain definitions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from pyspark.pipelines import flow as sdp_flow
from pyspark.pipelines import output as sdp_output
from pyspark.pipelines.graph_element_registry import GraphElementRegistry

from lakesmith.authoring.auto_cdc import auto_cdc_flow
from lakesmith.authoring.declared_schema import schema_fields
from lakesmith.authoring.expectations import expectations_of
from lakesmith.graph.datasets import (
    Dataset,
    MaterializedView,
    Sink,
    StreamingTable,
    TemporaryView,
)
from lakesmith.graph.flows import AnyFlow, PythonQuery, QueryFlow
from lakesmith.graph.model import Definitions
from lakesmith.source_location import SourceLocation, defined_at


def location_of(sdp_location: Any) -> SourceLocation:
    return defined_at(str(sdp_location.filename), sdp_location.line_number)


def dataset_of(output: sdp_output.Output) -> Dataset:
    """The graph's definition of a `pyspark.pipelines` output."""
    common: dict[str, Any] = dict(name=output.name, comment=output.comment,
                                  location=location_of(output.source_code_location))
    if isinstance(output, sdp_output.MaterializedView):
        return MaterializedView(**common, **_table_fields(output))
    if isinstance(output, sdp_output.StreamingTable):
        return StreamingTable(**common, **_table_fields(output))
    if isinstance(output, sdp_output.TemporaryView):
        return TemporaryView(**common)
    if isinstance(output, sdp_output.Sink):
        return Sink(**common, format=output.format, options=dict(output.options or {}))
    raise TypeError(f"Unknown pipeline output type {type(output).__name__}")


def _table_fields(output: sdp_output.Table) -> dict[str, Any]:
    return dict(table_properties=dict(output.table_properties or {}),
                partition_cols=tuple(output.partition_cols or ()),
                cluster_by=tuple(output.cluster_by or ()), format=output.format,
                **schema_fields(output.schema, location_of(output.source_code_location)))


class DefinitionRegistry(GraphElementRegistry):
    """Collects definitions in registration order; validation happens when the graph is built."""

    def __init__(self, configuration: dict[str, str] | None = None) -> None:
        self.definitions = Definitions()
        self.configuration = dict(configuration or {})

    # -- lakesmith's own entry points (dlt compatibility, SQL) -----------------------------------

    def add_dataset(self, dataset: Dataset) -> None:
        self.definitions.datasets.append(dataset)

    def add_flow(self, flow: AnyFlow) -> None:
        self.definitions.flows.append(flow)

    # -- pyspark.pipelines GraphElementRegistry -----------------------------------------------------

    def register_output(self, output: sdp_output.Output) -> None:
        self.add_dataset(dataset_of(output))

    def register_flow(self, flow: sdp_flow.Flow) -> None:
        expectations = expectations_of(flow.func)
        is_default = self._is_default_flow(flow.name, flow.target)
        if is_default and expectations:
            # Expectations stacked under a dataset decorator belong to the dataset.
            self._attach_to_dataset(flow.target, expectations)
            expectations = ()
        # pyspark 4.2's Flow has no `once`: its append flows run on every update.
        self.add_flow(
            QueryFlow(
                name=flow.name,
                target=flow.target,
                query=PythonQuery(flow.func),
                location=location_of(flow.source_code_location),
                spark_conf=dict(flow.spark_conf or {}),
                is_default=is_default,
                expectations=expectations,
            )
        )

    def register_auto_cdc_flow(self, flow: sdp_flow.AutoCdcFlow) -> None:
        """pyspark 4.2's AutoCdcFlow (its API is replaced by the 4.3 one while sources load, see
        sdp_api.py; this is for a reference to the 4.2 function taken earlier). The 4.3 fields
        (track history, spark_conf) arrive with the 4.3 client."""
        self.add_flow(auto_cdc_flow(
            name=flow.name,
            target=flow.target,
            source=flow.source,
            keys=flow.keys,
            sequence_by=flow.sequence_by,
            location=location_of(flow.source_code_location),
            apply_as_deletes=flow.apply_as_deletes,
            column_list=flow.column_list,
            except_column_list=flow.except_column_list,
            stored_as_scd_type=flow.stored_as_scd_type,
        ))

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
