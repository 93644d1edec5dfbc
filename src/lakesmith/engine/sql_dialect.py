"""The SQL dialect lakesmith reads pipeline queries with: sqlglot's Spark, plus what Spark SQL
accepts and sqlglot does not.

`GROUP BY window(ts, '5 minutes'), country` is the SQL form of a windowed aggregation. sqlglot
reads `WINDOW` right after `GROUP BY` as the start of a named-window clause (`WINDOW w AS (...)`)
and fails; in this dialect the GROUP BY list may start with `window(...)`, as in Spark. (A named
window clause right after `GROUP BY a WITH ROLLUP` is the one spelling this gives up; sqlglot's
Oracle dialect makes the same trade for its own keywords.)
"""

from __future__ import annotations

from sqlglot import TokenType
from sqlglot.dialects.spark import Spark
from sqlglot.parsers.spark import SparkParser


class PipelineSpark(Spark):
    class Parser(SparkParser):
        QUERY_MODIFIER_TOKENS = SparkParser.QUERY_MODIFIER_TOKENS - {TokenType.WINDOW}


DIALECT = PipelineSpark
