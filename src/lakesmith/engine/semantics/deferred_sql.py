"""`spark.sql(...)` in a pipeline source, for SQL the engine cannot parse as written (QUALIFY,
`SELECT * EXCEPT`, `PIVOT ... FOR col IN`). The client sends `spark.sql` to the engine at once,
which parses it there and then; while sources load and query functions run, such a query becomes
a SQL relation the engine sees only when the flow is analysed or run, after lakesmith has
rewritten it (`query_forms`) against the tables the graph binds its names to."""

from __future__ import annotations

from typing import Any

from pyspark.sql.connect import proto

from lakesmith.engine.plans import dataframe_of
from lakesmith.engine.sql_wrappers import sql_replaced


def needs_rewrite(query: str) -> bool:
    """Whether `query` has a form the engine's parser refuses and `query_forms` rewrites."""
    if not any(word in query.upper() for word in ("QUALIFY", "PIVOT", "EXCEPT", "ALL")):
        return False  # most text: no tokenizer (sqlglot is imported only where it is needed)
    from sqlglot import TokenType

    from lakesmith.engine.semantics.sql_blocks import tokens_of

    tokens = tokens_of(query)
    if tokens is None:
        return False
    for i, token in enumerate(tokens):
        kind = token.token_type
        if kind in (TokenType.QUALIFY, TokenType.PIVOT):
            return True
        if kind == TokenType.EXCEPT and i > 0 and tokens[i - 1].token_type == TokenType.STAR:
            return True
        if kind == TokenType.ALL and i > 0 and tokens[i - 1].token_type in (
                TokenType.GROUP_BY, TokenType.ORDER_BY):  # the engine reads ALL as a column
            return True
    return False


def sql_deferred(spark: Any) -> Any:
    """While inside, `spark.sql(text)` of a form the engine cannot parse is a SQL relation."""
    def make(original: Any) -> Any:
        def sql(query: Any, args: Any = None, **kwargs: Any) -> Any:
            if isinstance(query, str) and args is None and not kwargs and needs_rewrite(query):
                relation = proto.Relation()
                relation.sql.query = query
                return dataframe_of(spark, relation)
            return original(query, args, **kwargs)

        return sql

    return sql_replaced(spark, make)
