"""Table schemas as Spark's pipelines write them.

A dataset declared with `schema=` (or a SQL column list) is written with exactly those columns,
types, nullability and comments; the query must produce the same columns with the same types, and
may put NULLs only where the declaration allows them — otherwise Spark refuses the dataset with
USER_SPECIFIED_AND_INFERRED_SCHEMA_NOT_COMPATIBLE, and so does lakesmith (never a silent cast).
Every column not declared NOT NULL is written nullable, as Spark and Delta write it, whatever
the engine infers (the engine calls `count(*)` or a literal non-nullable: a later append of a
NULL would then fail)."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import functions as F
from pyspark.sql.types import StructField, StructType

from lakesmith.errors import LakesmithError
from lakesmith.graph.model import Table
from lakesmith.runtime.generated_columns import with_generated_columns
from lakesmith.tables.catalog import quote_always


def declared_schema(spark: Any, dataset: Table) -> StructType | None:
    schema = dataset.schema
    if schema is None:
        return None
    if isinstance(schema, StructType):
        return schema
    if isinstance(schema, str):
        try:
            parsed = spark._parse_ddl(schema)
        except Exception as e:  # the engine's parser reports the problem
            raise LakesmithError(
                f"the schema of '{dataset.name}' is not a valid DDL string "
                f"({schema!r}): {str(e).splitlines()[0]}") from e
        if not isinstance(parsed, StructType):
            return StructType().add("value", parsed)
        return _with_comments(parsed, ddl_comments(schema))
    raise LakesmithError(
        f"the schema of '{dataset.name}' must be a StructType or a DDL string "
        f"such as 'a INT, b STRING', not {type(schema).__name__}.")


INCOMPATIBLE = "USER_SPECIFIED_AND_INFERRED_SCHEMA_NOT_COMPATIBLE"


def ddl_comments(ddl: str) -> dict[str, str]:
    """`COMMENT '...'` of each column of a DDL column list (the engine's DDL parser drops them).
    sqlglot reads the list only when it has a comment (`lakesmith run` starts without it)."""
    if "comment" not in ddl.lower():
        return {}
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    try:
        table = sqlglot.parse_one(f"CREATE TABLE t ({ddl})", dialect="spark")
    except (ParseError, TokenError):
        return {}
    comments: dict[str, str] = {}
    for column in table.find_all(exp.ColumnDef):
        for constraint in column.args.get("constraints") or []:
            if isinstance(constraint.args.get("kind"), exp.CommentColumnConstraint):
                comments[column.name] = constraint.args["kind"].this.name
    return comments


def _with_comments(schema: StructType, comments: dict[str, str]) -> StructType:
    if not comments:
        return schema
    return StructType([
        StructField(f.name, f.dataType, f.nullable,
                    {**(f.metadata or {}), "comment": comments[f.name]} if f.name in comments
                    else f.metadata)
        for f in schema.fields])


def conform(df: Any, dataset: Table, schema: StructType) -> Any:
    """The query's result with the declared columns, in the declared order; refused as Spark
    refuses it when the query's columns do not fit the declaration."""
    df = with_generated_columns(df, dataset, schema)
    columns = df.columns
    present = {c.lower(): c for c in columns}
    declared = {f.name.lower() for f in schema.fields}
    missing = [f.name for f in schema.fields if f.name.lower() not in present]
    extra = [c for c in columns if c.lower() not in declared]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"declared but not produced by the query: {', '.join(missing)}")
        if extra:
            parts.append(f"produced by the query but not declared: {', '.join(extra)}")
        raise LakesmithError(
            f"the query of '{dataset.name}' does not match its declared "
            f"schema ({'; '.join(parts)}).",
            hint="make the query's columns match the schema, or change the schema.")
    inferred = {f.name.lower(): f for f in df.schema.fields}
    problems = [problem for field in schema.fields
                if (problem := _incompatibility(field, inferred[field.name.lower()]))]
    if problems:
        raise LakesmithError(
            f"[{INCOMPATIBLE}] table '{dataset.name}' has a declared schema that is incompatible "
            f"with the schema inferred from its query: {'; '.join(problems)}.",
            hint="cast the query's columns to the declared types (and filter or coalesce NULLs "
            "for NOT NULL columns), or change the declared schema.")
    return df.select([F.col(quote_always(present[f.name.lower()])).alias(f.name)
                      for f in schema.fields])


def _incompatibility(declared: StructField, inferred: StructField) -> str | None:
    if declared.dataType.simpleString() != inferred.dataType.simpleString():
        return (f"column {declared.name} is declared {declared.dataType.simpleString()}, the "
                f"query produces {inferred.dataType.simpleString()}")
    if not declared.nullable and inferred.nullable:
        return f"column {declared.name} is declared NOT NULL, the query can produce NULLs"
    return None


def written(spark: Any, df: Any, dataset: Table) -> Any:
    """The flow's result as the table is written: conformed to a declared schema, and nullable
    except where declared NOT NULL."""
    return nullable(spark, declared(spark, df, dataset), dataset)


def declared(spark: Any, df: Any, dataset: Table) -> Any:
    """The result conformed to the dataset's declared schema, if it has one (analysed now, so a
    mismatch is reported before anything runs)."""
    schema = declared_schema(spark, dataset)
    return conform(df, dataset, schema) if schema is not None else df


def nullable(spark: Any, df: Any, dataset: Table, known: StructType | None = None) -> Any:
    """The result with every column nullable except those declared NOT NULL. It asks the engine
    for the result's schema: call it where a failing read is diagnosed (inside a writer).
    `known`: the result's columns and types when lakesmith can tell them without the engine
    (`known_schemas`); then the engine is not asked, and every column is made nullable whatever
    the engine infers (used only where nothing is declared NOT NULL)."""
    schema = declared_schema(spark, dataset)
    not_null = {f.name for f in schema.fields if not f.nullable} if schema is not None else set()
    if known is not None and not not_null:
        fields = known.fields
    else:
        fields = df.schema.fields
        if all(f.nullable or f.name in not_null for f in fields):
            return df
    # The engine writes the nullability it infers: a union with an empty relation of the
    # wanted nullability gives it (a union is nullable where either side is).
    wanted = StructType([StructField(f.name, f.dataType, f.name not in not_null)
                         for f in fields])
    result = df.unionByName(spark.createDataFrame([], wanted))
    if not any(f.metadata for f in fields):
        # The union's schema is known: each side's types, nullable where either side is. Kept
        # on the DataFrame, so the write's new-columns check asks the engine nothing (a round
        # trip per batch, which waits behind any query running in the engine).
        result._cached_schema = StructType([
            StructField(f.name, f.dataType, f.nullable or f.name not in not_null)
            for f in fields])
    return result


def column_comments(spark: Any, dataset: Table) -> dict[str, str]:
    """The declared schema's column comments (kept in the table's schema, as Spark keeps them)."""
    schema = declared_schema(spark, dataset)
    if schema is None:
        return {}
    return {f.name: str(f.metadata["comment"]) for f in schema.fields
            if f.metadata and f.metadata.get("comment") is not None}
