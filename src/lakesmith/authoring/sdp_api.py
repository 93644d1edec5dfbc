"""The Spark 4.3 signature of `pyspark.pipelines.create_auto_cdc_flow`, served while sources load.

The newest published Spark Connect client (4.2) accepts only `stored_as_scd_type=1`; Spark 4.3
accepts 1 or 2 and the keyword-only `track_history_column_list`, `track_history_except_column_list`
and `spark_conf`. Pipelines written for 4.3 must load unchanged whatever client is installed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyspark.pipelines as dp
import pyspark.pipelines.api as dp_api

from lakesmith.authoring.context import caller_location, current_registry
from lakesmith.errors import LakesmithError
from lakesmith.graph.model import AutoCdcFlow


def create_auto_cdc_flow(target: str, source: str, keys: Sequence[Any], sequence_by: Any,
                         apply_as_deletes: Any = None, column_list: Sequence[Any] | None = None,
                         except_column_list: Sequence[Any] | None = None,
                         stored_as_scd_type: int | str | None = None, name: str | None = None, *,
                         track_history_column_list: Sequence[Any] | None = None,
                         track_history_except_column_list: Sequence[Any] | None = None,
                         spark_conf: dict[str, str] | None = None) -> None:
    location = caller_location()
    for arg, value in (("target", target), ("source", source)):
        if not isinstance(value, str):
            raise LakesmithError(f"{location}: create_auto_cdc_flow: '{arg}' must be a string.")
    if not isinstance(keys, (list, tuple)) or not keys:
        raise LakesmithError(f"{location}: create_auto_cdc_flow: 'keys' must be a non-empty list.")
    if column_list is not None and except_column_list is not None:
        raise LakesmithError(
            f"{location}: create_auto_cdc_flow: pass only one of column_list and except_column_list.")
    scd = 1 if stored_as_scd_type is None else stored_as_scd_type
    if str(scd) not in ("1", "2"):
        raise LakesmithError(
            f"{location}: create_auto_cdc_flow: stored_as_scd_type must be 1 or 2, got {scd!r}.")
    current_registry().add_flow(AutoCdcFlow(
        name=name or target, target=target, source=source, keys=tuple(keys), sequence_by=sequence_by,
        location=location, apply_as_deletes=apply_as_deletes,
        column_list=tuple(column_list) if column_list is not None else None,
        except_column_list=tuple(except_column_list) if except_column_list is not None else None,
        stored_as_scd_type=int(scd),
        track_history_column_list=_tuple(track_history_column_list),
        track_history_except_column_list=_tuple(track_history_except_column_list),
        spark_conf=dict(spark_conf or {}),
    ))


def _tuple(values: Sequence[Any] | None) -> tuple[Any, ...] | None:
    return tuple(values) if values is not None else None


@contextmanager
def spark_43_api() -> Iterator[None]:
    """Serve the 4.3 `create_auto_cdc_flow` from `pyspark.pipelines` for the duration."""
    saved = (dp.create_auto_cdc_flow, dp_api.create_auto_cdc_flow)
    dp.create_auto_cdc_flow = dp_api.create_auto_cdc_flow = create_auto_cdc_flow  # type: ignore[assignment]
    try:
        yield
    finally:
        dp.create_auto_cdc_flow, dp_api.create_auto_cdc_flow = saved  # type: ignore[assignment]
