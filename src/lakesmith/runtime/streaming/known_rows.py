"""How many rows a relation of a micro-batch has, when the batch's metadata tells it without a query.

A stateful operator's input is often a projection of one stream (`read_stream(...).select(casts)`):
it has exactly the rows of the stream's slice, which a Delta source knows from its log's
statistics. Counting it in the engine instead costs a round trip, which waits behind any query
running in the engine (docs/engine-gaps.md). Only plan nodes and expressions known to give one row
per input row are trusted; anything else (a filter, a join, a generator such as `explode`, an
aggregate function in a select, a user-defined function, SQL text) is unknown, and the caller
counts.
"""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.message import Message
from pyspark.sql.connect import proto

from lakesmith.engine.plans import PlanRead, plan_read

# Plan nodes that give one row per input row, with the field holding their expressions (if any).
_ROW_KEEPING = {"project": "expressions", "with_columns": "aliases",
                "with_columns_renamed": None, "drop": "columns", "to_df": None,
                "subquery_alias": None}

# Expression kinds that compute one value per row from that row alone.
_ROW_KEEPING_EXPRESSIONS = {"literal", "unresolved_attribute", "unresolved_star", "alias", "cast",
                            "unresolved_extract_value", "unresolved_regex",
                            "unresolved_named_lambda_variable", "lambda_function",
                            "update_fields"}

# Scalar functions (one value per row), by the name Spark Connect sends. A function not named
# here (an aggregate, a generator such as explode, anything unknown) makes the rows unknown.
_SCALAR_FUNCTIONS = frozenset("""
    + - * / % == != <> < <= > >= <=> and or not negative positive abs pmod
    isnull isnotnull isnan nanvl coalesce nvl nvl2 ifnull nullif when if case
    like ilike rlike regexp regexp_like in
    to_date to_timestamp to_timestamp_ntz to_utc_timestamp from_utc_timestamp date_format
    date_trunc trunc year quarter month dayofmonth day dayofweek dayofyear weekofyear hour minute
    second date_add date_sub datediff add_months months_between last_day next_day make_date
    make_timestamp unix_timestamp to_unix_timestamp from_unixtime unix_micros unix_millis
    unix_seconds timestamp_micros timestamp_millis timestamp_seconds current_date
    current_timestamp now
    upper lower initcap trim ltrim rtrim btrim lpad rpad concat concat_ws substring substr left
    right length char_length character_length replace translate regexp_replace regexp_extract
    split split_part instr locate position repeat reverse format_string printf format_number
    startswith endswith contains
    round bround floor ceil ceiling sqrt exp ln log log10 log2 pow power greatest least sign
    signum
    struct named_struct array map create_map element_at get_json_object from_json to_json
    array_contains size cardinality map_keys map_values
    md5 sha1 sha2 crc32 hash xxhash64 base64 unbase64 hex unhex
    try_cast try_add try_subtract try_multiply try_divide
""".split())


def known_rows(relation: proto.Relation,
               rows_of_read: Callable[[PlanRead], int | None]) -> int | None:
    """The rows `relation` gives: those of its one read (`rows_of_read`), when every node above
    it keeps every row; else None."""
    while True:
        kind = relation.WhichOneof("rel_type")
        if kind == "read":
            return rows_of_read(plan_read(relation.read))
        if kind not in _ROW_KEEPING:
            return None
        body = getattr(relation, kind)
        field = _ROW_KEEPING[kind]
        if field is not None and not all(_keeps_rows(e) for e in getattr(body, field)):
            return None
        relation = body.input


def _keeps_rows(expression: Message) -> bool:
    """Whether an expression (or a `with_columns` alias) computes one value per row."""
    if expression.DESCRIPTOR.name == "Expression":
        kind = expression.WhichOneof("expr_type")
        if kind == "unresolved_function":
            function = expression.unresolved_function  # type: ignore[attr-defined]
            if function.is_distinct or function.function_name.lower() not in _SCALAR_FUNCTIONS:
                return False
        elif kind not in _ROW_KEEPING_EXPRESSIONS:
            return False
    for descriptor, value in expression.ListFields():
        if descriptor.message_type is None:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            return False  # no expression has one: unknown
        items = value if descriptor.is_repeated else [value]
        if not all(_keeps_rows(item) for item in items):
            return False
    return True
