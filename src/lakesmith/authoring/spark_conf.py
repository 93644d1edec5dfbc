"""The `spark_conf` of a flow (Python `spark_conf=`, SQL `SET`) that lakesmith can honour.

A flow's Spark conf is set on the session while the flow runs. Keys that only configure a
Databricks cluster or its runtime (executors, the driver, `spark.databricks.*`) mean nothing to
the engine here: each is reported once as a warning naming it, and left out.
"""

from __future__ import annotations

from collections.abc import Mapping

from lakesmith.authoring.source_warnings import warn_source
from lakesmith.source_location import SourceLocation

CLUSTER_ONLY_PREFIXES = (
    "spark.databricks.", "spark.executor.", "spark.driver.", "spark.dynamicAllocation.",
    "spark.task.", "spark.cores.", "spark.memory.", "spark.hadoop.", "spark.master",
)


def is_cluster_only(key: str) -> bool:
    return key.startswith(CLUSTER_ONLY_PREFIXES)


def honoured_spark_conf(conf: Mapping[str, str] | None,
                        location: SourceLocation) -> dict[str, str]:
    """`conf` without the keys lakesmith cannot honour, each reported at `location`."""
    kept: dict[str, str] = {}
    for key, value in (conf or {}).items():
        if is_cluster_only(str(key)):
            warn_source(f"spark_conf '{key}' configures a Databricks cluster; lakesmith's engine "
                        "has no such setting, so it is ignored.", location)
        else:
            kept[str(key)] = str(value)
    return kept
