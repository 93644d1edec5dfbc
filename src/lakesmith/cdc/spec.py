"""An AUTO CDC flow's options resolved against the columns of its source: the key columns, the
sequencing expression, the delete and truncate conditions, the target's columns and (SCD type 2)
the columns whose changes open a new version.

The Python APIs take column names or Columns, SQL takes expression text; both are resolved here
once, so that a wrong name fails at analysis (dry-run) naming the flow and the column, not in the
middle of a batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.types import ArrayType, BooleanType, DataType, MapType, StructType

from lakesmith.engine.plans import PlanRewriter, dataframe_of, relation_of
from lakesmith.errors import LakesmithError
from lakesmith.graph.datasets import DatasetKind
from lakesmith.graph.flows import AutoCdcFlow, AutoCdcSnapshotFlow
from lakesmith.graph.graph import DataflowGraph
from lakesmith.tables.catalog import quote_always

# Columns lakesmith adds while it computes a batch; a source must not have them.
PREFIX = "__lakesmith_cdc_"
SEQ = PREFIX + "seq"
# The columns an SCD type 2 target adds: the sequence values at which a version starts and ends.
START_AT = "__START_AT"
END_AT = "__END_AT"


@dataclass(frozen=True)
class CdcSpec:
    flow: str
    keys: tuple[str, ...]  # as the source spells them
    columns: tuple[str, ...]  # the target's columns, keys included, as the source spells them
    sequence: Any  # a Column over the source
    sequence_fields: tuple[str, ...]  # paths in the sequence value, one per ordering column
    deletes: Any | None  # a boolean Column, or None
    truncates: Any | None
    ignore_null_updates: bool
    scd_type: int = 1
    # SCD type 2: the non-key target columns whose changes open a new version.
    tracked: tuple[str, ...] = ()

    @property
    def values(self) -> tuple[str, ...]:
        """The target's columns that are not keys."""
        keys = {k.lower() for k in self.keys}
        return tuple(c for c in self.columns if c.lower() not in keys)


# Specs resolved in this process, by flow and the source's columns (names and types): the
# update's graph analysis resolves each flow once, and its batches find the spec here instead of
# asking the engine for the types of the options' expressions again (a round trip per batch).
_RESOLVED: dict[tuple[int, tuple[tuple[str, str], ...]], tuple[AutoCdcFlow, CdcSpec]] = {}


def resolve(flow: AutoCdcFlow, source: Any, schema: StructType | None = None, *,
            analysed: bool = False) -> CdcSpec:
    """The flow's options over the DataFrame `source` (only its schema is used: `schema`, when
    the caller knows it without asking the engine). `analysed`: the graph's analysis resolved
    these options already, so their expressions are valid over the source's columns (a batch
    resolves them again over its slice): a condition that is a comparison or a test is typed
    BOOLEAN without asking the engine."""
    if schema is None:
        schema = source.schema
    assert schema is not None
    key = (id(flow), tuple((f.name, f.dataType.simpleString()) for f in schema.fields))
    found = _RESOLVED.get(key)
    if found is not None and found[0] is flow:
        return found[1]
    spec = _resolve(flow, source, schema, analysed)
    _RESOLVED[key] = (flow, spec)
    return spec


def _resolve(flow: AutoCdcFlow, source: Any, schema: StructType, analysed: bool) -> CdcSpec:
    where = f"AUTO CDC flow '{flow.name}'"
    columns: list[str] = [f.name for f in schema.fields]
    by_name = {c.lower(): c for c in columns}
    clashing = [c for c in columns if c.lower().startswith(PREFIX)]
    if clashing:
        raise LakesmithError(f"{where}: the source has column '{clashing[0]}'; columns starting "
                             f"with '{PREFIX}' are reserved for lakesmith.")

    def column(value: Any, what: str) -> str:
        name = column_name(value, where, what)
        found = by_name.get(name.lower())
        if found is None:
            raise LakesmithError(
                f"{where}: {what} '{name}' is not a column of source '{flow.source}' (its "
                f"columns: {', '.join(columns)}).")
        return found

    keys = tuple(column(k, "key") for k in flow.keys)
    if flow.column_list is not None:
        selected = [column(c, "column_list column") for c in flow.column_list]
    elif flow.except_column_list is not None:
        excluded = {column(c, "except_column_list column").lower()
                    for c in flow.except_column_list}
        selected = [c for c in columns if c.lower() not in excluded]
    else:
        selected = columns
    chosen = {c.lower() for c in selected}
    for key in keys:
        if key.lower() not in chosen:
            raise LakesmithError(
                f"{where}: key '{key}' is not among the target's columns "
                f"({', '.join(selected)}); keep it in column_list / out of except_column_list.")
    if flow.stored_as_scd_type == 2:
        added = [c for c in selected if c.upper() in (START_AT, END_AT)]
        if added:
            raise LakesmithError(
                f"{where}: the source has column '{added[0]}', which an SCD type 2 target adds "
                f"itself; rename it in the source or leave it out (except_column_list).")
    sequence = expression(flow.sequence_by, by_name)
    types = _expression_types(source, schema, by_name, {
        SEQ: flow.sequence_by, "deletes": flow.apply_as_deletes,
        "truncates": flow.apply_as_truncates}, analysed)
    if SEQ in types:
        sequence_type = types[SEQ]
    else:
        try:
            sequence_type = source.select(sequence.alias(SEQ)).schema.fields[0].dataType
        except Exception as e:  # the engine's analysis error for the expression
            raise LakesmithError(f"{where}: sequence_by {_show(flow.sequence_by)} is not a valid "
                                 f"expression over the source: {str(e).splitlines()[0]}") from e
    fields = _ordering_fields(sequence_type, (), where, flow.sequence_by)
    return CdcSpec(
        flow=flow.name, keys=keys, columns=tuple(selected), sequence=sequence,
        sequence_fields=fields,
        deletes=_condition(flow.apply_as_deletes, by_name, source, where, "apply_as_deletes",
                           types.get("deletes")),
        truncates=_condition(flow.apply_as_truncates, by_name, source, where,
                             "apply_as_truncates", types.get("truncates")),
        ignore_null_updates=bool(flow.ignore_null_updates), scd_type=flow.stored_as_scd_type,
        tracked=tracked_columns(flow, keys, selected, where) if flow.stored_as_scd_type == 2 else ())


def tracked_columns(flow: AutoCdcFlow | AutoCdcSnapshotFlow, keys: tuple[str, ...],
                    selected: list[str], where: str) -> tuple[str, ...]:
    """The columns whose changes open a new version: all non-key target columns, or those of
    `track_history_column_list`, or all but `track_history_except_column_list`."""
    by_name = {c.lower(): c for c in selected}
    key_names = {k.lower() for k in keys}
    values = [c for c in selected if c.lower() not in key_names]

    def target_column(value: Any, what: str) -> str:
        name = column_name(value, where, what)
        found = by_name.get(name.lower())
        if found is None:
            raise LakesmithError(
                f"{where}: {what} '{name}' is not a column of the target (its columns: "
                f"{', '.join(selected)}).")
        return found

    if flow.track_history_column_list is not None:
        listed = {target_column(c, "track_history_column_list column").lower()
                  for c in flow.track_history_column_list}
        return tuple(c for c in values if c.lower() in listed)
    if flow.track_history_except_column_list is not None:
        excluded = {target_column(c, "track_history_except_column_list column").lower()
                    for c in flow.track_history_except_column_list}
        return tuple(c for c in values if c.lower() not in excluded)
    return tuple(values)


def source_relation(spark: Any, graph: DataflowGraph, flow: AutoCdcFlow, *,
                    streaming: bool = True) -> proto.Relation:
    """The plan of a read of the flow's source: a temporary view is read as a batch (its query
    reads the streams); a table as a stream, unless `streaming` is false (analysis)."""
    name = graph.names.qualify(flow.source)
    is_view = name in graph.datasets and graph.kind(name) == DatasetKind.TEMPORARY_VIEW
    reader = spark.readStream if streaming and not is_view else spark.read
    return relation_of(reader.table(flow.source))


def bound_source(rewriter: PlanRewriter, relation: proto.Relation) -> tuple[Any, StructType | None]:
    """The source's read (`source_relation`) bound by `rewriter` (`PlanRewriter.dataframe`),
    and its schema when its plan tells it without the engine (`known_schemas`: a projection of
    a batch's slice of a pipeline table, columns renamed or cast), else None."""
    from lakesmith.engine.semantics.known_schemas import known_schema

    bound = rewriter.rewrite(relation)
    return (dataframe_of(rewriter.spark, rewriter.spark_semantics(bound)),
            known_schema(bound, rewriter.table_schemas.get))


def target_dataframe(spec: CdcSpec, source: Any) -> Any:
    """The source's rows as the target holds them: the target's columns only, and for SCD type
    2 `__START_AT` and `__END_AT` of the sequence value's type."""
    columns = [F.col(quote_always(c)) for c in spec.columns]
    if spec.scd_type == 2:
        columns += [spec.sequence.alias(START_AT),
                    F.when(F.lit(False), spec.sequence).alias(END_AT)]
    return source.select(*columns)


def cast_to(changes: Any, schema: StructType) -> Any:
    """The changes with the target's columns cast to its declared types (analysis checked that
    the names match); the bookkeeping columns as they are."""
    declared = {f.name.lower(): f.dataType for f in schema.fields}
    return changes.select(*[
        F.col(quote_always(c)).cast(declared[c.lower()]).alias(c) if c.lower() in declared
        else F.col(quote_always(c)) for c in changes.columns])


def column_name(value: Any, where: str, what: str) -> str:
    """A column given by name or as a plain column reference (`col("id")`)."""
    if isinstance(value, str):
        return value
    reference = getattr(getattr(value, "_expr", None), "_unparsed_identifier", None)
    if isinstance(reference, str):
        return reference
    raise LakesmithError(f"{where}: {what} must be a column name or col(name), got "
                         f"{_show(value)}.")


def expression(value: Any, by_name: dict[str, str]) -> Any:
    """A Column from a Column, a column name, or SQL expression text."""
    if not isinstance(value, str):
        return value
    name = by_name.get(value.strip().strip("`").lower())
    return F.col(quote_always(name)) if name is not None else F.expr(value)


def _expression_types(source: Any, schema: StructType, by_name: dict[str, str],
                      values: dict[str, Any], analysed: bool) -> dict[str, DataType]:
    """The types of the options' expressions over the source, by name: a plain column's from
    the source's schema (already known), the others from one request for all of them. Empty
    for the others when that request fails: each is then analysed alone, for its own error.
    (Each request is a round trip, which waits behind any query the engine is running.)"""
    fields = {f.name: f.dataType for f in schema.fields}
    types: dict[str, DataType] = {}
    rest: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, str):  # a name, as `expression` reads it
            column = by_name.get(value.strip().strip("`").lower())
        else:  # col("name"): a plain one-part name, spelled as the source spells it
            column = getattr(getattr(value, "_expr", None), "_unparsed_identifier", None)
            if not isinstance(column, str) or "." in column or "`" in column:
                column = None
        if column is not None and column in fields:
            types[name] = fields[column]
        elif analysed and name != SEQ and _is_predicate(value):
            types[name] = BooleanType()
        else:
            rest[name] = expression(value, by_name)
    if rest:
        try:
            found = source.select(*[e.alias(n) for n, e in rest.items()]).schema
        except Exception:  # analysed one by one, for the error naming the option
            return types
        types.update({f.name: f.dataType for f in found.fields})
    return types


# Functions a Column of the DataFrame API calls that give a boolean (`col("op") == "DELETE"`).
_PREDICATES = frozenset({"==", "!=", "<", ">", "<=", ">=", "<=>", "and", "or", "not", "in",
                         "isnull", "isnotnull", "like", "ilike", "rlike", "between", "isnan"})


_NAME = r"(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*)(?:\.(?:`[^`]+`|[A-Za-z_][A-Za-z0-9_]*))*"
_LITERAL = r"""(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false)"""
_OPERAND = rf"(?:{_NAME}|{_LITERAL})"
# One comparison or test in SQL text (`operation = 'DELETE'`, `op IN ('D', 'X')`, `x IS NULL`):
# read with a pattern, not a parser (importing sqlglot costs a flow 0.15 s when nothing else
# has imported it). ASCII: case-folding every Unicode letter of its classes made compiling it,
# at every process's import, 3-4x slower (a text outside ASCII then is no predicate: the engine
# types it).
_SQL_PREDICATE = re.compile(
    rf"\s*(?:{_OPERAND}\s*(?:==?|!=|<>|<=>|<=|>=|<|>)\s*{_OPERAND}"
    rf"|{_NAME}\s+IS\s+(?:NOT\s+)?NULL"
    rf"|{_NAME}\s+(?:NOT\s+)?IN\s*\(\s*{_LITERAL}(?:\s*,\s*{_LITERAL})*\s*\))\s*",
    re.IGNORECASE | re.ASCII)


def _is_predicate(value: Any) -> bool:
    """Whether a condition (SQL text, `expr(...)`, or a Column) is a comparison or a test: of
    type BOOLEAN, told without asking the engine. Its columns exist: the graph's analysis
    resolved the same options over the same source's columns (with the engine) before any
    batch runs."""
    text = value if isinstance(value, str) else None
    inner = getattr(value, "_expr", None)
    if text is None and type(inner).__name__ == "SQLExpression":
        text = getattr(inner, "_expr", None)
    if isinstance(text, str):
        return _SQL_PREDICATE.fullmatch(text) is not None
    return type(inner).__name__ == "UnresolvedFunction" and \
        str(getattr(inner, "_name", "")).lower() in _PREDICATES


def _condition(value: Any, by_name: dict[str, str], source: Any, where: str,
               what: str, data_type: DataType | None = None) -> Any | None:
    """The condition as a Column; `data_type`, when already known, spares a request."""
    if value is None:
        return None
    condition = expression(value, by_name)
    if data_type is None:
        try:
            data_type = source.select(condition.alias("condition")).schema.fields[0].dataType
        except Exception as e:
            raise LakesmithError(f"{where}: {what} {_show(value)} is not a valid condition over "
                                 f"the source: {str(e).splitlines()[0]}") from e
    if data_type.typeName() not in ("boolean", "void"):
        raise LakesmithError(f"{where}: {what} {_show(value)} must be a boolean condition, not "
                             f"{data_type.simpleString()}.")
    return condition


def _ordering_fields(data_type: DataType, path: tuple[str, ...], where: str,
                     value: Any) -> tuple[str, ...]:
    """One ordering column per leaf of the sequence value: a struct orders by its fields in
    order, as Spark compares structs (the engine cannot order rows by a struct directly)."""
    if isinstance(data_type, StructType):
        found: list[str] = []
        for field in data_type.fields:
            found.extend(_ordering_fields(field.dataType, (*path, field.name), where, value))
        return tuple(found)
    if isinstance(data_type, (ArrayType, MapType)):
        raise LakesmithError(f"{where}: sequence_by {_show(value)} is "
                             f"{data_type.simpleString()}; it must be orderable (a number, a "
                             "string, a date or timestamp, or a struct of them).")
    return (".".join(quote_always(p) for p in path),)


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)
