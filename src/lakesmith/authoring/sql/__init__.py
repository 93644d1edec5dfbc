"""SQL pipeline sources: `CREATE MATERIALIZED VIEW`, `CREATE STREAMING TABLE`,
`CREATE TEMPORARY VIEW`, `CREATE FLOW`, `AUTO CDC INTO` / `APPLY CHANGES INTO` and `SET`, parsed
into the graph's definitions.

The parser (and sqlglot under it) is imported on first use: a pipeline with no SQL sources, and
modules that only need the splitter's regions, do not pay for it (see docs/benchmarks.md, cold
start)."""

from __future__ import annotations

from typing import Any

__all__ = ["parse_sql_definitions"]


def __getattr__(name: str) -> Any:
    if name == "parse_sql_definitions":
        from lakesmith.authoring.sql.parser import parse_sql_definitions

        return parse_sql_definitions
    raise AttributeError(f"module 'lakesmith.authoring.sql' has no attribute {name!r}")
