"""Dataset names: parsing, qualification with the pipeline's default catalog and schema, and the
`LIVE.` virtual schema of Databricks pipelines.

Spark identifiers are case-insensitive; a `TableName` compares by its lower-cased parts and keeps the
spelling the user wrote for display.
"""

from __future__ import annotations

from dataclasses import dataclass

from lakesmith.errors import LakesmithError

LIVE_SCHEMA = "live"


def split_identifier(text: str) -> list[str]:
    """Split `a.b.c`, honouring backquotes (`` `my.table` ``); raise on malformed quoting."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "`":
                if i + 1 < len(text) and text[i + 1] == "`":
                    current.append("`")
                    i += 1
                else:
                    quoted = False
            else:
                current.append(ch)
        elif ch == "`":
            quoted = True
        elif ch == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    if quoted:
        raise LakesmithError(f"Invalid name {text!r}: unclosed backquote.")
    parts.append("".join(current))
    parts = [p.strip() for p in parts]
    if not all(parts):
        raise LakesmithError(f"Invalid name {text!r}: empty name part.")
    return parts


def quote_part(part: str) -> str:
    if part.replace("_", "a").isalnum() and not part[0].isdigit():
        return part
    return "`" + part.replace("`", "``") + "`"


@dataclass(frozen=True)
class TableName:
    """A fully qualified dataset name: catalog, schema and table."""

    catalog: str
    schema: str
    table: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.catalog.lower(), self.schema.lower(), self.table.lower())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TableName) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return ".".join(quote_part(p) for p in (self.catalog, self.schema, self.table))

    @property
    def parts(self) -> tuple[str, str, str]:
        return (self.catalog, self.schema, self.table)


@dataclass(frozen=True)
class NameResolver:
    """Qualifies names with the pipeline's default catalog and schema."""

    default_catalog: str
    default_schema: str

    def qualify(self, name: str) -> TableName:
        parts = split_identifier(name)
        if len(parts) == 2 and parts[0].lower() == LIVE_SCHEMA:
            parts = parts[1:]
        if len(parts) == 1:
            return TableName(self.default_catalog, self.default_schema, parts[0])
        if len(parts) == 2:
            return TableName(self.default_catalog, parts[0], parts[1])
        if len(parts) == 3:
            if parts[1].lower() == LIVE_SCHEMA:
                return TableName(self.default_catalog, self.default_schema, parts[2])
            return TableName(parts[0], parts[1], parts[2])
        raise LakesmithError(f"Invalid name {name!r}: at most catalog.schema.table is allowed.")
