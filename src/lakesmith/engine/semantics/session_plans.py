"""Spark's answers for everything a user's session sends (`lakesmith.session()`, `lakesmith
shell`, `lakesmith sql`): one interception point in the Spark Connect client, so that no way of
running a DataFrame (collect, show, toPandas, count, a write, createOrReplaceTempView, a
`spark.sql` statement, df.schema) escapes the rewrites and refusals pipelines apply
(`plan_rewrite.spark_semantics`).

Two doors lead to the engine: execute requests (queries and commands), which the client hands
to its session hooks before sending, and analyze requests (schemas, explain), which it sends
from `_analyze`; both go through `SessionSemantics.plan()`, and the engine's errors coming back
through either are put in Spark's words (`in_sparks_words`), as pipelines report them.
Rewriting needs the engine too (the types of arguments, the name of a column): those requests
go out as they are, marked by a per-thread bypass.

SQL text is rewritten where it runs. A query given to `spark.sql` is not run by the command (the
engine hands it back as a SQL relation, rewritten when a DataFrame over it runs, for the types
of that moment); any other statement (CREATE … AS, INSERT, MERGE, CREATE VIEW) runs at once and
is rewritten in the command. A rewritten text the engine hands back is mapped to the text the
user wrote, and rewritten from that again, never as a rewrite of a rewrite (which would still be
Spark's answer, only slower: every rule is exact on its own output; that is what happens once a
text has left the bounded map).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from google.protobuf.message import Message
from pyspark.sql.connect import proto
from pyspark.sql.connect.session import SparkSession

from lakesmith.engine.plans import dataframe_of
from lakesmith.engine.semantics.deferred_sql import needs_rewrite
from lakesmith.engine.semantics.plan_rewrite import TypeCache, spark_semantics
from lakesmith.errors import LakesmithError, NotSupportedYet

# Analyze requests whose answer depends on the plan's expressions (not is_streaming, inputFiles).
_PLAN_ARGUMENTS = {"schema": ("plan",), "explain": ("plan",), "tree_string": ("plan",),
                   "semantic_hash": ("plan",), "same_semantics": ("plan", "other")}
_RELATION_ARGUMENTS = {"persist": ("relation",), "unpersist": ("relation",),
                       "get_storage_level": ("relation",)}
_RELATION = proto.Relation.DESCRIPTOR.full_name
# How many rewritten SQL texts are mapped to what the user wrote (see the module's docstring).
REMEMBERED_SQL = 4096


class SessionSemantics(SparkSession.Hook):
    """Rewrites every plan `session` sends for Spark's answers (see the module's docstring)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.enabled = True
        self._local = threading.local()
        self._written_sql: OrderedDict[str, str] = OrderedDict()  # rewritten text → written
        self._lock = threading.Lock()

    # -- the two doors -------------------------------------------------------------------

    def on_execute_plan(self, request: Any) -> Any:
        if not self.bypassing:
            request.plan.CopyFrom(self.plan(request.plan))
        return request

    def install(self, client: Any) -> None:
        """Route `client`'s analyze requests through `plan()` too, and put the engine's errors
        of both kinds of request in Spark's words (`in_sparks_words`)."""
        analyze: Callable[..., Any] = client._analyze
        execute: Callable[..., Iterator[Any]] = client._execute_and_fetch_as_iterator

        def analyze_with_semantics(method: str, **kwargs: Any) -> Any:
            if self.bypassing:
                return analyze(method, **kwargs)
            written = kwargs.get("plan")
            for name in _PLAN_ARGUMENTS.get(method, ()):
                if name in kwargs:
                    kwargs[name] = self.plan(kwargs[name])
            for name in _RELATION_ARGUMENTS.get(method, ()):
                if name in kwargs:
                    with self.bypassed():
                        kwargs[name] = self._relation(kwargs[name], {})
            try:
                return analyze(method, **kwargs)
            except Exception as error:
                text = _sql_text(written.root) if written is not None and written.HasField(
                    "root") else None
                explained = self.in_sparks_words(error, kwargs.get("plan"), text)
                if explained is error:
                    raise
                raise explained from None

        def execute_with_semantics(request: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
            bypassing = self.bypassing
            root = request.plan.root if request.plan.HasField("root") else None
            written = _sql_text(root) if root is not None else None
            try:
                yield from execute(request, *args, **kwargs)  # the hooks rewrite `request`
            except Exception as error:
                explained = error if bypassing else self.in_sparks_words(
                    error, request.plan, written)
                if explained is error:
                    raise
                raise explained from None

        client._analyze = analyze_with_semantics
        client._execute_and_fetch_as_iterator = execute_with_semantics

    def in_sparks_words(self, error: Exception, plan: proto.Plan | None,
                        written_sql: str | None) -> Exception:
        """`error` as Spark words it where lakesmith knows how (a column that does not resolve:
        Spark's UNRESOLVED_COLUMN with the columns there are), else `error` itself. `plan` is
        what the engine ran; `written_sql` the SQL text it was rewritten from, if any."""
        from pyspark.errors.exceptions.connect import AnalysisException

        from lakesmith.engine.unresolved_columns import explain_unresolved_column

        if isinstance(error, LakesmithError) or plan is None or not plan.HasField("root"):
            return error  # lakesmith's own refusals say what they mean
        original = None
        if written_sql is not None:
            original = proto.Relation()
            original.sql.query = self._written(written_sql) or written_sql
        with self.bypassed():
            try:
                message = explain_unresolved_column(str(error), self.session, plan.root,
                                                    original)
            except Exception:  # finding the candidates failed too: the engine's error stands
                return error
        if message is None:
            return error
        condition = message[1:message.index("]")] if message.startswith("[") else None
        return AnalysisException(message=message, errorClass=condition, messageParameters={})

    # -- what passes unchanged -----------------------------------------------------------

    @property
    def bypassing(self) -> bool:
        """Whether requests now go out as they are (rewriting off, or `busy`)."""
        return not self.enabled or self.busy

    @property
    def busy(self) -> bool:
        """Whether this thread is rewriting a request, or sending one lakesmith composed: what
        it sends meanwhile is lakesmith's own (type probes, its statements)."""
        return getattr(self._local, "depth", 0) > 0

    @contextmanager
    def bypassed(self) -> Iterator[None]:
        self._local.depth = getattr(self._local, "depth", 0) + 1
        try:
            yield
        finally:
            self._local.depth -= 1

    def remember_sql(self, rewritten: str, written: str) -> None:
        """`rewritten` is what lakesmith made of the user's `written` SQL text."""
        with self._lock:
            self._written_sql[rewritten] = written
            self._written_sql.move_to_end(rewritten)
            while len(self._written_sql) > REMEMBERED_SQL:
                self._written_sql.popitem(last=False)

    def _written(self, text: str) -> str | None:
        with self._lock:
            return self._written_sql.get(text)

    # -- rewriting -----------------------------------------------------------------------

    def plan(self, plan: proto.Plan) -> proto.Plan:
        """`plan` (a query or a command) with Spark's answers; raises `NotSupportedYet` where
        lakesmith cannot give them."""
        rewritten = proto.Plan()
        rewritten.CopyFrom(plan)
        types: TypeCache = {}  # per request: a temporary view may mean other types next time
        with self.bypassed():
            if rewritten.HasField("root"):
                rewritten.root.CopyFrom(self._relation(rewritten.root, types))
            elif rewritten.HasField("command"):
                self._command(rewritten.command, types)
        return rewritten

    def _command(self, command: proto.Command, types: TypeCache) -> None:
        kind = command.WhichOneof("command_type")
        if kind is None:
            return
        body = getattr(command, kind)
        if kind == "sql_command":
            self._sql_command(body, types)
            return
        for relation in _top_relations(body):
            relation.CopyFrom(self._relation(relation, types))

    def _sql_command(self, body: Any, types: TypeCache) -> None:
        if body.sql:  # the field older clients send the text in
            holder = proto.Relation()
            holder.sql.query = body.sql
            written, body.sql = body.sql, self._relation(holder, types).sql.query
            self.remember_sql(body.sql, written)
        if body.HasField("input"):
            if (body.input.WhichOneof("rel_type") == "sql" and _is_query(body.input.sql.query)
                    and not needs_rewrite(body.input.sql.query)):
                # not run now: the engine hands it back, rewritten when it runs (a form its
                # parser refuses, QUALIFY say, is rewritten now: the engine parses it here)
                return
            before = _sql_text(body.input)
            body.input.CopyFrom(self._relation(body.input, types))
            after = _sql_text(body.input)
            if before is not None and after is not None:
                self.remember_sql(after, before)

    def _relation(self, relation: proto.Relation, types: TypeCache) -> proto.Relation:
        try:
            return spark_semantics(self.session, relation, types, self._written)
        except NotSupportedYet as refusal:
            # A query the engine cannot analyse either may hold the user's mistake (a column
            # name mistyped): its error is added, as the engine says it.
            engine_error = _analysis_error(self.session, relation)
            if engine_error is None:
                raise
            first_line = (str(engine_error).strip().splitlines() or [""])[0]
            raise NotSupportedYet(f"{refusal.message} The engine cannot analyse the query "
                                  f"either: {first_line}", hint=refusal.hint) from engine_error


def _sql_text(relation: proto.Relation) -> str | None:
    """The text of a `spark.sql` command's input (a SQL relation, or one over DataFrames)."""
    if relation.HasField("with_relations"):
        relation = relation.with_relations.root
    return relation.sql.query if relation.WhichOneof("rel_type") == "sql" else None


def _top_relations(message: Message) -> Iterator[Any]:
    """The relations a command holds (each one whole; not the relations inside them)."""
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None or descriptor.message_type.GetOptions().map_entry:
            continue
        for item in value if descriptor.is_repeated else [value]:
            if descriptor.message_type.full_name == _RELATION:
                yield item
            else:
                yield from _top_relations(item)


def _analysis_error(spark: Any, relation: proto.Relation) -> Exception | None:
    """The engine's error analysing `relation` as written, or None when it analyses. SQL text
    is analysed only when it is a query (a statement would run)."""
    if relation.WhichOneof("rel_type") == "sql" and not _is_query(relation.sql.query):
        return None
    try:
        dataframe_of(spark, relation).schema  # noqa: B018 - the analysis is the point
    except Exception as e:  # the engine's analysis error, shown to the user as it is
        return e
    return None


def _is_query(text: str) -> bool:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        statements = sqlglot.parse(text, dialect="spark")
    except (ParseError, TokenError):
        return False
    return len(statements) == 1 and isinstance(statements[0], exp.Query)
