"""The columns a SELECT block reads — what its FROM clause gives — asked of the engine: a probe
`SELECT q.* FROM <the block's FROM>` (with the common table expressions before it), analysed,
never run. Query-form rewrites need them where Spark resolves names against them (`* EXCEPT`,
lateral column aliases)."""

from __future__ import annotations

from typing import Any

from lakesmith.engine.semantics.sql_blocks import SelectBlock


def input_columns(spark: Any, text: str, block: SelectBlock,
                  qualifier: str | None = None) -> list[str] | None:
    """The names `*` (or `qualifier.*`) stands for in `block`; [] without a FROM clause; None
    when the FROM clause cannot be analysed alone (e.g. it reads an outer query's columns)."""
    source = block.clause_text(text, "from")
    if source is None:
        return []
    star = "*" if qualifier is None else f"{qualifier}.*"
    try:
        return [str(c) for c in spark.sql(f"{block.cte_prefix}SELECT {star} {source}").columns]
    except Exception:  # not analysable alone: the caller refuses or leaves the text  # noqa: BLE001
        return None


def output_columns(spark: Any, query: str) -> list[str] | None:
    """The column names of a query, analysed by the engine; None when it cannot be analysed."""
    try:
        return [str(c) for c in spark.sql(query).columns]
    except Exception:  # not analysable alone  # noqa: BLE001
        return None
