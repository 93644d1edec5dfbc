"""SQL pipeline sources: `CREATE MATERIALIZED VIEW`, `CREATE STREAMING TABLE`,
`CREATE TEMPORARY VIEW`, `CREATE FLOW`, `AUTO CDC INTO` / `APPLY CHANGES INTO` and `SET`, parsed
into the graph's definitions."""

from lakesmith.authoring.sql.parser import parse_sql_definitions

__all__ = ["parse_sql_definitions"]
