"""Spark Connect plans with Spark's answers: SQL relations and SQL expression strings are
rewritten as text (`sql_rewrite`), DataFrame function calls (`unresolved_function`) as columns
(`rules`); typed rules ask the engine for the argument's type against the relation's input."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf.message import Message
from pyspark.sql.connect import proto
from pyspark.sql.connect.column import Column
from pyspark.sql.connect.expressions import Expression
from pyspark.sql.connect.types import proto_schema_to_pyspark_data_type
from pyspark.sql.types import DataType, DateType, DecimalType, StringType, StructType

from lakesmith.engine.engine_kind import is_apache_spark
from lakesmith.engine.expression_sql import expression_sql
from lakesmith.engine.plans import all_relations, dataframe_of
from lakesmith.engine.semantics.casts import cast_column, rewritable_target
from lakesmith.engine.semantics.field_access import field_of_each, is_expression_field_access
from lakesmith.engine.semantics.file_formats import read_files_as_spark
from lakesmith.engine.semantics.file_reads import read_dates_as_spark
from lakesmith.engine.semantics.float_keys import normalize_float_keys_plan
from lakesmith.engine.semantics.known_schemas import (
    TableSchemas,
    column_field,
    known_first,
    known_schema,
    known_sql_first,
)
from lakesmith.engine.semantics.literal_types import expression_literal_type
from lakesmith.engine.semantics.operand_types import expression_prefetch, sql_prefetch
from lakesmith.engine.semantics.projection_forms import rewrite_projection_forms
from lakesmith.engine.semantics.registry import RULES_BY_NAME
from lakesmith.engine.semantics.set_operations import (
    coerce_set_operations_plan,
    coerce_set_operations_sql,
)
from lakesmith.engine.semantics.sql_float_keys import normalize_float_keys_sql
from lakesmith.engine.semantics.sql_rewrite import rewrite_sql
from lakesmith.engine.semantics.sql_text import escape_doubled_quotes
from lakesmith.engine.semantics.strict_math import register_strict_functions
from lakesmith.engine.semantics.typing import (
    expression_typer,
    relation_schema_probe,
    sql_namer,
    sql_schema_probe,
    sql_typer,
)
from lakesmith.engine.semantics.using_stars import expand_using_stars_plan
from lakesmith.engine.sql_variables import VARIABLES_ATTRIBUTE, substituted_expression
from lakesmith.errors import NotSupportedYet

_EXPRESSION = proto.Expression.DESCRIPTOR.full_name
# A column's name in SQL text, perhaps qualified: `d`, `t.d`, `` `my col` ``.
_COLUMN_NAME = re.compile(r"(?:[A-Za-z_]\w*|`(?:[^`]|``)+`)(?:\.(?:[A-Za-z_]\w*|`(?:[^`]|``)+`))*")
_RELATION = proto.Relation.DESCRIPTOR.full_name


# Argument types the engine gave, by (the argument's input plan, the argument): a probe is an
# analysis round trip, and one batch binds the same plans several times (its output, its
# expectation counts, its state and progress). Kept per plan rewriter (one batch, one flow
# refresh): a plan that reads a temporary view by name may mean other rows, and other types,
# in another.
TypeCache = dict[tuple[bytes, bytes], DataType | None]


def spark_semantics(spark: Any, relation: proto.Relation,
                    types: TypeCache | None = None,
                    written_sql: Callable[[str], str | None] | None = None,
                    tables: TableSchemas | None = None) -> proto.Relation:
    """`relation` rewritten so the engine computes Spark's answers (a copy; the input is left
    as it is). Raises `NotSupportedYet` naming the construct where it cannot. `types` keeps the
    argument types probed, for the next call with the same cache. `written_sql(text)` is the
    text the user wrote when `text` is a rewrite of it (the engine hands SQL back rewritten):
    that is rewritten again, for the types of now (a second pass over the rewrite would only
    wrap its rewrites again). `tables` gives the schemas of tables lakesmith knows by name
    (the engine is not asked them)."""
    types = {} if types is None else types
    rewritten = proto.Relation()
    rewritten.CopyFrom(relation)
    if is_apache_spark(spark):
        # Every rule below exists because Sail answers otherwise; Apache Spark's answers are
        # Spark's. Only the pipeline configuration's `${...}` in expression strings is
        # lakesmith's to give (docs/compatibility.md, "On Apache Spark").
        _substitute_variables(spark, rewritten)
        return rewritten
    register_strict_functions(spark, rewritten)

    def rewrite_text(rel: proto.Relation, scope: proto.Relation) -> None:
        written = rel.sql.query
        if written_sql is not None:
            written = written_sql(written) or written
        from lakesmith.engine.semantics.query_forms import rewrite_query_forms  # sqlglot

        engine = _SqlScope(spark, scope)
        formed = rewrite_query_forms(engine, escape_doubled_quotes(written))
        # set operations first: the rules then ask the types of the coerced columns
        coerced = coerce_set_operations_sql(formed, sql_schema_probe(engine, types))
        key_types = sql_schema_probe(engine, types)
        coerced = normalize_float_keys_sql(coerced, key_types if tables is None
                                           else known_sql_first(tables, key_types))
        text = rewrite_sql(coerced, sql_typer(engine, types), sql_namer(engine, types),
                           sql_prefetch(engine, types, tables))
        if text != written and (rel.sql.pos_args or rel.sql.pos_arguments):
            # a rewrite may repeat an argument, and with it a `?`: positions would shift
            raise NotSupportedYet(
                "SQL with positional parameters (?) that lakesmith rewrites for Spark's "
                f"answers: {written.strip()[:200]}",
                hint="pass the parameters by name (`:name` with args={'name': value}).")
        rel.sql.query = text

    # SQL text over DataFrames (`spark.sql("... {df}", df=...)`): rewritten last, so that its
    # type probes see the DataFrames as rewritten.
    scoped: list[proto.Relation] = []
    for rel in list(all_relations(rewritten)):
        kind = rel.WhichOneof("rel_type")
        if scoped and rel is not scoped[-1] and rel == scoped[-1].with_relations.root:
            continue  # a walk yields a with_relations' root right after it
        if kind == "with_relations" and rel.with_relations.root.WhichOneof("rel_type") == "sql":
            scoped.append(rel)
            continue
        if kind == "sql":
            rewrite_text(rel, rel)
            continue
        if kind == "read":
            if not read_files_as_spark(spark, rel):
                read_dates_as_spark(spark, rel)
            continue
        _rewrite_expressions(spark, rel, kind, types, tables)
    for rel in scoped:
        rewrite_text(rel.with_relations.root, rel)
    expand_using_stars_plan(spark, rewritten)
    # once the inputs are rewritten (their types are Spark's)
    coerce_set_operations_plan(spark, rewritten, relation_schema_probe(spark, types))
    engine_schema = relation_schema_probe(spark, types)
    normalize_float_keys_plan(spark, rewritten, engine_schema if tables is None
                              else known_first(tables, engine_schema))
    return rewritten


def _substitute_variables(spark: Any, relation: proto.Relation) -> None:
    """`${...}` in the expression strings of `relation` (`selectExpr`, `F.expr`, `filter`
    text) from the pipeline's configuration or the session's settings, in place. A session
    lakesmith gave no variables to is left to Spark, which substitutes from its settings."""
    if getattr(spark, VARIABLES_ATTRIBUTE, None) is None:
        return
    for rel in list(all_relations(relation)):
        kind = rel.WhichOneof("rel_type")
        if kind is None:
            continue
        for expression in _own_expressions(getattr(rel, kind)):
            if expression.WhichOneof("expr_type") == "expression_string":
                text = expression.expression_string.expression
                expression.expression_string.expression = substituted_expression(spark, text)


class _SqlScope:
    """`spark.sql` for the type probes of a SQL relation's text, with the parameters and the
    DataFrames the text refers to (`scope`: the SQL relation, or the with_relations over it).
    A probe is analysed as a relation: one round trip (`spark.sql` would add a command)."""

    def __init__(self, spark: Any, scope: proto.Relation) -> None:
        self.spark = spark
        self.scope = scope

    def sql(self, text: str) -> Any:
        probe = proto.Relation()
        probe.CopyFrom(self.scope)
        probe.ClearField("common")
        sql = probe.with_relations.root.sql if probe.HasField("with_relations") else probe.sql
        sql.query = text
        return dataframe_of(self.spark, probe)


class _Input:
    """The relation a node's expressions are analysed against, with the cache of the types
    probed there. `tables`: the schemas of tables read by name that lakesmith knows; a plain
    column of a relation whose schema they (or a read's declared schema) tell is typed without
    a probe (`known_schemas`: a round trip of 2-15 ms each)."""

    def __init__(self, spark: Any, relation: proto.Relation | None, types: TypeCache,
                 tables: TableSchemas | None = None) -> None:
        self.df = dataframe_of(spark, relation) if relation is not None else None
        self._relation = relation
        self._key: bytes | None = None
        self._types = types
        self._tables = tables if tables is not None else _no_tables
        self._known: StructType | None = None
        self._looked_up = False

    def known_type(self, argument: proto.Expression) -> DataType | None:
        """The type of a column of the input whose schema lakesmith knows (`known_schemas`: a
        pipeline table's Delta log, a read's declared schema such as a Delta stream's batch
        slice, and the relations over them that keep their columns): no probe. None for
        anything else."""
        if self._relation is None or argument.WhichOneof("expr_type") != "unresolved_attribute":
            return None
        if not self._looked_up:
            self._known = known_schema(self._relation, self._tables)
            self._looked_up = True
        found = None if self._known is None else column_field(argument, self._known)
        return None if found is None else found.dataType

    def known_column_type(self, name: str) -> DataType | None:
        """`known_type` of a column named in SQL text (`d`, `t.d`, `` `d` ``)."""
        if not _COLUMN_NAME.fullmatch(name):
            return None
        reference = proto.Expression()
        reference.unresolved_attribute.unparsed_identifier = name
        return self.known_type(reference)

    def remember(self, operand: str, data_type: DataType) -> None:
        """The type of an operand of an expression string, found before the typer asks
        (`operand_types`): kept where `expression_typer` looks."""
        self.type_of(f"expr:{operand}".encode(), lambda: data_type)

    def type_of(self, argument: bytes, probe: Any) -> DataType | None:
        """The type of `argument` (its serialized form): cached, or `probe()`."""
        if self._relation is None:
            return None
        if self._key is None:
            self._key = self._relation.SerializeToString(deterministic=True)
        key = (self._key, argument)
        if key not in self._types:
            self._types[key] = probe()
        return self._types[key]


def _rewrite_expressions(spark: Any, rel: proto.Relation, kind: str | None,
                         types: TypeCache, tables: TableSchemas | None = None) -> None:
    if kind is None:
        return
    body = getattr(rel, kind)
    input_rel = body.input if "input" in body.DESCRIPTOR.fields_by_name \
        and body.HasField("input") else _join_input(body) if kind == "join" else None
    input_df = _Input(spark, input_rel, types, tables)
    if kind == "project":
        rewrite_projection_forms(body, input_df.df)
    expressions = list(_own_expressions(body))
    # An aggregate applied over a window is rewritten with its window (`_rewrite_window`).
    windowed = [e.window.window_function for e in expressions
                if e.WhichOneof("expr_type") == "window"]
    outputs = _OUTPUT_EXPRESSIONS.get(kind)
    named = list(getattr(body, outputs)) if outputs else []
    originals = [_copy(e) for e in named]
    # Innermost first: a rewritten call's arguments are already Spark's.
    for expression in reversed(expressions):
        if expression.WhichOneof("expr_type") == "window":
            _rewrite_window(spark, expression, input_df)
        elif not any(expression == w for w in windowed):
            _rewrite_expression(spark, expression, input_df)
    # A rewritten output column keeps the name Spark gives the call as written.
    for original, expression in zip(originals, named, strict=True):
        if expression != original:
            name = _engine_name(input_df.df, original)
            if name is not None:
                _alias(expression, name)


def _join_input(join: proto.Join) -> proto.Relation | None:
    """What a join condition's columns resolve against: both sides, crossed (analysed only,
    to type the condition's arguments: `left.x > right.dec`)."""
    if not join.HasField("join_condition"):
        return None
    crossed = proto.Relation()
    crossed.join.left.CopyFrom(join.left)
    crossed.join.right.CopyFrom(join.right)
    crossed.join.join_type = proto.Join.JoinType.JOIN_TYPE_CROSS
    return crossed


# The relations whose expressions name their output columns, and the field that holds them.
_OUTPUT_EXPRESSIONS = {"project": "expressions", "aggregate": "aggregate_expressions"}


def _copy(expression: Any) -> Any:
    copied = proto.Expression()
    copied.CopyFrom(expression)
    return copied


def _engine_name(input_df: Any, expression: Any) -> str | None:
    """The name the engine gives `expression` unaliased (Spark's, for a function call, and for
    an expression string: `expr("nvl(x, 0.9)")` is named `nvl(x, 0.9)`)."""
    if input_df is None or expression.WhichOneof("expr_type") not in (
            "unresolved_function", "cast", "window", "expression_string"):
        return None
    try:
        columns = input_df.select(Column(_Proto(expression))).columns
    except Exception:  # not analysable against the input alone: the rewrite keeps its name
        return None
    return str(columns[0]) if len(columns) == 1 else None


def _alias(expression: Any, name: str) -> None:
    aliased = proto.Expression()
    aliased.alias.expr.CopyFrom(expression)
    aliased.alias.name.append(name)
    expression.CopyFrom(aliased)


def _own_expressions(message: Message) -> Iterator[Any]:
    """Expressions of this relation (not those of the relations it reads), outermost first."""
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.full_name == _RELATION:
            continue
        items = value if descriptor.is_repeated else [value]
        if descriptor.message_type.GetOptions().map_entry:
            continue
        for item in items:
            if descriptor.message_type.full_name == _EXPRESSION:
                yield item
            yield from _own_expressions(item)


def _rewrite_expression(spark: Any, expression: Any, input_df: _Input) -> None:
    kind = expression.WhichOneof("expr_type")
    if kind == "expression_string":
        text = substituted_expression(spark, expression.expression_string.expression)  # ${}
        expression.expression_string.expression = rewrite_sql(
            text, expression_typer(input_df.df, input_df.type_of), prefetch=expression_prefetch(
                input_df.df, input_df.known_column_type, input_df.remember))
        return
    if kind == "cast":
        _rewrite_cast(spark, expression, input_df)
        return
    if kind == "unresolved_extract_value":
        _rewrite_extract(spark, expression, input_df)
        return
    if kind != "unresolved_function":
        return
    function = expression.unresolved_function
    rule = RULES_BY_NAME.get(function.function_name.lower())
    if rule is None or (function.is_distinct and rule.distinct_column is None):
        return
    if (rule.typed or rule.typed_result or rule.positions is not None) and not rule.candidate(
            [expression_sql(a) or "" for a in function.arguments]):
        return  # the arguments as SQL tell the engine's answer is Spark's: no probe
    args = [Column(_Proto(a)) for a in function.arguments]
    positions = rule.typed_positions(len(args))
    probed = {i: _argument_type(input_df, args[i]) for i in positions}
    types = [probed.get(i) for i in range(max(positions) + 1)] if positions else []
    untyped = bool(rule.typed or rule.positions is not None) and (
        not positions or None in probed.values())
    if rule.typed_result:  # the call's own result type, after the arguments'
        result_type = _argument_type(input_df, Column(_Proto(expression)))
        types.append(result_type)
        untyped = untyped or result_type is None
    if untyped:
        if not rule.refuse_untyped:
            return
        raise NotSupportedYet(
            f"{function.function_name}(...) in a DataFrame expression: lakesmith could not "
            f"find the type of its argument, and the engine's answer differs from Spark's "
            f"for some types ({rule.difference}).",
            hint=f"apply {function.function_name} in a select() directly on the DataFrame "
            "that has the column, or cast its argument.")
    rewrite = rule.distinct_column if function.is_distinct else rule.column
    assert rewrite is not None  # a DISTINCT call without its rewrite was left above
    replacement = rewrite(args, types)
    if replacement is None:
        return
    plan = replacement._expr.to_plan(spark.client)
    expression.CopyFrom(plan)


def _rewrite_window(spark: Any, expression: Any, input_df: _Input) -> None:
    """An aggregate over a window (`F.sum(x).over(w)`) whose rule rewrites it with its window:
    each aggregate of the rewrite is applied over the call's window."""
    window = expression.window
    if window.window_function.WhichOneof("expr_type") != "unresolved_function":
        return
    function = window.window_function.unresolved_function
    rule = RULES_BY_NAME.get(function.function_name.lower())
    if rule is None or rule.window_column is None or function.is_distinct:
        return
    args = [Column(_Proto(a)) for a in function.arguments]
    types = [_argument_type(input_df, a) for a in args[:rule.typed]]
    if len(types) < rule.typed or None in types:
        return  # the window rules (sum, avg) differ only for types found

    def over(aggregate: Any) -> Any:
        windowed = _copy(expression)
        windowed.window.window_function.CopyFrom(aggregate._expr.to_plan(spark.client))
        return Column(_Proto(windowed))

    replacement = rule.window_column(args, types, over)
    if replacement is not None:
        expression.CopyFrom(replacement._expr.to_plan(spark.client))


def _rewrite_cast(spark: Any, expression: Any, input_df: _Input) -> None:
    cast = expression.cast
    target: DataType | None = (proto_schema_to_pyspark_data_type(cast.type)
                               if cast.HasField("type") else rewritable_target(cast.type_str))
    if not isinstance(target, (DecimalType, DateType, StringType)):
        return
    value = Column(_Proto(cast.expr))
    try_ = cast.eval_mode == proto.Expression.Cast.EvalMode.EVAL_MODE_TRY
    replacement = cast_column(value, _argument_type(input_df, value), target, try_=try_)
    if replacement is not None:
        expression.CopyFrom(replacement._expr.to_plan(spark.client))


def _rewrite_extract(spark: Any, expression: Any, input_df: _Input) -> None:
    extract = expression.unresolved_extract_value
    if not is_expression_field_access(extract):
        return
    child = Column(_Proto(extract.child))
    replacement = field_of_each(child, _argument_type(input_df, child),
                                extract.extraction.literal.string)
    if replacement is not None:
        expression.CopyFrom(replacement._expr.to_plan(spark.client))


def _argument_type(input_df: _Input, column: Any) -> Any:
    def probe() -> DataType | None:
        assert input_df.df is not None  # probed only when the node has an input
        try:
            fields = input_df.df.select(column).schema.fields
        except Exception:  # not analysable against the input alone (e.g. a join's two sides)
            return None
        return fields[0].dataType if len(fields) == 1 else None

    plan = column._expr.to_plan(None)
    literal = expression_literal_type(plan)
    if literal is not None:  # no probe needed
        return literal
    known = input_df.known_type(plan)
    if known is not None:  # a column of a known schema: no probe either
        return known
    return input_df.type_of(plan.SerializeToString(deterministic=True), probe)


def _no_tables(name: str) -> StructType | None:
    return None


class _Proto(Expression):
    """An expression already in protobuf form, usable in a Column."""

    def __init__(self, plan: proto.Expression) -> None:
        super().__init__()
        self._plan = plan

    def to_plan(self, session: Any) -> proto.Expression:
        return self._plan

    def __repr__(self) -> str:
        return "<expression>"
