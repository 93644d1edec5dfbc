"""`-v`: every SQL statement sent through a session (lakesmith's own — table registration,
MERGE of AUTO CDC flows, `lakesmith sql` — and the pipeline's `spark.sql(...)`) is logged on the
`lakesmith.sql` logger before it runs."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("lakesmith.sql")


def log_sql_statements(spark: Any) -> None:
    """Wrap the session's `sql` method (once) so that each statement is logged at INFO."""
    original = spark.sql
    if getattr(original, "_lakesmith_logged", False):
        return

    def sql(query: str, *args: Any, **kwargs: Any) -> Any:
        logger.info("%s", query.strip())
        return original(query, *args, **kwargs)

    sql._lakesmith_logged = True  # type: ignore[attr-defined]
    spark.sql = sql
