"""The AUTO CDC flow that the Python APIs describe (`pyspark.pipelines.create_auto_cdc_flow` in
its 4.2 and 4.3 signatures, `dlt.create_auto_cdc_flow` / `dlt.apply_changes`), and the one from
snapshots (`dlt.create_auto_cdc_from_snapshot_flow` / `dlt.apply_changes_from_snapshot`).

They share argument conventions that the graph's `AutoCdcFlow` does not: lists where the flow
keeps tuples, `stored_as_scd_type` as `1`, `"1"`, `2`, `"2"` or None, a missing name meaning the
target's. This module converts them; the rules of the flow itself (one key at least, SCD type 1
or 2, which options go together) are checked by `AutoCdcFlow`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lakesmith.errors import InvalidDefinition
from lakesmith.graph.flows import AutoCdcFlow, AutoCdcSnapshotFlow
from lakesmith.source_location import SourceLocation


def auto_cdc_flow(*, target: str, source: str, keys: Sequence[Any], sequence_by: Any,
                  location: SourceLocation, name: str | None = None,
                  apply_as_deletes: Any = None, apply_as_truncates: Any = None,
                  column_list: Sequence[Any] | None = None,
                  except_column_list: Sequence[Any] | None = None,
                  stored_as_scd_type: int | str | None = None,
                  track_history_column_list: Sequence[Any] | None = None,
                  track_history_except_column_list: Sequence[Any] | None = None,
                  ignore_null_updates: bool = False,
                  spark_conf: Mapping[str, str] | None = None) -> AutoCdcFlow:
    if not isinstance(keys, (list, tuple)):
        # tuple("id") would be ("i", "d"): refuse before converting.
        raise InvalidDefinition(
            f"create_auto_cdc_flow: 'keys' must be a non-empty list, got {keys!r}.", location)
    return AutoCdcFlow(
        name=target if name is None else name,
        target=target,
        source=source,
        keys=tuple(keys),
        sequence_by=sequence_by,
        location=location,
        apply_as_deletes=apply_as_deletes,
        apply_as_truncates=apply_as_truncates,
        column_list=_optional_tuple(column_list),
        except_column_list=_optional_tuple(except_column_list),
        stored_as_scd_type=_scd_type(stored_as_scd_type),
        track_history_column_list=_optional_tuple(track_history_column_list),
        track_history_except_column_list=_optional_tuple(track_history_except_column_list),
        ignore_null_updates=ignore_null_updates,
        spark_conf=dict(spark_conf or {}),
    )


def snapshot_flow(*, target: str, source: Any, keys: Sequence[Any], location: SourceLocation,
                  name: str | None = None, stored_as_scd_type: int | str | None = None,
                  track_history_column_list: Sequence[Any] | None = None,
                  track_history_except_column_list: Sequence[Any] | None = None
                  ) -> AutoCdcSnapshotFlow:
    if not isinstance(keys, (list, tuple)):
        raise InvalidDefinition(
            "create_auto_cdc_from_snapshot_flow: 'keys' must be a non-empty list, got "
            f"{keys!r}.", location)
    return AutoCdcSnapshotFlow(
        name=target if name is None else name, target=target, source=source, keys=tuple(keys),
        location=location, stored_as_scd_type=_scd_type(stored_as_scd_type),
        track_history_column_list=_optional_tuple(track_history_column_list),
        track_history_except_column_list=_optional_tuple(track_history_except_column_list))


def _optional_tuple(values: Sequence[Any] | None) -> tuple[Any, ...] | None:
    return tuple(values) if values is not None else None


def _scd_type(value: int | str | None) -> Any:
    """1 or 2 from `1`, `"1"`, `2`, `"2"` (None: 1); any other value unchanged, for AutoCdcFlow
    to refuse with the value the user wrote."""
    if value is None:
        return 1
    if isinstance(value, str) and value.strip() in ("1", "2"):
        return int(value)
    return value
