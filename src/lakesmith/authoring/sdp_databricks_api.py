"""Databricks' keyword arguments of the `pyspark.pipelines` dataset functions that Apache Spark's
signature lacks, served while sources load.

Databricks' `dp.table`, `dp.materialized_view` and `dp.create_streaming_table` accept
`cluster_by_auto=True` (automatic liquid clustering, optionally with `cluster_by` as the first
columns); Spark's do not, so a pipeline written for Databricks would fail with a TypeError. The
wrappers take the argument off, let Spark's function register the dataset, and mark the datasets
it registered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pyspark.pipelines as dp
import pyspark.pipelines.api as dp_api

from lakesmith.authoring.context import current_registry
from lakesmith.graph.datasets import Table

WRAPPED = ("table", "materialized_view", "create_streaming_table")


def _with_cluster_by_auto(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(*args: Any, cluster_by_auto: bool = False, **kwargs: Any) -> Any:
        registered = len(current_registry().definitions.datasets)
        with _caller_one_frame_up():
            result = original(*args, **kwargs)
        if not cluster_by_auto:
            return result
        if callable(result):
            # `@dp.table(cluster_by_auto=True)`: Spark's decorator registers the dataset when it
            # is applied to the query function.
            def apply(func: Any) -> Any:
                before = len(current_registry().definitions.datasets)
                applied = result(func)
                _mark_auto(before)
                return applied

            return apply
        _mark_auto(registered)
        return result

    return wrapper


@contextmanager
def _caller_one_frame_up() -> Iterator[None]:
    """Spark's function records its caller's file and line as the definition's location: with
    this wrapper in between, it must look one frame further up (and only during this call)."""
    name = "get_caller_source_code_location"
    find = getattr(dp_api, name)
    setattr(dp_api, name, lambda stacklevel: find(stacklevel + 2))
    try:
        yield
    finally:
        setattr(dp_api, name, find)


def _mark_auto(first: int) -> None:
    """Mark the datasets registered from index `first` on as CLUSTER BY AUTO."""
    datasets = current_registry().definitions.datasets
    for i in range(first, len(datasets)):
        dataset = datasets[i]
        if isinstance(dataset, Table):
            datasets[i] = replace(dataset, cluster_by_auto=True)


@contextmanager
def databricks_dataset_api() -> Iterator[None]:
    """Serve `cluster_by_auto` on `pyspark.pipelines`' dataset functions for the duration."""
    saved = {name: (getattr(dp, name), getattr(dp_api, name)) for name in WRAPPED}
    for name in WRAPPED:
        wrapped = _with_cluster_by_auto(saved[name][1])
        setattr(dp, name, wrapped)
        setattr(dp_api, name, wrapped)
    try:
        yield
    finally:
        for name, (module_value, api_value) in saved.items():
            setattr(dp, name, module_value)
            setattr(dp_api, name, api_value)
