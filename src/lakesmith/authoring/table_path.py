"""A table's `path` (Python `path=`, SQL `LOCATION '…'`): where its Delta folder lives when not in
the warehouse, as in a Databricks pipeline that publishes to the Hive metastore.

A local path (relative to the project) or an object-store URI (`s3://…`, `abfss://…`) is honoured.
A Databricks file system path (`dbfs:/…`, `/dbfs/…`, `/mnt/…` mounts, `/Volumes/…`) exists only
on Databricks: it is reported once as a warning and the table stays in the warehouse.
"""

from __future__ import annotations

from lakesmith.authoring.source_warnings import warn_source
from lakesmith.source_location import SourceLocation

DATABRICKS_ONLY_PREFIXES = ("dbfs:", "/dbfs/", "/mnt/", "/Volumes/", "/Workspace/")


def table_path(path: str | None, location: SourceLocation) -> str | None:
    """The path to store the table at, or None for the warehouse."""
    if path is None:
        return None
    if path.startswith(DATABRICKS_ONLY_PREFIXES):
        warn_source(f"path {path!r} is on the Databricks file system, which does not exist "
                    "here: the table is stored in the warehouse (the spec's "
                    "`spark.sql.warehouse.dir`). Give a local path or an object-store URI to "
                    "choose where it goes.", location)
        return None
    return path
