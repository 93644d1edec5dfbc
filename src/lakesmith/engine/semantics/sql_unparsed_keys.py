"""SQL text with keys (GROUP BY, DISTINCT, OVER, JOIN, `IN (SELECT ...)`) that sqlglot cannot
parse, so `sql_float_keys` cannot find its keys to compare them as Spark does. When the engine
cannot analyse it either, the engine's error stands; when it can, the text is refused only if a
key could be FLOAT or DOUBLE: a table it reads has such a column (or its tables cannot be found
from its tokens), or it computes a value that could be one (a division, a FLOAT/DOUBLE type or
literal, a function returning DOUBLE). A query over integers, strings and decimals is left to
the engine, which compares those keys as Spark does."""

from __future__ import annotations

import re
from collections.abc import Callable

from pyspark.sql.types import StructType

from lakesmith.engine.semantics.float_keys import is_floating
from lakesmith.errors import NotSupportedYet

SchemaProbe = Callable[[str], StructType | None]

# What can make a FLOAT/DOUBLE value from other types (Spark's functions returning DOUBLE).
_MAKES_FLOATING = re.compile(
    r"/|\b(double|float|real)\b|\b\d+(\.\d*)?(e[+-]?\d+|d|f)\b|\.\d+(e[+-]?\d+|d|f)\b"
    r"|\b(avg|mean|median|stddev\w*|std|variance|var_\w+|sqrt|cbrt|exp|expm1|ln|log\w*|pow|power"
    r"|rand|randn|random|uniform|normal|percentile\w*|approx_percentile|corr|covar_\w+|regr_\w+"
    r"|skewness|kurtosis|sin|cos|tan|cot|sec|csc|asin|acos|atan|atan2|sinh|cosh|tanh|asinh"
    r"|acosh|atanh|degrees|radians|hypot|pi|e|try_divide|try_avg|nanvl|signum|sign|rint"
    r"|from_json|from_csv|schema_of_\w+|cume_dist|percent_rank)\s*\(", re.IGNORECASE)


def refuse_unparsed_float_keys(text: str, probe: SchemaProbe, why: str) -> None:
    """Raise `NotSupportedYet` when `text` (keyed, not parsed: `why`) is valid for the engine
    and one of its keys could be FLOAT or DOUBLE."""
    if probe(text) is None:
        return  # the engine cannot analyse it either: its own error names the problem
    tables = _tables_read(text)
    if tables is None:
        _refuse(text, why, "lakesmith could not find the tables it reads")
    assert tables is not None
    for table in tables:
        schema = probe(f"SELECT * FROM {table}")
        if schema is None or is_floating(schema):
            _refuse(text, why, f"it reads {table}, which has a FLOAT or DOUBLE column"
                    if schema is not None else f"lakesmith could not find the columns of {table}")
    if _MAKES_FLOATING.search(text):
        _refuse(text, why, "it computes values that can be FLOAT or DOUBLE")


def _tables_read(text: str) -> list[str] | None:
    import sqlglot
    from sqlglot.errors import TokenError

    from lakesmith.engine.sql_refs_tokens import table_names_from_tokens

    try:
        tokens = sqlglot.tokenize(text, read="spark")
    except TokenError:
        return None
    found = table_names_from_tokens(tokens, text)
    return None if found is None else [text[start:end] for _, start, end in found]


def _refuse(text: str, why: str, because: str) -> None:
    shown = " ".join(text.split())[:160]
    raise NotSupportedYet(
        f"{shown}: lakesmith cannot read this query's keys (the SQL parser it uses stops: "
        f"{why}) and one could be FLOAT or DOUBLE ({because}); Spark compares such keys with "
        "-0.0 = 0.0 and every NaN as one value, where the engine compares their bits.",
        hint="write the grouping, DISTINCT, window or join keys in a form the parser reads "
        "(e.g. GROUP BY CUBE over columns, computing expressions in a subquery first), or "
        "cast FLOAT/DOUBLE keys to DECIMAL.")
