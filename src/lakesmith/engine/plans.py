"""Reading and rewriting Spark Connect plans.

A query function returns a DataFrame whose plan is a protobuf relation. Walking it finds every table
and data source the query reads, and whether it reads it as a stream, without running anything; that
gives the graph its edges. At run time the same walk rewrites each read to point at what this flow
must actually read (an engine table, a view's query, the slice of a micro-batch), and the engine
executes the rewritten relation.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from google.protobuf.message import Message
from pyspark.sql.connect import proto
from pyspark.sql.connect.column import Column
from pyspark.sql.connect.dataframe import DataFrame
from pyspark.sql.connect.expressions import Expression
from pyspark.sql.connect.plan import LogicalPlan

from lakesmith.engine.sql_files import AUTO_LOADER_FORMAT
from lakesmith.errors import NotSupportedYet

if TYPE_CHECKING:
    from lakesmith.engine.sql_refs import SqlRef

# SQL text in a plan (`spark.sql(...)`, SQL sources) is read with sqlglot (`engine/sql_refs.py`),
# imported where a plan has SQL text: a plan built with DataFrame calls does not pay for it.

_RELATION = proto.Relation.DESCRIPTOR.full_name


@dataclass(frozen=True)
class PlanRead:
    """One read found in a plan: a table by name, or a data source (format, paths, options)."""

    name: str | None
    streaming: bool
    format: str | None = None
    paths: tuple[str, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    schema: str | None = None
    in_sql: bool = False

    @property
    def is_table(self) -> bool:
        return self.name is not None

    def describe(self) -> str:
        mode = "streaming read" if self.streaming else "read"
        if self.name is not None:
            return f"{mode} of table '{self.name}'"
        where = ", ".join(self.paths) or "(no path)"
        if (self.format or "").lower() == AUTO_LOADER_FORMAT.lower():
            files = self.options.get(f"{AUTO_LOADER_FORMAT}.format")
            auto_loader = "streaming Auto Loader read" if self.streaming else "Auto Loader read"
            return f"{auto_loader} of {files + ' ' if files else ''}files in {where}"
        return f"{mode} of {self.format} source {where}"


@dataclass(frozen=True)
class TableBinding:
    """Point a read at an engine table (or temp view) by name; reads it as a batch."""

    engine_name: str


@dataclass(frozen=True)
class RelationBinding:
    """Replace a read by a whole relation (a view's query, a micro-batch slice)."""

    relation: proto.Relation


@dataclass(frozen=True)
class PathsBinding:
    """Keep a data-source read, with its paths replaced (relative paths made absolute)."""

    paths: tuple[str, ...]


Binding = TableBinding | RelationBinding | PathsBinding
Binder = Callable[[PlanRead], Binding | None]


def relation_of(df: Any) -> proto.Relation:
    """The root relation of a DataFrame's plan (uncompressed)."""
    if not isinstance(df, DataFrame):
        raise TypeError(f"expected a Spark Connect DataFrame, got {type(df).__name__}")
    return df._plan.plan(df.sparkSession.client)


def dataframe_of(spark: Any, relation: proto.Relation) -> DataFrame:
    """A DataFrame that executes exactly `relation`."""
    return DataFrame(_RelationPlan(relation), spark)


class _RelationPlan(LogicalPlan):
    def __init__(self, relation: proto.Relation) -> None:
        super().__init__(None)
        if relation.HasField("common") and relation.common.HasField("plan_id"):
            # df["col"] on this DataFrame must name the relation's own plan id.
            self._root_plan_id = relation.common.plan_id
        else:
            relation = _copy(relation)
            relation.common.plan_id = self._root_plan_id
        self._relation = relation

    def plan(self, session: Any) -> proto.Relation:
        return self._relation


def column_of(expression: proto.Expression) -> Column:
    """A Column that is exactly `expression` (to build new expressions around a plan's own)."""
    return Column(_ProtoExpression(expression))


class _ProtoExpression(Expression):
    def __init__(self, expression: proto.Expression) -> None:
        super().__init__()
        self._expression = expression

    def to_plan(self, session: Any) -> proto.Expression:
        return self._expression

    def __repr__(self) -> str:
        return self._expression.WhichOneof("expr_type") or "expression"


def _copy(relation: proto.Relation) -> proto.Relation:
    copied = proto.Relation()
    copied.CopyFrom(relation)
    return copied


def find_reads(relation: proto.Relation) -> list[PlanRead]:
    """Every read in the plan, in plan order, including reads inside SQL text."""
    reads: list[PlanRead] = []
    for rel in all_relations(relation):
        kind = rel.WhichOneof("rel_type")
        if kind == "read":
            reads.append(plan_read(rel.read))
        elif kind == "sql":
            from lakesmith.engine.sql_refs import find_table_refs

            reads.extend(sql_read(ref) for ref in find_table_refs(rel.sql.query))
    return reads


def plan_read(read: proto.Read) -> PlanRead:
    if read.WhichOneof("read_type") == "named_table":
        return PlanRead(
            name=read.named_table.unparsed_identifier,
            streaming=read.is_streaming,
            options=dict(read.named_table.options),
        )
    source = read.data_source
    return PlanRead(
        name=None,
        streaming=read.is_streaming,
        format=source.format or None,
        paths=tuple(source.paths),
        options=dict(source.options),
        schema=source.schema or None,
    )


def sql_with_relation(relation: proto.Relation, text: str, name: str,
                      referenced: proto.Relation) -> proto.Relation:
    """SQL `relation` with its text replaced by `text`, which reads `referenced` by `name`:
    Spark Connect's `WithRelations` (what `spark.sql("... {o}", o=df)` sends), resolved by the
    engine before the catalog. No temporary view is made or dropped (two round trips)."""
    bound = proto.Relation()
    if relation.HasField("common"):
        bound.common.CopyFrom(relation.common)
    bound.with_relations.root.sql.CopyFrom(relation.sql)
    bound.with_relations.root.sql.query = text
    reference = bound.with_relations.references.add()
    reference.common.plan_id = LogicalPlan._fresh_plan_id()  # (the engine resolves it by it)
    reference.subquery_alias.alias = name
    reference.subquery_alias.input.CopyFrom(referenced)
    return bound


def sql_read(ref: SqlRef) -> PlanRead:
    from lakesmith.engine.sql_refs import SqlFileRef

    if isinstance(ref, SqlFileRef):
        return PlanRead(name=None, streaming=ref.streaming, format=AUTO_LOADER_FORMAT,
                        paths=(ref.call.path,), options=dict(ref.call.options), in_sql=True)
    if ref.path_format:
        return PlanRead(name=None, streaming=ref.streaming, format=ref.path_format,
                        paths=(ref.parts[1],), in_sql=True)
    return PlanRead(name=ref.name, streaming=ref.streaming, in_sql=True)


def all_relations(message: Message) -> Iterator[proto.Relation]:
    """Every Relation message nested in `message` (itself included), depth first."""
    return nested_messages(message, _RELATION)  # type: ignore[return-value]


def nested_messages(message: Message, full_name: str) -> Iterator[Message]:
    """Every message of type `full_name` nested in `message` (itself included), depth first."""
    if message.DESCRIPTOR.full_name == full_name:
        yield message
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            items = value.values() if descriptor.message_type.fields_by_name["value"].message_type else []
        else:
            items = value if descriptor.is_repeated else [value]
        for item in items:
            yield from nested_messages(item, full_name)


class PlanRewriter:
    """Rewrites the reads of plans according to a binder, creating temp views for SQL text.

    A read inside SQL text cannot hold a relation, so a `RelationBinding` there becomes a temp view
    with a unique name; `drop_temp_views()` removes them when the flow is done.
    """

    _counter = itertools.count()

    def __init__(self, spark: Any, binder: Binder, *, view_prefix: str = "__lakesmith",
                 semantics: bool = True) -> None:
        self.spark = spark
        self.binder = binder
        self.view_prefix = view_prefix
        self.semantics = semantics  # False: the plan as written (for Apache Spark itself)
        self.temp_views: list[str] = []
        self._types: dict[Any, Any] = {}  # argument types probed by `spark_semantics`
        # Schemas of the tables bound by name that the binder knows (no engine round trip)
        self.table_schemas: dict[str, Any] = {}

    def rewrite(self, relation: proto.Relation) -> proto.Relation:
        rewritten = _copy(relation)
        # Collect first: rewriting replaces messages we would otherwise still be walking.
        for rel in list(all_relations(rewritten)):
            kind = rel.WhichOneof("rel_type")
            if kind == "read":
                binding = self.binder(plan_read(rel.read))
                if binding is not None:
                    _bind_read(rel, binding)
            elif kind == "sql":
                rel.sql.query = self._rewrite_sql(rel.sql.query)
        return rewritten

    def dataframe(self, relation: proto.Relation) -> DataFrame:
        """The relation with its reads bound, computing Spark's answers (`engine/semantics`)."""
        return dataframe_of(self.spark, self.spark_semantics(self.rewrite(relation)))

    def spark_semantics(self, relation: proto.Relation) -> proto.Relation:
        # Applied once, to what the engine runs: view relations bound into a plan are rewritten
        # with it (a second pass would wrap the rewrites again).
        if not self.semantics:
            return relation
        from lakesmith.engine.semantics.plan_rewrite import spark_semantics

        return spark_semantics(self.spark, relation, self._types,
                               tables=self.table_schemas.get)

    def _rewrite_sql(self, text: str) -> str:
        from lakesmith.engine.sql_files import shown_sql
        from lakesmith.engine.sql_refs import (
            SqlFileRef,
            SqlTableRef,
            find_table_refs,
            replace_spans,
            strip_stream_keywords,
        )

        refs = find_table_refs(text)
        replacements: list[tuple[int, int, str]] = []
        for ref in refs:
            read = sql_read(ref)
            binding = self.binder(read)
            if binding is not None:
                name = self._sql_name(binding)
                if isinstance(ref, SqlTableRef) and not ref.aliased and \
                        isinstance(binding, RelationBinding):
                    # A temporary view stands for the table: `orders.amount` still means it.
                    name += " AS `" + ref.parts[-1].replace("`", "``") + "`"
                replacements.append((ref.start, ref.end, name))
            elif isinstance(ref, SqlFileRef):
                # The engine has no read_files: left as written, the query would fail there
                # with a message that names neither the flow nor the call.
                raise NotSupportedYet(
                    f"{shown_sql(text[ref.start:ref.end])} ({read.describe()}): lakesmith "
                    f"cannot run this {ref.call.function} read yet; nothing in this run binds it "
                    "to the files it reads.")
        if not replacements and not any(ref.streaming for ref in refs):
            return text
        # The engine does not know STREAM(x): the binding decides what x means.
        return replace_spans(strip_stream_keywords(text), replacements)

    def _sql_name(self, binding: Binding) -> str:
        if isinstance(binding, TableBinding):
            return binding.engine_name
        if isinstance(binding, PathsBinding):
            raise TypeError("a path read in SQL text is rewritten by name, not by paths")
        name = f"{self.view_prefix}_{next(self._counter)}"
        dataframe_of(self.spark, self.spark_semantics(binding.relation)) \
            .createOrReplaceTempView(name)
        self.temp_views.append(name)
        from lakesmith.engine.semantics.known_schemas import known_schema

        # a relation of known schema (by its plan id, or a read of a view of one): the view
        known = known_schema(binding.relation, self.table_schemas.get)
        if known is not None:
            self.table_schemas[f"`{name}`"] = known
        return f"`{name}`"

    def drop_temp_views(self) -> None:
        for name in self.temp_views:
            self.spark.catalog.dropTempView(name)
        self.temp_views.clear()


def _bind_read(rel: proto.Relation, binding: Binding) -> None:
    if isinstance(binding, PathsBinding):
        del rel.read.data_source.paths[:]
        rel.read.data_source.paths.extend(binding.paths)
        return
    if isinstance(binding, TableBinding):
        rel.read.Clear()
        rel.read.named_table.unparsed_identifier = binding.engine_name
        rel.read.is_streaming = False
        return
    plan_id = rel.common.plan_id if rel.HasField("common") else None
    name = _batch_table_name(rel.read)
    if name is not None:
        # The query standing for a table read by name keeps its name: `orders.amount` still
        # resolves, as Spark qualifies a table's columns with it.
        rel.CopyFrom(proto.Relation(subquery_alias=proto.SubqueryAlias(
            input=binding.relation, alias=name)))
    else:
        rel.CopyFrom(binding.relation)
    # Columns referenced as df["c"] point at the original read's plan id: keep it.
    if plan_id is not None:
        rel.common.plan_id = plan_id


def _batch_table_name(read: proto.Read) -> str | None:
    """The last part of the name a batch read of a table gives (`orders` of `live.orders`).
    A plain dotted name is split here, as Spark's identifier parser would; anything else
    (backquotes, unusual characters) is parsed with sqlglot."""
    if read.is_streaming or read.WhichOneof("read_type") != "named_table":
        return None
    identifier = read.named_table.unparsed_identifier
    if _PLAIN_NAME.fullmatch(identifier):
        return identifier.rsplit(".", 1)[-1]
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    from lakesmith.engine.sql_dialect import DIALECT

    try:
        table = sqlglot.parse_one(identifier, into=exp.Table, dialect=DIALECT)
    except (ParseError, TokenError):
        return None
    return table.name or None


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
