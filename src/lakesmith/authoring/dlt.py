"""Databricks `dlt` compatibility: `import dlt` inside pipeline sources maps here.

lakesmith maps this module to the name `dlt` only while it imports pipeline sources; it never
installs a top-level `dlt` package (that name belongs to another project on the package index).
`@dlt.table` is a materialized view when its query is a batch query and a streaming table when it
reads a stream, as on Databricks; `LIVE.x` and `dlt.read("x")` read dataset `x` of this pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from lakesmith.authoring.auto_cdc import auto_cdc_flow, snapshot_flow
from lakesmith.authoring.context import caller_location, current_registry, current_spark
from lakesmith.authoring.declared_schema import schema_fields
from lakesmith.authoring.expectations import (  # noqa: F401  (re-exported for `dlt.expect...`)
    expect,
    expect_all,
    expect_all_or_drop,
    expect_all_or_fail,
    expect_or_drop,
    expect_or_fail,
    expectations_of,
)
from lakesmith.authoring.source_warnings import warn_source
from lakesmith.authoring.spark_conf import honoured_spark_conf
from lakesmith.authoring.table_path import table_path
from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.graph.datasets import (
    Dataset,
    DltTable,
    MaterializedView,
    Sink,
    StreamingTable,
    TemporaryView,
)
from lakesmith.graph.expectations import Expectation, ExpectationAction
from lakesmith.graph.flows import OnceFlow, PythonQuery, QueryFlow
from lakesmith.source_location import SourceLocation

QueryFunction = Callable[[], Any]
# Builds a dataset from its name, location, comment and expectations (a class, or a class with
# its other fields bound).
DatasetBuilder = Callable[..., Dataset]


def read(name: str) -> Any:
    """A batch read of dataset `name` of this pipeline (or of a catalog table)."""
    return current_spark().read.table(name)


def read_stream(name: str) -> Any:
    """A streaming read of dataset `name` of this pipeline (or of a catalog table)."""
    return current_spark().readStream.table(name)


def table(query_function: QueryFunction | None = None, *, name: str | None = None,
          comment: str | None = None, spark_conf: Mapping[str, str] | None = None,
          table_properties: Mapping[str, str] | None = None, path: str | None = None,
          partition_cols: Sequence[str] | None = None, cluster_by: Sequence[str] | None = None,
          schema: Any = None, temporary: bool = False, row_filter: str | None = None,
          private: bool | None = None, format: str | None = None,
          cluster_by_auto: bool = False) -> Any:
    """A table whose kind follows its query: streaming table for a stream, else materialized view.

    `temporary=True` (Databricks: not published to the catalog) keeps a table the pipeline's
    datasets read; lakesmith has no catalog to publish to, so it is stored like any table."""
    location = caller_location()
    _unsupported(location, row_filter=row_filter)
    build = partial(DltTable, **_table_fields(table_properties, partition_cols, cluster_by,
                                               schema, format, path, location),
                    cluster_by_auto=cluster_by_auto)
    return _dataset_decorator(query_function, "table", build, location, name=name,
                              comment=comment, spark_conf=spark_conf)


def materialized_view(query_function: QueryFunction | None = None, *, name: str | None = None,
                      comment: str | None = None, spark_conf: Mapping[str, str] | None = None,
                      table_properties: Mapping[str, str] | None = None, path: str | None = None,
                      partition_cols: Sequence[str] | None = None,
                      cluster_by: Sequence[str] | None = None, schema: Any = None,
                      row_filter: str | None = None, private: bool | None = None,
                      format: str | None = None, cluster_by_auto: bool = False) -> Any:
    location = caller_location()
    _unsupported(location, row_filter=row_filter)
    build = partial(MaterializedView, **_table_fields(table_properties, partition_cols,
                                                       cluster_by, schema, format, path, location),
                    cluster_by_auto=cluster_by_auto)
    return _dataset_decorator(query_function, "materialized_view", build, location, name=name,
                              comment=comment, spark_conf=spark_conf)


def view(query_function: QueryFunction | None = None, *, name: str | None = None,
         comment: str | None = None, spark_conf: Mapping[str, str] | None = None) -> Any:
    """A temporary view: a named query other datasets read, not stored."""
    return _dataset_decorator(query_function, "view", TemporaryView, caller_location(),
                              name=name, comment=comment, spark_conf=spark_conf)


temporary_view = view
# Legacy names of the decorators, still found in Databricks pipelines.
create_table = table
create_view = view


def create_streaming_table(name: str, *, comment: str | None = None,
                           spark_conf: Mapping[str, str] | None = None,
                           table_properties: Mapping[str, str] | None = None,
                           partition_cols: Sequence[str] | None = None,
                           cluster_by: Sequence[str] | None = None, path: str | None = None,
                           schema: Any = None,
                           expect_all: Mapping[str, str] | None = None,  # noqa: F811
                           expect_all_or_drop: Mapping[str, str] | None = None,  # noqa: F811
                           expect_all_or_fail: Mapping[str, str] | None = None,  # noqa: F811
                           row_filter: str | None = None, format: str | None = None,
                           cluster_by_auto: bool = False) -> None:
    """A streaming table that append flows and AUTO CDC flows write into."""
    location = caller_location()
    _unsupported(location, row_filter=row_filter)
    if honoured_spark_conf(spark_conf, location):
        warn_source("spark_conf on create_streaming_table is not applied to the flows into the "
                    "table yet; give it to each flow (append_flow(spark_conf=...)).", location)
    expectations = (
        _rules(expect_all, ExpectationAction.WARN, location)
        + _rules(expect_all_or_drop, ExpectationAction.DROP, location)
        + _rules(expect_all_or_fail, ExpectationAction.FAIL, location)
    )
    current_registry().add_dataset(StreamingTable(
        name=name, location=location, comment=comment, expectations=expectations,
        cluster_by_auto=cluster_by_auto,
        **_table_fields(table_properties, partition_cols, cluster_by, schema, format, path,
                        location),
    ))


# Legacy names still found in Databricks pipelines.
create_streaming_live_table = create_streaming_table
create_target_table = create_streaming_table


def append_flow(*, target: str, name: str | None = None, comment: str | None = None,
                spark_conf: Mapping[str, str] | None = None, once: bool = False) -> Callable[
                    [QueryFunction], None]:
    location = caller_location()

    def register(func: QueryFunction) -> None:
        _check_callable(func, "append_flow", location)
        kind = OnceFlow if once else QueryFlow
        current_registry().add_flow(kind(
            name=name or func.__name__, target=target, query=PythonQuery(func), location=location,
            spark_conf=honoured_spark_conf(spark_conf, location), is_default=False,
            comment=comment,
            expectations=expectations_of(func),
        ))

    return register


def create_auto_cdc_flow(target: str, source: str, keys: Sequence[Any], sequence_by: Any,
                         ignore_null_updates: bool = False, apply_as_deletes: Any = None,
                         apply_as_truncates: Any = None, column_list: Sequence[Any] | None = None,
                         except_column_list: Sequence[Any] | None = None,
                         stored_as_scd_type: int | str = 1,
                         track_history_column_list: Sequence[Any] | None = None,
                         track_history_except_column_list: Sequence[Any] | None = None,
                         name: str | None = None, once: bool = False) -> None:
    """AUTO CDC (formerly APPLY CHANGES) from a change feed into a streaming table."""
    location = caller_location()
    if once:
        raise NotSupportedYet(
            f"{location}: create_auto_cdc_flow(once=True) (a one-time AUTO CDC flow) is not "
            "supported by lakesmith yet.")
    current_registry().add_flow(auto_cdc_flow(
        target=target, source=source, keys=keys, sequence_by=sequence_by, location=location,
        name=name, apply_as_deletes=apply_as_deletes, apply_as_truncates=apply_as_truncates,
        column_list=column_list, except_column_list=except_column_list,
        stored_as_scd_type=stored_as_scd_type,
        track_history_column_list=track_history_column_list,
        track_history_except_column_list=track_history_except_column_list,
        ignore_null_updates=ignore_null_updates,
    ))


apply_changes = create_auto_cdc_flow


def create_auto_cdc_from_snapshot_flow(
        target: str, source: Any, keys: Sequence[Any], stored_as_scd_type: int | str = 1,
        track_history_column_list: Sequence[Any] | None = None,
        track_history_except_column_list: Sequence[Any] | None = None,
        name: str | None = None) -> None:
    """AUTO CDC from snapshots (formerly APPLY CHANGES FROM SNAPSHOT) into a streaming table:
    `source` is a table name, or a function `next_snapshot_and_version(latest_version)` returning
    `(DataFrame, version)` or None."""
    current_registry().add_flow(snapshot_flow(
        target=target, source=source, keys=keys, location=caller_location(), name=name,
        stored_as_scd_type=stored_as_scd_type,
        track_history_column_list=track_history_column_list,
        track_history_except_column_list=track_history_except_column_list))


apply_changes_from_snapshot = create_auto_cdc_from_snapshot_flow


def create_sink(name: str, format: str, options: Mapping[str, str] | None = None) -> None:
    current_registry().add_dataset(Sink(
        name=name, location=caller_location(), format=format, options=dict(options or {})))


# -- helpers ---------------------------------------------------------------------------------------

def _dataset_decorator(query_function: QueryFunction | None, decorator: str,
                       build: DatasetBuilder, location: SourceLocation, *, name: str | None,
                       comment: str | None, spark_conf: Mapping[str, str] | None) -> Any:
    """`@dlt.<decorator>` with or without arguments: registers the dataset `build` makes and its
    default flow, both named after the function unless `name` is given."""

    def register(func: QueryFunction) -> QueryFunction:
        _check_callable(func, decorator, location)
        dataset_name = name or func.__name__
        registry = current_registry()
        registry.add_dataset(build(name=dataset_name, location=location, comment=comment,
                                   expectations=expectations_of(func)))
        registry.add_flow(QueryFlow(name=dataset_name, target=dataset_name,
                                    query=PythonQuery(func), location=location,
                                    spark_conf=honoured_spark_conf(spark_conf, location)))
        # Databricks returns the function, so decorated names stay usable in the module.
        return func

    if query_function is not None:
        return register(query_function)
    return register


def _table_fields(table_properties: Mapping[str, str] | None,
                  partition_cols: Sequence[str] | None, cluster_by: Sequence[str] | None,
                  schema: Any, format: str | None, path: str | None,
                  location: SourceLocation) -> dict[str, Any]:
    """The stored-table fields from dlt's keyword arguments (None: not given)."""
    return dict(path=table_path(path, location), table_properties=dict(table_properties or {}),
                partition_cols=tuple(partition_cols or ()), cluster_by=tuple(cluster_by or ()),
                format=format, **schema_fields(schema, location))


def _check_callable(func: Any, decorator: str, location: SourceLocation) -> None:
    if not callable(func):
        raise LakesmithError(
            f"{location}: @dlt.{decorator} must decorate a query function that returns a "
            f"DataFrame, e.g. @dlt.{decorator}(name='x') above `def x(): ...`."
        )


def _rules(rules: Mapping[str, str] | None, action: ExpectationAction,
           location: SourceLocation) -> tuple[Expectation, ...]:
    return tuple(Expectation(k, v, action, location) for k, v in (rules or {}).items())


def _unsupported(location: SourceLocation, **options: Any) -> None:
    for option, value in options.items():
        if value is not None:
            raise NotSupportedYet(f"{location}: the '{option}' option is not supported by lakesmith yet.")
