"""The vocabulary of a pipeline: datasets, flows and expectations, as plain immutable definitions.

Every authoring style (pyspark.pipelines, Databricks dlt, SQL files) produces these objects; nothing
here knows how a flow runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Union

from lakesmith.source_location import SourceLocation


class DatasetKind(str, Enum):
    MATERIALIZED_VIEW = "materialized_view"
    STREAMING_TABLE = "streaming_table"
    TEMPORARY_VIEW = "temporary_view"
    SINK = "sink"
    # Databricks `@dlt.table`: a streaming table when its query is streaming, else a materialized
    # view. Resolved to one of the two when the graph is built.
    TABLE = "table"

    @property
    def is_stored(self) -> bool:
        """Whether the dataset is a Delta table the pipeline writes (not a view or a sink)."""
        return self in (DatasetKind.MATERIALIZED_VIEW, DatasetKind.STREAMING_TABLE, DatasetKind.TABLE)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class ExpectationAction(str, Enum):
    """What happens to a row that fails an expectation (Databricks: expect / _or_drop / _or_fail)."""

    WARN = "warn"
    DROP = "drop"
    FAIL = "fail"


@dataclass(frozen=True)
class Expectation:
    name: str
    condition: str  # a SQL boolean expression
    action: ExpectationAction
    location: SourceLocation | None = None


@dataclass(frozen=True)
class Dataset:
    """A named output of the pipeline: a table it maintains, a temporary view, or a sink."""

    name: str
    kind: DatasetKind
    location: SourceLocation
    comment: str | None = None
    table_properties: Mapping[str, str] = field(default_factory=dict)
    partition_cols: tuple[str, ...] = ()
    cluster_by: tuple[str, ...] = ()
    # Explicit schema: a pyspark StructType or a DDL string such as "a INT, b STRING".
    schema: Any = None
    format: str | None = None
    # Sinks only: where and how to write.
    options: Mapping[str, str] = field(default_factory=dict)
    expectations: tuple[Expectation, ...] = ()


@dataclass(frozen=True)
class PythonQuery:
    """A query function that returns a DataFrame; called once while the graph is built."""

    func: Callable[[], Any]


@dataclass(frozen=True)
class SqlQuery:
    """A query written in SQL; may read `STREAM(x)`, `STREAM x` and `LIVE.x`."""

    text: str
    location: SourceLocation


Query = Union[PythonQuery, SqlQuery]


@dataclass(frozen=True)
class Flow:
    """A query whose result is written into a target dataset."""

    name: str
    target: str
    query: Query
    location: SourceLocation
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    # A flow created by a dataset's own definition (its "default flow"), as opposed to an
    # append flow added to an existing streaming table.
    is_default: bool = True
    # A batch flow that runs once per full refresh (SQL `INSERT INTO ONCE`, `append_flow(once=True)`).
    once: bool = False
    comment: str | None = None
    # Expectations declared on this flow only (e.g. on an append flow); the target dataset's own
    # expectations apply to every flow into it.
    expectations: tuple[Expectation, ...] = ()


@dataclass(frozen=True)
class AutoCdcFlow:
    """Change data capture from `source` into the streaming table `target` (SCD type 1 or 2)."""

    name: str
    target: str
    source: str
    keys: tuple[Any, ...]  # column names or Columns
    sequence_by: Any  # SQL expression string or Column
    location: SourceLocation
    apply_as_deletes: Any = None
    apply_as_truncates: Any = None
    column_list: tuple[Any, ...] | None = None
    except_column_list: tuple[Any, ...] | None = None
    stored_as_scd_type: int = 1
    track_history_column_list: tuple[Any, ...] | None = None
    track_history_except_column_list: tuple[Any, ...] | None = None
    ignore_null_updates: bool = False
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    # Flows defined in SQL read a streaming source written as `STREAM(x)`.
    once: bool = False


AnyFlow = Union[Flow, AutoCdcFlow]


@dataclass
class Definitions:
    """Everything the pipeline's sources registered, in registration order, not yet validated."""

    datasets: list[Dataset] = field(default_factory=list)
    flows: list[AnyFlow] = field(default_factory=list)
