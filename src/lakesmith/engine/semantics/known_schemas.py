"""The schema of a relation lakesmith can tell without asking the engine: a read of a table
whose schema it holds (a pipeline table's Delta log, read with delta-rs), and the relations over
it that keep, rename or aggregate its columns. The FLOAT/DOUBLE key pass (`float_keys`) asks
schemas here first: every analysis round trip it saves is 1-15 ms of a flow's time
(docs/engine-gaps.md). Anything else is None: the caller asks the engine."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from pyspark.sql.connect import proto
from pyspark.sql.types import (
    BinaryType,
    BooleanType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    ShortType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

# A table's schema by the name a bound read gives it (`TableBinding.engine_name`), or None;
# also a relation's, by `relation_key` of its plan id (a relation bound in place of a read).
TableSchemas = Callable[[str], StructType | None]
SchemaOf = Callable[[proto.Relation], StructType | None]

_SAME_COLUMNS = ("subquery_alias", "filter", "limit", "offset", "sort", "tail", "sample",
                 "deduplicate", "hint", "repartition", "repartition_by_expression")


def relation_key(plan_id: int) -> str:
    """The key of a relation whose schema lakesmith knows (the rows a table appended, bound in
    place of its read: their schema is the table's, from its Delta log) among `TableSchemas`,
    by the plan id of its root. Engine names are back-quoted: none looks like it."""
    return f"#plan_id {plan_id}"


def known_first(tables: TableSchemas, engine: SchemaOf) -> SchemaOf:
    """`engine`, asked only for a relation whose schema `known_schema` cannot tell."""

    def schema_of(relation: proto.Relation) -> StructType | None:
        known = known_schema(relation, tables)
        return known if known is not None else engine(relation)

    return schema_of


def known_sql_first(tables: TableSchemas, engine: Callable[[str], StructType | None]
                    ) -> Callable[[str], StructType | None]:
    """`engine` (a SQL text's schema), asked only for a text `known_sql_schema` cannot tell."""

    def schema_of(text: str) -> StructType | None:
        known = known_sql_schema(text, tables)
        return known if known is not None else engine(text)

    return schema_of


def known_sql_schema(text: str, tables: TableSchemas) -> StructType | None:
    """The schema of `SELECT <columns> FROM <one known table> [AS alias]` (the shape the key
    probes of `sql_float_keys` take), each column named as the engine names a column
    reference; None for any other text."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text, read="spark")
    except sqlglot.errors.SqlglotError:
        return None
    source = tree.args.get("from_") if isinstance(tree, exp.Select) else None
    if source is None or not isinstance(source.this, exp.Table) or any(
            tree.args.get(clause) for clause in (
                "joins", "laterals", "where", "group", "having", "qualify", "distinct",
                "windows", "with_", "order", "limit")):
        return None
    table = source.this
    if table.args.get("catalog") is not None or table.args.get("pivots"):
        return None
    name = f"`{table.name.replace('`', '``')}`"  # without a schema: a temporary view's
    schema = tables(f"`{table.db.replace('`', '``')}`.{name}" if table.db else name)
    if schema is None:
        return None
    qualifiers = {table.name.lower(), (table.alias or table.name).lower()}
    fields: list[StructField] = []
    for item in tree.expressions:
        if not isinstance(item, exp.Column) or isinstance(item.this, exp.Star) or \
                item.args.get("db") is not None or item.table and \
                item.table.lower() not in qualifiers:
            return None
        matches = [f for f in schema.fields if f.name.lower() == item.name.lower()]
        if len(matches) != 1 or matches[0].name != item.name:
            return None  # a name spelled otherwise: the engine says how it names the column
        fields.append(StructField(item.name, matches[0].dataType, matches[0].nullable))
    return StructType(fields)


def known_schema(relation: proto.Relation, tables: TableSchemas) -> StructType | None:
    """The relation's output columns and types, from the tables' schemas alone; None when they
    cannot be told without the engine's analysis."""
    if relation.HasField("common") and relation.common.HasField("plan_id"):
        known = tables(relation_key(relation.common.plan_id))
        if known is not None:
            return known
    kind = relation.WhichOneof("rel_type")
    if kind == "read":
        read = relation.read
        if read.is_streaming:
            return None
        if read.WhichOneof("read_type") == "data_source":
            return _declared_parquet_schema(read.data_source)
        if read.WhichOneof("read_type") != "named_table":
            return None
        return tables(read.named_table.unparsed_identifier)
    if kind in _SAME_COLUMNS:
        return known_schema(getattr(relation, kind).input, tables)
    if kind == "project":
        source = known_schema(relation.project.input, tables)
        return None if source is None else _project(list(relation.project.expressions), source)
    if kind == "drop":
        source = known_schema(relation.drop.input, tables)
        return None if source is None else _drop(relation.drop, source)
    if kind == "aggregate":
        return _aggregate(relation.aggregate, tables)
    return None


def _declared_parquet_schema(source: proto.Read.DataSource) -> StructType | None:
    """A Parquet read with a schema given as a StructType (a Delta stream's slice of files,
    `sources/delta.py`): its columns are of those types. Character types are left to the
    engine (Spark reads CHAR/VARCHAR as STRING)."""
    if (source.format or "").lower() != "parquet" or not source.schema.startswith("{"):
        return None
    try:
        schema = StructType.fromJson(json.loads(source.schema))
    except (ValueError, KeyError, TypeError):
        return None
    return None if "char(" in schema.simpleString().lower() else schema


def _project(expressions: list[proto.Expression], source: StructType) -> StructType | None:
    fields: list[StructField] = []
    for expression in expressions:
        kind = expression.WhichOneof("expr_type")
        if kind == "unresolved_star" and not expression.unresolved_star.HasField(
                "unparsed_target"):
            fields += source.fields
            continue
        field = column_field(expression, source) or _named_value(expression, source)
        if field is None:
            return None
        fields.append(field)
    return StructType(fields)


def _drop(body: proto.Drop, source: StructType) -> StructType | None:
    """`df.drop(names...)`: the columns not named (without case; a name not there is no
    change, as in Spark)."""
    names = {name.lower() for name in body.column_names}
    for column in body.columns:
        if column.WhichOneof("expr_type") != "unresolved_attribute":
            return None
        name = _last_part(column.unresolved_attribute.unparsed_identifier)
        if name is None or name != column.unresolved_attribute.unparsed_identifier.strip("`"):
            return None  # a qualified or nested name: the engine says what it drops
        names.add(name.lower())
    return StructType([f for f in source.fields if f.name.lower() not in names])


# Functions of no arguments whose type is fixed (Spark's `current_timestamp()` and its alias).
_FIXED_TYPES: dict[str, DataType] = {"current_timestamp": TimestampType(),
                                     "now": TimestampType(), "current_date": DateType()}


def _named_value(expression: proto.Expression, source: StructType) -> StructField | None:
    """An aliased value whose type lakesmith can tell: a field of a struct column
    (`col("_metadata.file_path").alias(...)`) or a function of fixed type
    (`current_timestamp().alias(...)`); None for anything else."""
    if expression.WhichOneof("expr_type") != "alias" or len(expression.alias.name) != 1:
        return None
    name, value = expression.alias.name[0], expression.alias.expr
    kind = value.WhichOneof("expr_type")
    if kind == "unresolved_function" and not value.unresolved_function.arguments:
        fixed = _FIXED_TYPES.get(value.unresolved_function.function_name.lower())
        return None if fixed is None else StructField(name, fixed, False)
    if kind != "unresolved_attribute":
        return None
    identifier = value.unresolved_attribute.unparsed_identifier
    if "`" in identifier or not _first_part_is_column(identifier, source):
        return None
    data_type: DataType = source
    for part in identifier.split("."):
        if not isinstance(data_type, StructType):
            return None
        matches = [f for f in data_type.fields if f.name.lower() == part.lower()]
        if len(matches) != 1:
            return None
        data_type = matches[0].dataType
    return StructField(name, data_type, True)


def column_field(expression: proto.Expression, source: StructType) -> StructField | None:
    """A column of `source` as an expression names it (`c`, `t.c`, `` `c` ``), or renamed by
    an alias, perhaps cast to a type (`col("c").cast("bigint").alias("c")`); None for anything
    computed."""
    if expression.WhichOneof("expr_type") == "alias" and len(expression.alias.name) == 1:
        inner = expression.alias.expr
        found = _cast_field(inner.cast, source) if inner.WhichOneof("expr_type") == "cast" \
            else column_field(inner, source)
        return None if found is None else StructField(expression.alias.name[0], found.dataType,
                                                      found.nullable)
    if expression.WhichOneof("expr_type") != "unresolved_attribute":
        return None
    identifier = expression.unresolved_attribute.unparsed_identifier
    name = _last_part(identifier)
    if name is None:
        return None
    if _first_part_is_column(identifier, source):
        return None  # `a.b` with a column `a`: a field of the struct `a`, not the column `b`
    matches = [f for f in source.fields if f.name.lower() == name.lower()]
    return matches[0] if len(matches) == 1 else None


# Type names a cast can give as text (`col("x").cast("bigint")`), read without the engine.
_CAST_TYPES: dict[str, DataType] = {
    "bigint": LongType(), "long": LongType(), "int": IntegerType(), "integer": IntegerType(),
    "smallint": ShortType(), "short": ShortType(), "tinyint": ByteType(), "byte": ByteType(),
    "double": DoubleType(), "float": FloatType(), "real": FloatType(), "string": StringType(),
    "boolean": BooleanType(), "date": DateType(), "binary": BinaryType()}
# (not "timestamp": its type is the session's `spark.sql.timestampType`)
_DECIMAL = re.compile(r"(?:decimal|dec|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)")


def _cast_field(cast: proto.Expression.Cast, source: StructType) -> StructField | None:
    """A column of `source` cast (not `try_cast`) to a type, under an alias (the engine's name of
    an unnamed cast is its own): of that type, nullable (Spark's cast is at least as nullable
    as its input)."""
    found = column_field(cast.expr, source) \
        if cast.expr.WhichOneof("expr_type") == "unresolved_attribute" else None
    if found is None or cast.eval_mode == proto.Expression.Cast.EvalMode.EVAL_MODE_TRY:
        return None
    if cast.WhichOneof("cast_to_type") == "type_str":
        text = cast.type_str.strip().lower()
        decimal = _DECIMAL.fullmatch(text)
        data_type = DecimalType(int(decimal.group(1)), int(decimal.group(2))) if decimal \
            else _CAST_TYPES.get(text)
    else:
        from pyspark.sql.connect.types import proto_schema_to_pyspark_data_type

        data_type = proto_schema_to_pyspark_data_type(cast.type)
        if not isinstance(data_type, (*{type(t) for t in _CAST_TYPES.values()}, DecimalType,
                                      TimestampType)):
            data_type = None  # nested or character types: the engine says
    if data_type is None:
        return None
    return StructField(found.name, data_type, True)


def _first_part_is_column(identifier: str, source: StructType) -> bool:
    """Whether a dotted name starts with a column of `source` (then it reads a struct field;
    otherwise its first parts qualify the column: a table or alias)."""
    if "`" in identifier or "." not in identifier:
        return False
    first = identifier.split(".", 1)[0].lower()
    return any(f.name.lower() == first for f in source.fields)


def _last_part(identifier: str) -> str | None:
    """The column of `a.b` or `` `b` `` (None for a name with dots inside back-quotes)."""
    if "`" in identifier:
        inner = identifier.strip("`")
        return None if "`" in inner or "." in inner else inner
    return identifier.rsplit(".", 1)[-1]


def _aggregate(body: proto.Aggregate, tables: TableSchemas) -> StructType | None:
    """A plain GROUP BY of columns with `count`, `sum`, `min`, `max` of columns."""
    if body.group_type != proto.Aggregate.GroupType.GROUP_TYPE_GROUPBY or body.HasField("pivot"):
        return None
    source = known_schema(body.input, tables)
    if source is None:
        return None
    keys = _project(list(body.grouping_expressions), source)
    if keys is None:
        return None
    fields = list(keys.fields)
    for expression in body.aggregate_expressions:
        if expression.WhichOneof("expr_type") != "alias" or len(expression.alias.name) != 1:
            return None
        data_type = _aggregate_type(expression.alias.expr, source)
        if data_type is None:
            return None
        fields.append(StructField(expression.alias.name[0], data_type, True))
    return StructType(fields)


def _aggregate_type(expression: proto.Expression, source: StructType) -> DataType | None:
    if expression.WhichOneof("expr_type") != "unresolved_function":
        return None
    call = expression.unresolved_function
    name = call.function_name.lower()
    if len(call.arguments) != 1:
        return None
    if name == "count":
        return LongType()
    argument = column_field(call.arguments[0], source)
    if argument is None or call.is_distinct and name == "sum":
        return None
    if name in ("min", "max"):
        return argument.dataType
    if name == "sum":
        return _sum_type(argument.dataType)
    return None


def _sum_type(data_type: DataType) -> DataType | None:
    """Spark's type of `sum(x)`: BIGINT of integers, DOUBLE of FLOAT/DOUBLE, DECIMAL(p+10, s)."""
    if isinstance(data_type, (ByteType, ShortType, IntegerType, LongType)):
        return LongType()
    if isinstance(data_type, (FloatType, DoubleType)):
        return DoubleType()
    if isinstance(data_type, DecimalType):
        return DecimalType(min(38, data_type.precision + 10), data_type.scale)
    return None
