"""`input_file_name()` and the hidden `_metadata` column, which the engine does not have.

A file source supplies `_metadata` (file path, name, size, modification time) as an ordinary
column when the query reads it. Two things keep Spark's meaning: `input_file_name()` is rewritten
to read the path from that column, and the column is dropped from a flow's result when it got
there only through `*` (in Spark it is hidden: `SELECT *` never includes it).
"""

from __future__ import annotations

import re
from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.plans import all_relations, nested_messages

METADATA_COLUMN = "_metadata"
# What `input_file_name()` returns in Spark, per row: the file's URI, `file:///x` where
# `_metadata.file_path` says `file:/x` (both recorded from Spark 4.3 in tests/golden).
INPUT_FILE_NAME = f"(regexp_replace({METADATA_COLUMN}.file_path, '^file:/+', 'file:///'))"
_INPUT_FILE_NAME_CALL = re.compile(r"\binput_file_name\s*\(\s*\)", re.IGNORECASE)
_EXPRESSION = proto.Expression.DESCRIPTOR.full_name


def file_metadata_referenced(relation: proto.Relation) -> bool:
    """Whether a query reads `_metadata` or `input_file_name()`: only then does a file source
    supply the `_metadata` column (with it always there, `SELECT *` and `dropDuplicates()` would
    not mean what they mean in Spark, where the column is hidden)."""
    raw = relation.SerializeToString()
    return b"_metadata" in raw or b"input_file_name" in raw


def rewrite_input_file_name(relation: proto.Relation) -> proto.Relation:
    """`relation` with every `input_file_name()` (DataFrame functions, `expr(...)`, SQL text)
    computed from `_metadata.file_path` instead."""
    raw = relation.SerializeToString()
    if b"input_file_name" not in raw:
        return relation
    rewritten = proto.Relation()
    rewritten.CopyFrom(relation)
    _rewrite(rewritten)
    return rewritten


def _rewrite(relation: proto.Relation) -> None:
    # Collected first: an expression is rewritten in place while the walk would still use it.
    expressions: list[Any] = list(nested_messages(relation, _EXPRESSION))
    for expression in expressions:
        kind = expression.WhichOneof("expr_type")
        if kind == "unresolved_function" and \
                expression.unresolved_function.function_name.lower() == "input_file_name":
            expression.Clear()
            expression.expression_string.expression = INPUT_FILE_NAME
        elif kind == "expression_string":
            expression.expression_string.expression = _INPUT_FILE_NAME_CALL.sub(
                INPUT_FILE_NAME, expression.expression_string.expression)
    for rel in all_relations(relation):
        if rel.WhichOneof("rel_type") == "sql":
            rel.sql.query = _INPUT_FILE_NAME_CALL.sub(INPUT_FILE_NAME, rel.sql.query)


def without_hidden_metadata(df: Any) -> Any:
    """The result without `_metadata`, as Spark's `*` would have left it out. Dropping a column
    the result does not have changes nothing, so the engine is not asked which it has (a round
    trip per batch)."""
    return df.drop(METADATA_COLUMN)
