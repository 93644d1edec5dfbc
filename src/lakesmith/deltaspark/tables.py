"""`delta.tables.DeltaTable` for Spark Connect without a JVM: delta-spark's Python API (same
names, arguments and results), run as SQL in the engine (MERGE, UPDATE, DELETE) and with delta-rs
(history, detail, restore, optimize, vacuum, manifests; `lakesmith.tables.operations`).

Imported as `delta.tables` when delta-spark is not installed (see `finder.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from lakesmith.deltaspark.builder import DeltaTableBuilder
from lakesmith.deltaspark.columns import to_sql
from lakesmith.errors import LakesmithError
from lakesmith.graph.identifiers import split_identifier
from lakesmith.locations import Location
from lakesmith.tables import operations
from lakesmith.tables.commands.statement import TableRef
from lakesmith.tables.delta import is_delta_table, open_table
from lakesmith.tables.locate import locate_table

MERGE_METRICS_SCHEMA = ("num_affected_rows BIGINT, num_updated_rows BIGINT, "
                        "num_deleted_rows BIGINT, num_inserted_rows BIGINT")


class DeltaTable:
    """A Delta table, by name or path. Build it with `forName` / `forPath`."""

    def __init__(self, spark: Any, ref: TableRef, location: Location,
                 alias: str | None = None) -> None:
        self._spark = spark
        self._ref = ref
        self._location = location
        self._alias = alias

    # -- finding tables --------------------------------------------------------------------------

    @classmethod
    def forPath(cls, sparkSession: Any, path: str,  # noqa: N802,N803
                hadoopConf: Mapping[str, str] | None = None) -> DeltaTable:  # noqa: N803
        ref = TableRef(path=path)
        location = Location.parse(path, options=dict(hadoopConf or {}) or None)
        if not is_delta_table(location):
            raise LakesmithError(f"[DELTA_MISSING_DELTA_TABLE] {path} is not a Delta table.")
        return cls(sparkSession, ref, location)

    @classmethod
    def forName(cls, sparkSession: Any, tableOrViewName: str) -> DeltaTable:  # noqa: N802,N803
        ref = TableRef(parts=tuple(split_identifier(tableOrViewName)))
        return cls(sparkSession, ref, locate_table(sparkSession, ref))

    @classmethod
    def isDeltaTable(cls, sparkSession: Any, identifier: str) -> bool:  # noqa: N802,N803
        """Whether the path `identifier` is the root of a Delta table."""
        return is_delta_table(Location.parse(identifier))

    @classmethod
    def create(cls, sparkSession: Any = None) -> DeltaTableBuilder:  # noqa: N803
        return DeltaTableBuilder(_session(sparkSession), "create")

    @classmethod
    def createIfNotExists(cls, sparkSession: Any = None) -> DeltaTableBuilder:  # noqa: N802,N803
        return DeltaTableBuilder(_session(sparkSession), "createIfNotExists")

    @classmethod
    def replace(cls, sparkSession: Any = None) -> DeltaTableBuilder:  # noqa: N803
        return DeltaTableBuilder(_session(sparkSession), "replace")

    @classmethod
    def createOrReplace(cls, sparkSession: Any = None) -> DeltaTableBuilder:  # noqa: N802,N803
        return DeltaTableBuilder(_session(sparkSession), "createOrReplace")

    # -- reading ---------------------------------------------------------------------------------

    def toDF(self) -> Any:  # noqa: N802
        if self._ref.path is not None:
            df = self._spark.read.format("delta").load(self._ref.path)
        else:
            df = self._spark.table(self._ref.engine_name())
        return df.alias(self._alias) if self._alias else df

    def alias(self, aliasName: str) -> DeltaTable:  # noqa: N803
        return DeltaTable(self._spark, self._ref, self._location, aliasName)

    def history(self, limit: int | None = None) -> Any:
        rows = operations.history(self._location, self._ref.display, limit)
        return self._frame(rows, operations.HISTORY_SCHEMA)

    def detail(self) -> Any:
        return self._frame([operations.detail(self._location, self._ref.display)],
                           operations.DETAIL_SCHEMA)

    # -- changing rows ---------------------------------------------------------------------------

    def delete(self, condition: Any = None) -> Any:
        where = f" WHERE {to_sql(condition, 'condition')}" if condition is not None else ""
        return self._counted(f"DELETE FROM {self._target()}{where}", "numDeletedRows")

    def update(self, condition: Any = None, set: Mapping[str, Any] | None = None) -> Any:  # noqa: A002
        if not set:
            raise LakesmithError("DeltaTable.update needs `set`: a dict of column -> new value.")
        assignments = ", ".join(f"{_column(k)} = {to_sql(v, 'value')}" for k, v in set.items())
        where = f" WHERE {to_sql(condition, 'condition')}" if condition is not None else ""
        return self._counted(f"UPDATE {self._target()} SET {assignments}{where}",
                             "numUpdatedRows")

    def merge(self, source: Any, condition: Any) -> DeltaMergeBuilder:
        if source is None:
            raise ValueError("'source' in merge cannot be None")
        if condition is None:
            raise ValueError("'condition' in merge cannot be None")
        return DeltaMergeBuilder(self, source, to_sql(condition, "merge condition"))

    # -- table operations ------------------------------------------------------------------------

    def restoreToVersion(self, version: int) -> Any:  # noqa: N802
        row = operations.restore(self._location, self._ref.display, version=version)
        return self._frame([row], operations.RESTORE_SCHEMA)

    def restoreToTimestamp(self, timestamp: str) -> Any:  # noqa: N802
        row = operations.restore(self._location, self._ref.display, timestamp=timestamp)
        return self._frame([row], operations.RESTORE_SCHEMA)

    def optimize(self) -> DeltaOptimizeBuilder:
        return DeltaOptimizeBuilder(self)

    def vacuum(self, retentionHours: float | None = None) -> Any:  # noqa: N803
        check = str(self._conf(operations.RETENTION_CHECK_CONF, "true")).lower() != "false"
        context = getattr(self._spark, "delta_context", None)  # a lakesmith session's
        keep = context.keep_versions(self._location) if context is not None else []
        operations.vacuum(self._location, self._ref.display, retain_hours=retentionHours,
                          check_retention=check, keep_versions=keep)
        return self._frame([], operations.VACUUM_SCHEMA)

    def generate(self, mode: str) -> None:
        if mode != "symlink_format_manifest":
            raise LakesmithError(f"DeltaTable.generate: unknown mode {mode!r}; the supported "
                                 "mode is 'symlink_format_manifest'.")
        operations.generate_symlink_manifest(self._location, self._ref.display)

    # -- shared ----------------------------------------------------------------------------------

    def _target(self) -> str:
        name = self._ref.engine_name()
        return f"{name} AS {_column(self._alias)}" if self._alias else name

    def _frame(self, rows: list[dict[str, Any]], schema: str) -> Any:
        return self._spark.createDataFrame([tuple(r.values()) for r in rows], schema=schema)

    def _counted(self, statement: str, metric: str) -> Any:
        """Run `statement`; delta-spark's `num_affected_rows` from its commit's metrics (the
        engine's own result counts the rows of the files it touched)."""
        before = _version(self._location)
        self._spark.sql(statement).collect()
        metrics = _new_commit_metrics(self._location, before)
        count = int(metrics.get(metric, 0) or 0)
        return self._frame([{"num_affected_rows": count}], "num_affected_rows BIGINT")

    def _conf(self, key: str, default: str) -> str:
        try:
            return str(self._spark.conf.get(key, default))
        except Exception:  # the engine refuses unknown keys: the default applies
            return default


class DeltaMergeBuilder:
    """delta-spark's merge builder: clauses in the order given, then `execute()` runs one SQL
    MERGE in the engine."""

    def __init__(self, table: DeltaTable, source: Any, condition: str) -> None:
        self._table = table
        self._source = source
        self._condition = condition
        self._matched: list[str] = []
        self._not_matched: list[str] = []
        self._not_matched_by_source: list[str] = []
        self._schema_evolution = False

    def whenMatchedUpdate(self, condition: Any = None,  # noqa: N802
                          set: Mapping[str, Any] | None = None) -> DeltaMergeBuilder:  # noqa: A002
        self._matched.append(f"WHEN MATCHED{_and(condition)} THEN UPDATE SET {_set(set)}")
        return self

    def whenMatchedUpdateAll(self, condition: Any = None) -> DeltaMergeBuilder:  # noqa: N802
        self._matched.append(f"WHEN MATCHED{_and(condition)} THEN UPDATE SET *")
        return self

    def whenMatchedDelete(self, condition: Any = None) -> DeltaMergeBuilder:  # noqa: N802
        self._matched.append(f"WHEN MATCHED{_and(condition)} THEN DELETE")
        return self

    def whenNotMatchedInsert(self, condition: Any = None,  # noqa: N802
                             values: Mapping[str, Any] | None = None) -> DeltaMergeBuilder:
        if not values:
            raise LakesmithError("whenNotMatchedInsert needs `values`: a dict of column -> value.")
        columns = ", ".join(_column(k) for k in values)
        exprs = ", ".join(to_sql(v, "value") for v in values.values())
        self._not_matched.append(
            f"WHEN NOT MATCHED{_and(condition)} THEN INSERT ({columns}) VALUES ({exprs})")
        return self

    def whenNotMatchedInsertAll(self, condition: Any = None) -> DeltaMergeBuilder:  # noqa: N802
        self._not_matched.append(f"WHEN NOT MATCHED{_and(condition)} THEN INSERT *")
        return self

    def whenNotMatchedBySourceUpdate(self, condition: Any = None,  # noqa: N802
                                     set: Mapping[str, Any] | None = None  # noqa: A002
                                     ) -> DeltaMergeBuilder:
        self._not_matched_by_source.append(
            f"WHEN NOT MATCHED BY SOURCE{_and(condition)} THEN UPDATE SET {_set(set)}")
        return self

    def whenNotMatchedBySourceDelete(self, condition: Any = None) -> DeltaMergeBuilder:  # noqa: N802
        self._not_matched_by_source.append(
            f"WHEN NOT MATCHED BY SOURCE{_and(condition)} THEN DELETE")
        return self

    def withSchemaEvolution(self) -> DeltaMergeBuilder:  # noqa: N802
        self._schema_evolution = True
        return self

    def sql(self, source_name: str) -> str:
        """The MERGE statement, reading the source from the view `source_name`."""
        clauses = self._matched + self._not_matched + self._not_matched_by_source
        if not clauses:
            raise LakesmithError("DeltaTable.merge: add at least one when...() clause before "
                                 "execute().")
        alias = _source_alias(self._source)
        evolution = " WITH SCHEMA EVOLUTION" if self._schema_evolution else ""
        source = f"{source_name} AS {_column(alias)}" if alias else source_name
        return (f"MERGE{evolution} INTO {self._table._target()} USING {source} "
                f"ON {self._condition} " + " ".join(clauses))

    def execute(self) -> Any:
        table = self._table
        view = f"__lakesmith_merge_source_{uuid.uuid4().hex}"
        self._source.createOrReplaceTempView(view)
        try:
            before = _version(table._location)
            table._spark.sql(self.sql(view)).collect()
        finally:
            table._spark.catalog.dropTempView(view)
        return table._frame([_merge_metrics(table._location, before)], MERGE_METRICS_SCHEMA)


class DeltaOptimizeBuilder:
    """`DeltaTable.optimize()`: `.where(partition filter)`, then compaction or Z-order."""

    def __init__(self, table: DeltaTable) -> None:
        self._table = table
        self._where: tuple[operations.PartitionFilter, ...] = ()

    def where(self, partitionFilter: str) -> DeltaOptimizeBuilder:  # noqa: N803
        from lakesmith.tables.commands.optimize import partition_filters

        self._where = self._where + partition_filters(partitionFilter)
        return self

    def executeCompaction(self) -> Any:  # noqa: N802
        return self._run(())

    def executeZOrderBy(self, *cols: str | list[str] | tuple[str, ...]) -> Any:  # noqa: N802
        columns: list[str] = []
        for col in cols:
            columns.extend([col] if isinstance(col, str) else col)
        return self._run(tuple(columns))

    def _run(self, zorder_by: tuple[str, ...]) -> Any:
        table = self._table
        record = getattr(table._spark, "record_pending_filters", None)  # CLUSTER BY AUTO
        if record is not None:
            record()
        result = operations.optimize(table._location, table._ref.display, where=self._where,
                                     zorder_by=zorder_by, spark=table._spark)
        return table._frame([result.row], operations.OPTIMIZE_SCHEMA)


def _session(spark: Any) -> Any:
    if spark is not None:
        return spark
    from pyspark.sql.connect.session import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        raise LakesmithError("No active Spark session: pass one, e.g. "
                             "DeltaTable.create(spark), or start lakesmith.session().")
    return active


def _and(condition: Any) -> str:
    return f" AND {to_sql(condition, 'clause condition')}" if condition is not None else ""


def _set(assignments: Mapping[str, Any] | None) -> str:
    if not assignments:
        raise LakesmithError("an update clause needs `set`: a dict of column -> new value.")
    return ", ".join(f"{_column(k)} = {to_sql(v, 'value')}" for k, v in assignments.items())


def _column(name: str) -> str:
    """A column or alias as written: dotted names (`t.a`) are kept, other text is quoted."""
    parts = split_identifier(name)
    return ".".join(p if p.isidentifier() else "`" + p.replace("`", "``") + "`" for p in parts)


def _source_alias(source: Any) -> str | None:
    from pyspark.sql.connect.plan import SubqueryAlias

    plan = getattr(source, "_plan", None)
    return plan._alias if isinstance(plan, SubqueryAlias) else None


def _version(location: Location) -> int:
    table = open_table(location)
    return -1 if table is None else table.version()


def _merge_metrics(location: Location, before: int) -> dict[str, int]:
    """delta-spark's merge result from the MERGE commit's metrics (zeros when it changed
    nothing and made no commit)."""
    metrics = _new_commit_metrics(location, before)
    updated = int(metrics.get("numTargetRowsUpdated", 0) or 0)
    deleted = int(metrics.get("numTargetRowsDeleted", 0) or 0)
    inserted = int(metrics.get("numTargetRowsInserted", 0) or 0)
    return {"num_affected_rows": updated + deleted + inserted, "num_updated_rows": updated,
            "num_deleted_rows": deleted, "num_inserted_rows": inserted}


def _new_commit_metrics(location: Location, before: int) -> Mapping[str, Any]:
    """The operation metrics of the newest commit when one was made after `before`."""
    table = open_table(location)
    if table is None or table.version() <= before:
        return {}
    return table.history(1)[0].get("operationMetrics") or {}
