"""FLOAT and DOUBLE keys compared as Spark compares them (`NormalizeFloatingNumbers`): -0.0 as
0.0 and every NaN as one NaN, wherever values are compared as keys. The engine compares their
bits: a negative NaN and NaN are two groups, two distinct values and no join match; in a window
partition, a set operation and `count(DISTINCT ...)` -0.0 and 0.0 are two as well.

Applied to DataFrame plans, in place: grouping keys (their output normalized, as Spark's is),
`dropDuplicates` / `distinct()` keys (likewise), `intersect` / `subtract` inputs, window partition
keys and the `==` operands of a join condition (the joined rows keep their values, as in Spark).
A join `on` a FLOAT/DOUBLE column name is refused: Spark outputs the left side's value, which the
rewrite could not keep. The key types come from the input's schema (one analysis per relation
that has keys, cached with the other probes); an expression key is probed only when that input
has a FLOAT or DOUBLE column. SQL text is not rewritten here (docs/engine-gaps.md)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.connect import proto
from pyspark.sql.types import ArrayType, DataType, DoubleType, FloatType, StructType

from lakesmith.engine.plans import all_relations, column_of
from lakesmith.errors import NotSupportedYet
from lakesmith.sql_literal import sql_string

SchemaOf = Callable[[proto.Relation], StructType | None]
FLOATING = (FloatType, DoubleType)


def as_spark_compares(column: Any, data_type: DataType | None) -> Any:
    """A FLOAT or DOUBLE key as Spark compares keys: -0.0 as 0.0 (`+ 0.0` is IEEE's way) and
    every NaN as one NaN; typed as the key. Other keys as they are."""
    if not isinstance(data_type, FLOATING):
        return column
    return F.when(F.isnan(column), F.lit(float("nan")).cast(data_type)) \
        .otherwise(column + F.lit(0.0).cast(data_type))


def as_spark_compares_nested(column: Any, data_type: DataType | None, depth: int = 0) -> Any:
    """`as_spark_compares`, also of the FLOAT/DOUBLE fields and elements inside a STRUCT or ARRAY
    key (Spark normalizes those too); a key with none as it is."""
    if isinstance(data_type, FLOATING) or not is_floating(data_type):
        return as_spark_compares(column, data_type)
    if isinstance(data_type, StructType):
        fields = [as_spark_compares_nested(column.getField(f.name), f.dataType, depth + 1)
                  .alias(f.name) for f in data_type.fields]
        return F.when(column.isNull(), F.lit(None)).otherwise(F.struct(*fields))
    assert isinstance(data_type, ArrayType)
    element = data_type.elementType
    return F.transform(column, lambda x: as_spark_compares_nested(x, element, depth + 1))


def as_spark_compares_sql(value: str, data_type: DataType, depth: int = 0) -> str:
    """`as_spark_compares_nested` as SQL text, over the SQL `value`."""
    if not is_floating(data_type):
        return value
    value = f"({value})"
    if isinstance(data_type, StructType):
        fields = ", ".join(
            f"{sql_string(f.name)}, "
            f"{as_spark_compares_sql(f'{value}.{_quoted(f.name)}', f.dataType, depth + 1)}"
            for f in data_type.fields)
        return f"CASE WHEN {value} IS NULL THEN NULL ELSE named_struct({fields}) END"
    if isinstance(data_type, ArrayType):
        x = f"__lakesmith_x{depth}"
        return f"transform({value}, {x} -> {as_spark_compares_sql(x, data_type.elementType, depth + 1)})"
    type_sql = data_type.simpleString().upper()
    return (f"CASE WHEN isnan({value}) THEN CAST('NaN' AS {type_sql}) "
            f"ELSE {value} + CAST(0.0 AS {type_sql}) END")


_NORMALIZED_VALUES = re.compile(
    r"^CAST\('NaN' AS (FLOAT|DOUBLE)\)\s*\x00.*\+ CAST\(0\.0 AS \1\)$", re.DOTALL)


def is_normalized_key_case(values: list[str]) -> bool:
    """Whether a CASE's THEN and ELSE values are those `as_spark_compares_sql` writes (NaN of
    the key's type, else the key + 0.0 of it): one type by construction, so the conditional
    rule has nothing to cast, and nothing to ask (a correlated key cannot be asked)."""
    return len(values) == 2 and _NORMALIZED_VALUES.match("\x00".join(v.strip() for v in values)
                                                         ) is not None


def is_floating(data_type: DataType | None) -> bool:
    """A FLOAT/DOUBLE type, or a STRUCT/ARRAY holding one: a key Spark normalizes."""
    if isinstance(data_type, FLOATING):
        return True
    if isinstance(data_type, StructType):
        return any(is_floating(f.dataType) for f in data_type.fields)
    if isinstance(data_type, ArrayType):
        return is_floating(data_type.elementType)
    return False


# The plan ids of relations lakesmith built with their keys already compared as Spark compares
# them (`keys_compared`): plan ids are unique in a process (pyspark's LogicalPlan counter).
_KEYS_COMPARED: set[int] = set()


def keys_compared(df: Any) -> Any:
    """Mark `df`'s own relation (a join, an aggregate lakesmith builds, e.g. the streaming
    deduplication's) as comparing its keys as Spark does already, its key types known to the
    code that built it: the pass below leaves it alone, and asks the engine nothing for it."""
    plan = df._plan
    _KEYS_COMPARED.update({plan._root_plan_id, plan._plan_id})
    return df


def normalize_float_keys_plan(spark: Any, relation: proto.Relation, schema_of: SchemaOf) -> None:
    """Rewrite, in place, every key comparison over FLOAT/DOUBLE values in `relation`."""
    keys = _Keys(spark, schema_of)
    # inputs first: a rewrite wraps a relation's input, which is then rewritten already
    for rel in reversed(list(all_relations(relation))):
        if rel.HasField("common") and rel.common.plan_id in _KEYS_COMPARED:
            continue
        kind = rel.WhichOneof("rel_type")
        if kind == "aggregate":
            keys.distinct_arguments(rel.aggregate)
            keys.aggregate(rel)
        elif kind == "deduplicate":
            keys.deduplicate(rel.deduplicate)
        elif kind == "set_op":
            keys.set_operation(rel.set_op)
        elif kind == "join":
            keys.join(rel.join)
        if kind is not None:
            keys.window_partitions(rel, kind)


class _Keys:
    def __init__(self, spark: Any, schema_of: SchemaOf) -> None:
        self.spark = spark
        self.schema_of = schema_of

    def _plan(self, column: Any) -> proto.Expression:
        return column._expr.to_plan(self.spark.client)  # type: ignore[no-any-return]

    def _key_type(self, input_rel: proto.Relation, schema: StructType,
                  key: proto.Expression) -> DataType | None:
        """The type of `key` over `input_rel`: a column's from the schema, an expression's
        probed (only when the input has a floating-point column it could be made of)."""
        name = _column_name(key)
        if name is not None:
            found = _field(schema, name)
            if found is not None:
                return found
        if not any(is_floating(f.dataType) for f in schema.fields) \
                and name is not None:
            return None
        probe = proto.Relation()
        probe.project.input.CopyFrom(input_rel)
        probe.project.expressions.add().CopyFrom(key)
        probed = self.schema_of(probe)
        return probed.fields[0].dataType if probed is not None and len(probed.fields) == 1 \
            else None

    def _normalized(self, key: proto.Expression, data_type: DataType | None) -> proto.Expression:
        return self._plan(as_spark_compares_nested(column_of(_copy(key)), data_type))

    def _normalize_in_place(self, input_rel: proto.Relation, keys: list[Any]) -> None:
        """Normalize each of `keys` (expressions over `input_rel`) that is FLOAT or DOUBLE; the
        input's schema is asked once, and nothing more when it has no floating column."""
        schema = self.schema_of(input_rel)
        if schema is None or not _has_floating(schema):
            return
        for key in keys:
            data_type = self._key_type(input_rel, schema, key)
            if is_floating(data_type):
                key.CopyFrom(self._normalized(key, data_type))

    def aggregate(self, rel: proto.Relation) -> None:
        body = rel.aggregate
        if not body.grouping_expressions or not body.HasField("input"):
            return
        schema = self.schema_of(body.input)
        if schema is None or not _has_floating(schema):
            return
        floating = [(key, data_type) for key in body.grouping_expressions
                    if is_floating(data_type := self._key_type(body.input, schema, key))]
        if not floating:
            return
        if _grouping_calls_of(body):
            self._aggregate_with_grouping_calls(rel, floating)
            return
        for key, data_type in floating:
            name = _output_name(self.schema_of, body.input, key)
            normalized = self._normalized(key, data_type)
            key.Clear()
            if name is None:
                key.CopyFrom(normalized)
                continue
            key.alias.expr.CopyFrom(normalized)  # the output keeps the key's name
            key.alias.name.append(name)

    def _aggregate_with_grouping_calls(self, rel: proto.Relation,
                                       floating: list[tuple[Any, DataType | None]]) -> None:
        """A rollup or cube whose `grouping(k)` / `grouping_id(k, ...)` names a FLOAT/DOUBLE
        key: the engine requires the call's argument to be the grouping expression itself (an
        alias there does not match), so the keys and the calls' arguments are normalized
        unaliased, and the output columns get their names back by position (`toDF`)."""
        names = self.schema_of(rel)
        if names is None:
            return
        body = rel.aggregate
        replaced: dict[bytes, proto.Expression] = {}
        for key, data_type in floating:
            normalized = self._normalized(key, data_type)
            replaced[key.SerializeToString(deterministic=True)] = normalized
            key.CopyFrom(normalized)
        for call in _grouping_calls_of(body):
            for argument in call.arguments:
                found = replaced.get(argument.SerializeToString(deterministic=True))
                if found is not None:
                    argument.CopyFrom(found)
        renamed = proto.Relation()
        renamed.to_df.input.CopyFrom(rel)
        renamed.to_df.column_names.extend(f.name for f in names.fields)
        rel.CopyFrom(renamed)

    def distinct_arguments(self, body: Any) -> None:
        """`count(DISTINCT x)` and other aggregates over distinct values: `x` normalized."""
        if not body.HasField("input"):
            return
        calls = [e.unresolved_function for e in body.aggregate_expressions for e in
                 _expressions_in(e) if e.WhichOneof("expr_type") == "unresolved_function"
                 and e.unresolved_function.is_distinct]
        if not calls:
            return
        self._normalize_in_place(body.input, [a for call in calls for a in call.arguments])

    def deduplicate(self, body: Any) -> None:
        schema = self.schema_of(body.input)
        if schema is None:
            return
        wanted = {n.lower() for n in body.column_names}
        columns = [f for f in schema.fields if is_floating(f.dataType)
                   and (body.all_columns_as_keys or f.name.lower() in wanted)]
        if columns:
            self._normalize_columns(body.input, schema, columns)

    def set_operation(self, body: Any) -> None:
        if body.set_op_type == proto.SetOperation.SET_OP_TYPE_UNION and body.is_all:
            return  # UNION ALL compares nothing (`union().distinct()` is a `deduplicate`)
        for side in (body.left_input, body.right_input):
            schema = self.schema_of(side)
            if schema is None:
                continue
            columns = [f for f in schema.fields if is_floating(f.dataType)]
            if columns:
                self._normalize_columns(side, schema, columns)

    def _normalize_columns(self, rel: proto.Relation, schema: StructType, columns: list[Any]
                           ) -> None:
        """Replace `rel` by itself with `columns` normalized in place (same names, same
        positions: `withColumns`)."""
        names = [f.name.lower() for f in schema.fields]
        if any(names.count(f.name.lower()) > 1 for f in columns):
            raise NotSupportedYet(
                "a FLOAT/DOUBLE key column named twice in its input "
                f"({columns[0].name}): lakesmith compares such keys as Spark does "
                "(-0.0 = 0.0, one NaN) by normalizing the column, which it cannot name here.",
                hint="select or rename the columns so that each key name is unique.")
        wrapped = proto.Relation()
        wrapped.with_columns.input.CopyFrom(rel)
        for f in columns:
            alias = wrapped.with_columns.aliases.add()
            alias.expr.CopyFrom(self._plan(as_spark_compares_nested(F.col(_quoted(f.name)),
                                                             f.dataType)))
            alias.name.append(f.name)
        rel.CopyFrom(wrapped)

    def join(self, body: Any) -> None:
        left, right = self.schema_of(body.left), self.schema_of(body.right)
        if left is None or right is None:
            return
        if not (_has_floating(left) or _has_floating(right)):
            return
        for name in body.using_columns:
            found = _field(left, name) or _field(right, name)
            if found is not None and is_floating(found):
                raise NotSupportedYet(
                    f"a join on the {found.simpleString().upper()} column '{name}' by name: "
                    "Spark matches -0.0 with 0.0 and every NaN with NaN there and outputs the "
                    "left side's value; the engine compares the bits, and lakesmith cannot "
                    "rewrite this form and keep the output.",
                    hint=f"join on a condition (left['{name}'] == right['{name}']) and select "
                    "the columns to keep.")
        if body.HasField("join_condition"):
            self._equalities(body, body.join_condition)

    def _equalities(self, body: Any, condition: proto.Expression) -> None:
        if condition.WhichOneof("expr_type") != "unresolved_function":
            return
        function = condition.unresolved_function
        if function.function_name.lower() == "and":
            for argument in function.arguments:
                self._equalities(body, argument)
            return
        if function.function_name not in ("==", "<=>") or len(function.arguments) != 2:
            return
        for operand in function.arguments:
            data_type = self._operand_type(body, operand)
            if is_floating(data_type):
                operand.CopyFrom(self._normalized(operand, data_type))

    def _operand_type(self, body: Any, operand: proto.Expression) -> DataType | None:
        for side in (body.left, body.right):
            probe = proto.Relation()
            probe.project.input.CopyFrom(side)
            probe.project.expressions.add().CopyFrom(operand)
            probed = self.schema_of(probe)
            if probed is not None and len(probed.fields) == 1:
                return probed.fields[0].dataType
        return None

    def window_partitions(self, rel: proto.Relation, kind: str) -> None:
        body = getattr(rel, kind)
        if "input" not in body.DESCRIPTOR.fields_by_name or not body.HasField("input"):
            return
        windows = _windows(body)
        if not windows:
            return
        self._normalize_in_place(body.input, [k for w in windows for k in w.partition_spec])


_GROUPING_CALLS = ("grouping", "grouping_id")


def _grouping_calls_of(body: Any) -> list[Any]:
    """The `grouping(...)` / `grouping_id(...)` calls of an aggregate's output expressions."""
    return [e.unresolved_function for top in body.aggregate_expressions
            for e in _expressions_in(top) if e.WhichOneof("expr_type") == "unresolved_function"
            and e.unresolved_function.function_name.lower() in _GROUPING_CALLS]


def _windows(message: Any) -> list[Any]:
    """The window expressions of a relation's own expressions (not of its inputs)."""
    from lakesmith.engine.plans import nested_messages

    found: list[Any] = []
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None \
                or descriptor.message_type.full_name != proto.Expression.DESCRIPTOR.full_name:
            continue
        for item in (value if descriptor.is_repeated else [value]):
            nested: list[Any] = list(nested_messages(item, proto.Expression.DESCRIPTOR.full_name))
            found += [e.window for e in nested if e.WhichOneof("expr_type") == "window"]
    return found


def _expressions_in(expression: proto.Expression) -> list[Any]:
    from lakesmith.engine.plans import nested_messages

    return list(nested_messages(expression, proto.Expression.DESCRIPTOR.full_name))


def _has_floating(schema: StructType) -> bool:
    return is_floating(schema)


def _column_name(key: proto.Expression) -> str | None:
    """The column a key names (its last part, unquoted), or None for an expression."""
    if key.WhichOneof("expr_type") != "unresolved_attribute":
        return None
    name = str(key.unresolved_attribute.unparsed_identifier)
    last = name.rsplit(".", 1)[-1] if "`" not in name else name
    return last.strip("`")


def _field(schema: StructType, name: str) -> DataType | None:
    matches = [f.dataType for f in schema.fields if f.name.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else None


def _output_name(schema_of: SchemaOf, input_rel: proto.Relation,
                 key: proto.Expression) -> str | None:
    """The name the engine gives the key's output column (a column's own name)."""
    name = _column_name(key)
    if name is not None:
        return name
    probe = proto.Relation()
    probe.project.input.CopyFrom(input_rel)
    probe.project.expressions.add().CopyFrom(key)
    probed = schema_of(probe)
    return probed.fields[0].name if probed is not None and len(probed.fields) == 1 else None


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _copy(expression: proto.Expression) -> proto.Expression:
    copied = proto.Expression()
    copied.CopyFrom(expression)
    return copied
