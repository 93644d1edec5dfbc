"""The Databricks notebook globals a pipeline source may use, in their local meaning.

Databricks gives every notebook `dbutils` and `display`, and sources call `spark.sql("USE
CATALOG …")`. Here, while sources load:

- `dbutils.widgets.get(key)` reads the pipeline `configuration` (on Databricks, pipeline parameters
  are read this way too); an unknown key is an error naming the file and line.
- `dbutils.fs.ls(path)` lists a local folder or an object-store prefix (a relative path means the
  project folder), returning `FileInfo(path, name, size, modificationTime)` as Databricks does.
- `display(...)` shows nothing in a pipeline run (there is no notebook to show it in): it is
  ignored, with a warning naming the line.
- `spark.sql("USE CATALOG c")` is accepted when `c` is the pipeline's catalog, and refused
  otherwise (the spec's `catalog` decides where tables go).
- Everything else on `dbutils` (secrets, notebook, jobs, …) fails naming the call, file and line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from lakesmith.authoring.context import caller_location
from lakesmith.authoring.source_warnings import warn_source
from lakesmith.errors import SourceLoadError
from lakesmith.files import StorageError, store_for
from lakesmith.locations import Location
from lakesmith.project import PipelineSpec

_USE_CATALOG = re.compile(r"\s*USE\s+CATALOG\s+(`(?:[^`]|``)+`|[\w.]+)\s*;?\s*", re.IGNORECASE)


class FileInfo(NamedTuple):
    """An entry of `dbutils.fs.ls`, with Databricks' field names (folders end in `/`)."""

    path: str
    name: str
    size: int
    modificationTime: int | None  # milliseconds since the epoch; None where the store has none


class _Unsupported:
    """A `dbutils` member lakesmith has no local meaning for: any use fails at the caller."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        raise _unsupported(self._name, attribute)


def _unsupported(group: str, attribute: str) -> SourceLoadError:
    """The error for `dbutils.<group>.<attribute>`, at the user's line (two frames up)."""
    return SourceLoadError(
        f"dbutils.{group}.{attribute} is Databricks-only and has no meaning in a lakesmith "
        "pipeline.", caller_location(2),
        hint=_HINTS.get(group, "remove the call, or pass the value through the spec's "
                               "`configuration` and read it with spark.conf.get."))


_HINTS = {
    "secrets": "put credentials in the environment (AWS_*, ...) or the spec's `configuration`, "
               "and read them with os.environ or spark.conf.get.",
    "notebook": "list the other file in the spec's `libraries`, or import it as a module.",
}


class Widgets:
    def __init__(self, spec: PipelineSpec) -> None:
        self._configuration = spec.configuration

    def get(self, name: str) -> str:
        """The pipeline configuration value `name`."""
        if name not in self._configuration:
            raise SourceLoadError(
                f"dbutils.widgets.get({name!r}): '{name}' is not in the pipeline configuration.",
                caller_location(), hint=f"add `{name}: ...` under `configuration:` in the spec.")
        return self._configuration[name]

    def text(self, name: str, default_value: str = "", label: str | None = None) -> None:
        """Declaring a widget changes nothing: values come from the configuration."""

    dropdown = combobox = multiselect = text

    def __getattr__(self, attribute: str) -> Any:
        raise _unsupported("widgets", attribute)


class FileSystem:
    def __init__(self, spec: PipelineSpec) -> None:
        self._spec = spec

    def ls(self, path: str) -> list[FileInfo]:
        """The entries of folder `path` (local, `s3://`, ...), folders with a trailing `/`."""
        where = caller_location()
        if path.startswith(("dbfs:", "/dbfs/", "/Volumes/", "/Workspace/")):
            raise SourceLoadError(
                f"dbutils.fs.ls({path!r}): Databricks file system paths do not exist outside "
                "Databricks.", where,
                hint="put the folder's local path or object-store URI in the spec's "
                     "`configuration` and read it with spark.conf.get.")
        location = self._spec.location(path, where=str(where))
        try:
            store = store_for(location)
            entries = store.list(location)
        except StorageError as e:
            raise SourceLoadError(f"dbutils.fs.ls({path!r}): {e.message}", where) from e
        if not entries and not store.exists(location):
            raise SourceLoadError(f"dbutils.fs.ls({path!r}): {location} does not exist.", where)
        base = location.uri.rstrip("/")
        return [FileInfo(f"{base}/{e.name}{'/' if e.is_dir else ''}",
                         e.name + ("/" if e.is_dir else ""), e.size,
                         _modified_ms(location, e.name))
                for e in sorted(entries, key=lambda e: e.name)]

    def __getattr__(self, attribute: str) -> Any:
        raise _unsupported("fs", attribute)


def _modified_ms(folder: Location, name: str) -> int | None:
    if not folder.is_local:
        return None
    return os.stat(folder.local_path / name).st_mtime_ns // 1_000_000


class DBUtils:
    """`dbutils` in a pipeline source."""

    def __init__(self, spec: PipelineSpec) -> None:
        self.widgets = Widgets(spec)
        self.fs = FileSystem(spec)

    def __getattr__(self, name: str) -> Any:
        return _Unsupported(name)


def display(*args: Any, **kwargs: Any) -> None:
    """Databricks' notebook `display`: a pipeline has nothing to show it in."""
    warn_source("display(...) shows nothing in a pipeline run; lakesmith ignores it "
                "(query the table with `lakesmith sql` instead).", caller_location())


def notebook_globals(spec: PipelineSpec) -> dict[str, Any]:
    """What a Databricks notebook sees besides `spark`."""
    return {"dbutils": DBUtils(spec), "display": display}


@contextmanager
def use_catalog_handled(spark: Any, spec: PipelineSpec) -> Iterator[None]:
    """While sources load, `spark.sql("USE CATALOG c")` means the pipeline's catalog or fails."""
    original = spark.sql

    def sql(query: str, *args: Any, **kwargs: Any) -> Any:
        match = _USE_CATALOG.fullmatch(query) if isinstance(query, str) else None
        if match is None:
            return original(query, *args, **kwargs)
        catalog = match.group(1).strip("`")
        if catalog.lower() != spec.catalog.lower():
            raise SourceLoadError(
                f"spark.sql({query.strip()!r}): the pipeline's tables are in catalog "
                f"'{spec.catalog}'; a source cannot switch to '{catalog}'.", caller_location(),
                hint=f"set `catalog: {catalog}` in {spec.path.name}, or remove the USE CATALOG.")
        return None

    spark.sql = sql
    try:
        yield
    finally:
        del spark.sql  # the class's method again


def missing_conf_key(error: BaseException) -> str | None:
    """The key of a failed `spark.conf.get(key)` (Sail's and Spark's wording), else None."""
    text = str(error)
    for pattern in (r"configuration not found: (\S+)", r"SQL config \"([^\"]+)\" cannot be found",
                    r"\[SQL_CONF_NOT_FOUND\][^\"]*\"([^\"]+)\""):
        match = re.search(pattern, text)
        if match:
            return match.group(1)
    return None


def conf_problem(key: str) -> str:
    """What is wrong when `spark.conf.get(key)` found nothing, and what to do."""
    return (f"spark.conf.get({key!r}): '{key}' is not in the pipeline configuration and no "
            f"default was given; add `{key}: ...` under `configuration:` in the spec, or pass a "
            f"default: spark.conf.get({key!r}, 'value').")
