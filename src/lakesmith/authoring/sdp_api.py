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

from lakesmith.authoring.auto_cdc import auto_cdc_flow
from lakesmith.authoring.context import caller_location, current_registry


def create_auto_cdc_flow(target: str, source: str, keys: Sequence[Any], sequence_by: Any,
                         apply_as_deletes: Any = None, column_list: Sequence[Any] | None = None,
                         except_column_list: Sequence[Any] | None = None,
                         stored_as_scd_type: int | str | None = None, name: str | None = None, *,
                         track_history_column_list: Sequence[Any] | None = None,
                         track_history_except_column_list: Sequence[Any] | None = None,
                         spark_conf: dict[str, str] | None = None) -> None:
    current_registry().add_flow(auto_cdc_flow(
        target=target, source=source, keys=keys, sequence_by=sequence_by,
        location=caller_location(), name=name, apply_as_deletes=apply_as_deletes,
        column_list=column_list, except_column_list=except_column_list,
        stored_as_scd_type=stored_as_scd_type,
        track_history_column_list=track_history_column_list,
        track_history_except_column_list=track_history_except_column_list,
        spark_conf=spark_conf,
    ))


@contextmanager
def spark_43_api() -> Iterator[None]:
    """Serve the 4.3 `create_auto_cdc_flow` from `pyspark.pipelines` for the duration."""
    saved = (dp.create_auto_cdc_flow, dp_api.create_auto_cdc_flow)
    dp.create_auto_cdc_flow = dp_api.create_auto_cdc_flow = create_auto_cdc_flow
    try:
        yield
    finally:
        dp.create_auto_cdc_flow, dp_api.create_auto_cdc_flow = saved
