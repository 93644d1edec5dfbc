"""Loading a project's sources: import each Python file with lakesmith's registry active and the
global `spark` injected (as `spark-pipelines` does), and parse each SQL file. Databricks notebook
exports load too (`authoring/notebook.py`), with the notebook globals `dbutils` and `display`
(`authoring/databricks_runtime.py`)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from pyspark.pipelines.block_session_mutations import block_session_mutations
from pyspark.pipelines.graph_element_registry import graph_element_registration_context

from lakesmith.authoring import dlt as dlt_module
from lakesmith.authoring import notebook
from lakesmith.authoring.context import session_active
from lakesmith.authoring.databricks_runtime import (
    conf_problem,
    missing_conf_key,
    notebook_globals,
    use_catalog_handled,
)
from lakesmith.authoring.registry import DefinitionRegistry
from lakesmith.authoring.sdp_api import spark_43_api
from lakesmith.authoring.sdp_databricks_api import databricks_dataset_api
from lakesmith.authoring.source_warnings import warn_source, warnings_once
from lakesmith.authoring.tracebacks import describe, user_location
from lakesmith.engine.semantics.deferred_sql import sql_deferred
from lakesmith.engine.sql_variables import pipeline_sql_substituted
from lakesmith.errors import LakesmithError, SourceLoadError, SourceLoadErrors
from lakesmith.graph.identifiers import NameResolver
from lakesmith.graph.load_time_schemas import definitions_analysable
from lakesmith.graph.model import Definitions
from lakesmith.project import SOURCE_SUFFIXES, PipelineSpec
from lakesmith.source_location import SourceLocation


def load_definitions(spec: PipelineSpec, spark: Any) -> tuple[Definitions, list[Path]]:
    """Every definition the spec's sources register, and the source files, in load order."""
    files = spec.library_files()
    for file in files:
        if file.suffix not in SOURCE_SUFFIXES:
            raise SourceLoadError(
                f"unsupported source file type '{file.suffix or file.name}'.",
                SourceLocation(str(file)),
                hint="pipeline libraries are .py and .sql files; narrow the glob in "
                f"{spec.path.name} to match only those.",
            )
    registry = DefinitionRegistry(dict(spec.configuration))
    from lakesmith.deltaspark.finder import install_delta_module

    install_delta_module()  # `from delta.tables import DeltaTable` in pipeline code
    problems: list[SourceLoadError] = []
    with _loading(spec, spark, registry):
        for file in files:
            try:
                if file.suffix == ".py":
                    _import_python(file, spark, files, spec)
                else:
                    _register_sql(file, registry)
            except SourceLoadError as e:  # every file is loaded, so one run names every problem
                problems.append(e)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise SourceLoadErrors(problems)
    return registry.definitions, files


@contextmanager
def _loading(spec: PipelineSpec, spark: Any, registry: DefinitionRegistry) -> Iterator[None]:
    with ExitStack() as stack:
        stack.enter_context(graph_element_registration_context(registry))
        stack.enter_context(spark_43_api())
        stack.enter_context(databricks_dataset_api())
        stack.enter_context(_module_alias("dlt", dlt_module))
        stack.enter_context(_on_sys_path(spec.root))
        stack.enter_context(session_active(spark))
        stack.enter_context(sql_deferred(spark))  # inside USE CATALOG's (which names the caller)
        stack.enter_context(use_catalog_handled(spark, spec))
        # last: every other wrapper of spark.sql sees the substituted text
        stack.enter_context(pipeline_sql_substituted(spark, spec.configuration))
        stack.enter_context(warnings_once())
        stack.enter_context(definitions_analysable(
            spark, registry.definitions, NameResolver(spec.catalog, spec.schema),
            spec.root_location))
        yield


def _import_python(file: Path, spark: Any, files: list[Path], pipeline: PipelineSpec) -> None:
    text = _read_text(file)
    is_notebook = notebook.is_notebook(text, "python")
    if is_notebook:
        _warn_ignored_magic(text, "python", file)
    spec = importlib.util.spec_from_file_location(file.stem, str(file))
    if spec is None or spec.loader is None:
        raise SourceLoadError("cannot be imported as a Python module.", SourceLocation(str(file)))
    module = importlib.util.module_from_spec(spec)
    module.__dict__["spark"] = spark
    module.__dict__.update(notebook_globals(pipeline))
    try:
        with block_session_mutations():
            spec.loader.exec_module(module)
    except SyntaxError as e:
        cell = (f" (notebook cell {notebook.cell_number(text, 'python', e.lineno)})"
                if is_notebook and e.lineno else "")
        raise SourceLoadError(f"syntax error{cell}: {e.msg}",
                              SourceLocation(str(file), e.lineno)) from e
    except LakesmithError:
        raise
    except Exception as e:  # user code: point at the line that raised
        where = user_location(e, {str(f) for f in files}, SourceLocation(str(file)))
        key = missing_conf_key(e)
        if key is not None:
            raise SourceLoadError(conf_problem(key), where or SourceLocation(str(file))) from e
        raise SourceLoadError(f"error while loading pipeline source: {describe(e)}",
                              where or SourceLocation(str(file))) from e


def _register_sql(file: Path, registry: DefinitionRegistry) -> None:
    text = _read_text(file)
    if notebook.is_notebook(text, "sql"):
        _warn_ignored_magic(text, "sql", file)
    registry.register_sql(text, file)


def _read_text(file: Path) -> str:
    try:
        return file.read_text()
    except UnicodeDecodeError as e:
        raise SourceLoadError("is not UTF-8 text.", SourceLocation(str(file))) from e


def _warn_ignored_magic(text: str, language: str, file: Path) -> None:
    for magic in notebook.ignored_magic_commands(text, language):
        warn_source(f"`{magic.command}` is not run in a pipeline: it {magic.why}.",
                    SourceLocation(str(file), magic.line))


@contextmanager
def _module_alias(name: str, module: Any) -> Iterator[None]:
    """Make `import name` give `module` while sources load; restore whatever was there."""
    missing = object()
    saved = sys.modules.get(name, missing)
    sys.modules[name] = module
    try:
        yield
    finally:
        if saved is missing:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = saved  # type: ignore[assignment]


@contextmanager
def _on_sys_path(path: Path) -> Iterator[None]:
    entry = str(path)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)

