"""The datasets of a pipeline, one frozen class per kind, as in `pyspark.pipelines.output`.

    Dataset                      name, location, comment, expectations
    ├── Table                    stored as a Delta table: properties, partitioning, schema, format
    │   ├── MaterializedView     recomputed from a batch query
    │   ├── StreamingTable       appended to by streaming flows (or maintained by AUTO CDC)
    │   └── DltTable             Databricks `@dlt.table`: one of the two, decided by its query
    ├── TemporaryView            a named query, inlined where it is read
    ├── PersistedView            a named query published in the catalog (SQL `CREATE VIEW`)
    └── Sink                     an external destination (format, options)

A field exists only on the kinds that have it, so reading a table's partition columns on a sink is
an error where it is written, not a crash at run time. Each class checks its own fields when it is
built and raises InvalidDefinition at the definition's file and line. `kind` is a class attribute
(`DatasetKind`), kept for code that switches on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, TypeVar

from lakesmith.errors import InvalidDefinition
from lakesmith.graph.expectations import Expectation
from lakesmith.source_location import SourceLocation


class DatasetKind(str, Enum):
    MATERIALIZED_VIEW = "materialized_view"
    STREAMING_TABLE = "streaming_table"
    TEMPORARY_VIEW = "temporary_view"
    PERSISTED_VIEW = "persisted_view"
    SINK = "sink"
    # Databricks `@dlt.table`: a streaming table when its query is streaming, else a materialized
    # view. Resolved to one of the two when the graph is built.
    TABLE = "table"

    @property
    def is_stored(self) -> bool:
        """Whether the dataset is a Delta table the pipeline writes (not a view or a sink)."""
        return self in (DatasetKind.MATERIALIZED_VIEW, DatasetKind.STREAMING_TABLE,
                        DatasetKind.TABLE)

    @property
    def is_view(self) -> bool:
        """Whether the dataset is a named query (temporary or persisted), inlined where the
        pipeline reads it."""
        return self in (DatasetKind.TEMPORARY_VIEW, DatasetKind.PERSISTED_VIEW)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True, kw_only=True)
class Dataset:
    """A named output of the pipeline. Abstract: build one of its kinds."""

    kind: ClassVar[DatasetKind]

    name: str
    location: SourceLocation
    comment: str | None = None
    # Rules every flow into the dataset must meet.
    expectations: tuple[Expectation, ...] = ()

    def __post_init__(self) -> None:
        if type(self) in _ABSTRACT:
            raise TypeError(f"{type(self).__name__} is abstract; build one of its kinds.")
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidDefinition(
                f"a {self.kind.label} needs a non-empty string name, got {self.name!r}.",
                self.location)


@dataclass(frozen=True, kw_only=True)
class Table(Dataset):
    """A dataset stored as a Delta table the pipeline maintains. Abstract."""

    table_properties: Mapping[str, str] = field(default_factory=dict)
    partition_cols: tuple[str, ...] = ()
    cluster_by: tuple[str, ...] = ()
    # CLUSTER BY AUTO / `cluster_by_auto=True`: the columns are chosen from the queries' filters
    # (`cluster_by`, when given too, are the first ones).
    cluster_by_auto: bool = False
    # Explicit schema: a pyspark StructType or a DDL string such as "a INT, b STRING".
    schema: Any = None
    format: str | None = None
    # Where the Delta folder lives when not in the warehouse (Databricks `path=`, SQL `LOCATION`):
    # a path relative to the project, or a URI.
    path: str | None = None
    # Generated columns of the schema (`GENERATED ALWAYS AS (expr)`): column name -> SQL
    # expression over the row. The query does not produce them; writes compute them.
    generated_columns: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class MaterializedView(Table):
    """A table whose contents are the result of a batch query, recomputed on each update."""

    kind = DatasetKind.MATERIALIZED_VIEW


@dataclass(frozen=True, kw_only=True)
class StreamingTable(Table):
    """A table that streaming flows append to, or that one AUTO CDC flow maintains."""

    kind = DatasetKind.STREAMING_TABLE


StoredTable = TypeVar("StoredTable", MaterializedView, StreamingTable)


@dataclass(frozen=True, kw_only=True)
class DltTable(Table):
    """Databricks `@dlt.table`: a streaming table when its query reads a stream, else a
    materialized view. Only the built graph knows which (graph/build.py decides); no flow runs
    against a DltTable."""

    kind = DatasetKind.TABLE

    def as_kind(self, stored: type[StoredTable]) -> StoredTable:
        """The same definition as a materialized view or a streaming table."""
        return stored(**vars(self))


@dataclass(frozen=True, kw_only=True)
class TemporaryView(Dataset):
    """A named query other flows read; not stored, visible only inside the pipeline."""

    kind = DatasetKind.TEMPORARY_VIEW

    def __post_init__(self) -> None:
        super().__post_init__()
        if "." in self.name.strip("`"):
            raise InvalidDefinition(
                f"temporary view '{self.name}' must have a single-part name.", self.location)


@dataclass(frozen=True, kw_only=True)
class PersistedView(Dataset):
    """A named query published in the pipeline's catalog and schema (SQL `CREATE VIEW`): not
    stored, readable by name outside the pipeline (`lakesmith sql`, `lakesmith.session()`).
    Inside the pipeline it is inlined like a temporary view; Spark allows it only batch reads of
    tables and other persisted views (graph/validate.py). Its comment, column comments and
    properties are published with it."""

    kind = DatasetKind.PERSISTED_VIEW

    table_properties: Mapping[str, str] = field(default_factory=dict)
    # the column list (`(a COMMENT 'why', b)`): each name with its comment, or () without one
    columns: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, kw_only=True)
class Sink(Dataset):
    """An external destination that streaming flows write to (Kafka, Delta path, …)."""

    kind = DatasetKind.SINK

    format: str
    options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.format, str) or not self.format.strip():
            raise InvalidDefinition(
                f"sink '{self.name}' needs a format (e.g. 'kafka', 'delta'), got {self.format!r}.",
                self.location)


_ABSTRACT: tuple[type[Dataset], ...] = (Dataset, Table)
