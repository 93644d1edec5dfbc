"""`lakesmith.session()`: a Spark session on the project's engine for scripts, notebooks and jobs,
where the pipeline's tables resolve by name (as in the pipeline), Delta utility statements work
(`DESCRIBE HISTORY`, `OPTIMIZE`, `VACUUM`, `RESTORE`, `CLUSTER BY`, ...), the event log is the
table `event_log`, and `from delta.tables import DeltaTable` imports lakesmith's DeltaTable when
delta-spark is not installed (`lakesmith.deltaspark`). `lakesmith shell` and `lakesmith sql` use it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from lakesmith.engine.delta_session import DeltaSession
from lakesmith.engine.session import Engine, start_engine
from lakesmith.errors import LakesmithError, SpecError
from lakesmith.graph.identifiers import NameResolver
from lakesmith.locations import Location
from lakesmith.project import DEFAULT_CATALOG, PipelineSpec, find_spec, load_spec
from lakesmith.runtime.published_views import register_views
from lakesmith.runtime.storage import PipelineStorage
from lakesmith.storage_options import engine_environment
from lakesmith.tables.catalog import TableCatalog
from lakesmith.tables.commands import DeltaContext, TableRef
from lakesmith.tables.locate import locate_table

DEFAULT_SCHEMA = "default"


def session(project: str | os.PathLike[str] | None = None, *, remote: str | None = None,
            verbose: bool = False) -> DeltaSession:
    """A session on the project's engine (embedded Sail, or `remote` / $SPARK_REMOTE).

    `project` is the project folder or its spark-pipeline.yml (default: found from the current
    directory up; with none, tables go to ./spark-warehouse). `spark.stop()` also stops the
    embedded engine."""
    spec = _spec(project)
    engine = start_engine(remote, verbose=verbose,
                          conf=spec.configuration if spec else {},
                          environment=engine_environment(spec.storage.options) if spec else {},
                          session_class=DeltaSession)
    try:
        return open_session(engine, spec)
    except BaseException:
        engine.stop()
        raise


def open_session(engine: Engine, spec: PipelineSpec | None) -> DeltaSession:
    """Make `engine`'s session the user's: tables registered, Delta statements, `delta` module."""
    from lakesmith.deltaspark.finder import install_delta_module
    from lakesmith.engine.databricks_sql import EVENT_LOG_TABLE
    from lakesmith.pipeline import prepare_session
    from lakesmith.runtime.checkpoint.retention import versions_needed
    from lakesmith.tables.delta import is_delta_table
    from lakesmith.tables.delta import table_id as latest_table_id

    spark: DeltaSession = engine.spark
    # sqlglot warns when it falls back to an opaque command for a statement lakesmith only
    # inspects (EXPLAIN, SHOW ...); the engine runs those, so the warning is noise.
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    if spec is not None:
        prepare_session(spark, spec)
        warehouse = spec.warehouse
        resolver = NameResolver(spec.catalog, spec.schema)
        options = spec.storage.options
    else:
        warehouse = Location.local(Path.cwd() / "spark-warehouse")
        resolver = NameResolver(DEFAULT_CATALOG, DEFAULT_SCHEMA)
        options = {}
    catalog = TableCatalog(warehouse, spark)
    catalog.register_warehouse()
    if spec is not None:
        storage = PipelineStorage(spec.storage, spec.name)
        _register_tables_outside_warehouse(catalog, storage, spec)
        if is_delta_table(storage.events):
            catalog.register_path(EVENT_LOG_TABLE, storage.events)

    def new_table_location(ref: TableRef) -> Location | None:
        if ref.path is not None:
            return None
        name = resolver.qualify(".".join("`" + p.replace("`", "``") + "`" for p in ref.parts))
        catalog._ensure_schema(name.schema)
        return catalog.location(name)

    def needed_from(location: Location) -> int | None:
        table_id = latest_table_id(location)
        if spec is None or table_id is None:
            return None
        return versions_needed(PipelineStorage(spec.storage, spec.name).checkpoints, table_id)

    def resolve(ref: TableRef) -> Location:
        # The engine knows one catalog: `catalog.schema.table` of this project is `schema.table`.
        if len(ref.parts) == 3 and ref.parts[0].lower() == resolver.default_catalog.lower():
            ref = TableRef(parts=ref.parts[1:])
        return locate_table(spark, ref, options)

    view_properties: dict[str, dict[str, str]] = {}

    def properties_of_view(ref: TableRef) -> dict[str, str] | None:
        if ref.path is not None or not view_properties:
            return None
        try:
            name = resolver.qualify(ref.engine_name())
        except LakesmithError:  # more than three parts: no view of this project
            return None
        if name.catalog.lower() != resolver.default_catalog.lower():
            return None
        return view_properties.get(TableCatalog.engine_name(name))

    spark.delta_context = DeltaContext(
        spark=spark, resolve=resolve,
        engine_sql=spark.engine_sql,
        conf=dict(spec.configuration) if spec else {}, default_location=new_table_location,
        needed_from=needed_from, view_properties=properties_of_view)
    if spec is not None:
        for view in register_views(spark, PipelineStorage(spec.storage, spec.name).location):
            view_properties[view.engine_name] = view.properties
    spark.on_stop = engine.stop
    install_delta_module()
    return spark


def _register_tables_outside_warehouse(catalog: TableCatalog, storage: PipelineStorage,
                                       spec: PipelineSpec) -> None:
    """The pipeline's tables with their own `path` / `LOCATION`, as its last update recorded
    them (the session does not load the pipeline's sources to find them)."""
    for name, uri in storage.table_locations().items():
        catalog.paths[name] = spec.location(uri, where=str(storage.table_locations_file))
        if catalog.exists(name):
            catalog.register(name)


def _spec(project: str | os.PathLike[str] | None) -> PipelineSpec | None:
    if project is None:
        try:
            found = find_spec(Path.cwd())
        except SpecError:  # no project here: a session without pipeline tables
            return None
        return load_spec(found)
    path = Path(project)
    return load_spec(path if path.is_file() else find_spec(path))
