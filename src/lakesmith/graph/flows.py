"""The flows of a pipeline, one frozen class per kind, as in `pyspark.pipelines.flow`.

    Flow                name, target, location, spark_conf, comment
    ├── QueryFlow       a query whose rows go into the target: the dataset's default flow or an
    │   │               append flow; runs on every update
    │   └── OnceFlow    a batch append flow that runs once per full refresh (a backfill)
    ├── AutoCdcFlow     applies a change feed to a streaming table (SCD type 1 or 2)
    └── AutoCdcSnapshotFlow  applies the differences between successive snapshots of a table (or
                        those a function returns) to a streaming table

Each class checks its own fields when it is built and raises InvalidDefinition at the flow's file
and line; rules that need the graph (is the target a streaming table? is the query streaming?) are
in graph/validate.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from lakesmith.errors import InvalidDefinition
from lakesmith.graph.expectations import Expectation
from lakesmith.source_location import SourceLocation


@dataclass(frozen=True)
class PythonQuery:
    """A query function that returns a DataFrame; called once while the graph is built."""

    func: Callable[[], Any]


@dataclass(frozen=True)
class SqlQuery:
    """A query written in SQL; may read `STREAM(x)`, `STREAM x` and `LIVE.x`."""

    text: str
    location: SourceLocation


Query = PythonQuery | SqlQuery


@dataclass(frozen=True, kw_only=True)
class Flow:
    """Something that writes into the dataset `target`. Abstract: build one of its kinds."""

    name: str
    target: str
    location: SourceLocation
    # Spark conf set while the flow runs (`spark_conf=`, or SQL `SET` before the definition).
    spark_conf: Mapping[str, str] = field(default_factory=dict)
    comment: str | None = None

    def __post_init__(self) -> None:
        if type(self) is Flow:
            raise TypeError("Flow is abstract; build a QueryFlow, OnceFlow or AutoCdcFlow.")
        for what, value in (("name", self.name), ("target", self.target)):
            if not isinstance(value, str) or not value.strip():
                raise InvalidDefinition(
                    f"a flow needs a non-empty string {what}, got {value!r}.", self.location)


@dataclass(frozen=True, kw_only=True)
class QueryFlow(Flow):
    """A query whose result is written into the target on every update."""

    # Whether this is a batch flow run once per full refresh (see OnceFlow).
    once: ClassVar[bool] = False

    query: Query
    # A flow created by a dataset's own definition (its "default flow"), as opposed to an
    # append flow added to an existing streaming table or sink.
    is_default: bool = True
    # Expectations declared on this flow only (e.g. on an append flow); the target dataset's own
    # expectations apply to every flow into it.
    expectations: tuple[Expectation, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OnceFlow(QueryFlow):
    """A batch append flow that runs once, then again only after a full refresh (SQL
    `INSERT INTO ONCE`, `append_flow(once=True)`): a backfill into a streaming table."""

    once: ClassVar[bool] = True

    is_default: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.is_default:
            raise InvalidDefinition(
                f"once flow '{self.name}' cannot be the default flow of '{self.target}': a once "
                "flow appends to a dataset defined elsewhere.", self.location)


@dataclass(frozen=True, kw_only=True)
class AutoCdcFlow(Flow):
    """Change data capture from `source` into the streaming table `target` (SCD type 1 or 2)."""

    source: str
    keys: tuple[Any, ...]  # column names or Columns
    sequence_by: Any  # SQL expression string or Column
    apply_as_deletes: Any = None
    apply_as_truncates: Any = None
    column_list: tuple[Any, ...] | None = None
    except_column_list: tuple[Any, ...] | None = None
    stored_as_scd_type: int = 1
    track_history_column_list: tuple[Any, ...] | None = None
    track_history_except_column_list: tuple[Any, ...] | None = None
    ignore_null_updates: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        problem = self._problem()
        if problem is not None:
            raise InvalidDefinition(f"AUTO CDC flow '{self.name}': {problem}", self.location)

    def _problem(self) -> str | None:
        if not isinstance(self.source, str) or not self.source.strip():
            return f"the source must be a dataset name, got {self.source!r}."
        if not self.keys:
            return "needs at least one key column (keys=[...]; SQL: KEYS (...))."
        if self.column_list is not None and self.except_column_list is not None:
            return "pass only one of column_list and except_column_list."
        problem = scd_problem(self.stored_as_scd_type, self.track_history_column_list,
                              self.track_history_except_column_list,
                              sql_names="TRACK HISTORY ON is only allowed with STORED AS SCD TYPE 2")
        if problem is not None:
            return problem
        if self.apply_as_truncates is not None and self.stored_as_scd_type != 1:
            return ("APPLY AS TRUNCATE WHEN is only allowed with SCD TYPE 1 "
                    "(apply_as_truncates needs stored_as_scd_type=1).")
        return None


@dataclass(frozen=True, kw_only=True)
class AutoCdcSnapshotFlow(Flow):
    """AUTO CDC from snapshots (`create_auto_cdc_from_snapshot_flow`): each snapshot is compared
    with the target; keys new to it are inserted, keys whose values changed are updated, keys
    missing from it are deleted. `source` is a dataset name (its current snapshot is read on each
    update) or a function `next_snapshot_and_version(latest_version) -> (DataFrame, version) |
    None`, called until it returns None."""

    source: str | Callable[[Any], Any]
    keys: tuple[Any, ...]  # column names or Columns
    stored_as_scd_type: int = 1
    track_history_column_list: tuple[Any, ...] | None = None
    track_history_except_column_list: tuple[Any, ...] | None = None

    @property
    def source_name(self) -> str | None:
        """The source dataset's name; None for a function source."""
        return self.source if isinstance(self.source, str) else None

    def __post_init__(self) -> None:
        super().__post_init__()
        problem = self._problem()
        if problem is not None:
            raise InvalidDefinition(f"AUTO CDC flow '{self.name}': {problem}", self.location)

    def _problem(self) -> str | None:
        if isinstance(self.source, str):
            if not self.source.strip():
                return "the source must be a dataset name or a function, got ''."
        elif not callable(self.source):
            return ("the source must be a dataset name or a function "
                    f"next_snapshot_and_version(latest_version), got {self.source!r}.")
        if not self.keys:
            return "needs at least one key column (keys=[...])."
        return scd_problem(self.stored_as_scd_type, self.track_history_column_list,
                           self.track_history_except_column_list)


def scd_problem(scd_type: Any, track_history: tuple[Any, ...] | None,
                track_history_except: tuple[Any, ...] | None, *,
                sql_names: str | None = None) -> str | None:
    """What is wrong with an SCD type and its history tracking (shared by AUTO CDC flows from
    changes and from snapshots); `sql_names` says it the way the SQL syntax would."""
    if scd_type not in (1, 2) or isinstance(scd_type, bool):
        return f"stored_as_scd_type must be 1 or 2, got {scd_type!r}."
    if track_history is not None and track_history_except is not None:
        return "pass only one of track_history_column_list and track_history_except_column_list."
    if (track_history is not None or track_history_except is not None) and scd_type != 2:
        python = ("track_history_column_list and track_history_except_column_list need "
                  "stored_as_scd_type=2")
        return f"{sql_names} ({python})." if sql_names else f"{python}."
    return None


AnyFlow = QueryFlow | AutoCdcFlow | AutoCdcSnapshotFlow
