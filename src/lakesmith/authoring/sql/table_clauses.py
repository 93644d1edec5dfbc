"""Clauses between a dataset's column list and `AS`, in any order, each at most once:
`COMMENT '…'`, `TBLPROPERTIES (…)`, `PARTITIONED BY (…)`, `CLUSTER BY (…) | AUTO | NONE`, `USING format`,
`LOCATION 'path'`.

Every other clause Spark or Databricks accepts there is refused by name, never skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Any

from lakesmith.authoring.sql.grammar import (
    parse_name,
    parse_name_list,
    parse_properties,
    parse_string,
)
from lakesmith.authoring.sql.stream import TokenStream
from lakesmith.authoring.table_path import table_path


@dataclass(frozen=True)
class TableClauses:
    comment: str | None = None
    table_properties: dict[str, str] = field(default_factory=dict)
    partition_cols: tuple[str, ...] = ()
    cluster_by: tuple[str, ...] = ()
    cluster_by_auto: bool = False
    format: str | None = None
    path: str | None = None  # LOCATION


def _comment(stream: TokenStream) -> dict[str, Any]:
    return {"comment": parse_string(stream, "a comment string", "COMMENT")}


def _table_properties(stream: TokenStream) -> dict[str, Any]:
    return {"table_properties": parse_properties(stream, "TBLPROPERTIES")}


def _partitioned_by(stream: TokenStream) -> dict[str, Any]:
    return {"partition_cols": parse_name_list(stream, "partition columns", "PARTITIONED BY",
                                              single_part=True)}


def _cluster_by(stream: TokenStream) -> dict[str, Any]:
    if stream.accept("AUTO"):
        return {"cluster_by": (), "cluster_by_auto": True}
    if stream.accept("NONE"):
        return {"cluster_by": ()}
    return {"cluster_by": parse_name_list(stream, "clustering columns", "CLUSTER BY")}


def _using(stream: TokenStream) -> dict[str, Any]:
    return {"format": parse_name(stream, "a table format", "USING").text}


def _location(stream: TokenStream) -> dict[str, Any]:
    token = stream.peek()
    return {"path": table_path(parse_string(stream, "a location string", "LOCATION"),
                               stream.location(token))}


# Each clause: its opening words and what it sets.
CLAUSES: dict[tuple[str, ...], Callable[[TokenStream], dict[str, Any]]] = {
    ("COMMENT",): _comment,
    ("TBLPROPERTIES",): _table_properties,
    ("PARTITIONED", "BY"): _partitioned_by,
    ("CLUSTER", "BY"): _cluster_by,
    ("USING",): _using,
    ("LOCATION",): _location,
}

# Clauses a pipeline dataset may have in Spark or Databricks that lakesmith cannot honour yet.
UNSUPPORTED_CLAUSES: tuple[tuple[str, ...], ...] = (
    ("OPTIONS",),
    ("WITH", "ROW", "FILTER"),
    ("ROW", "FILTER"),
    ("WITH", "SCHEMA"),
    ("MASK",),
    ("SCHEDULE",),
    ("TRIGGER",),
    ("DEFAULT", "COLLATION"),
    ("ROW", "FORMAT"),
    ("STORED", "AS"),
    ("CLUSTERED", "BY"),
    ("SKEWED", "BY"),
    ("PARTITIONED", "ON"),
)

TABLE_CLAUSES = frozenset({"COMMENT", "TBLPROPERTIES", "PARTITIONED BY", "CLUSTER BY", "USING",
                           "LOCATION"})
VIEW_CLAUSES = frozenset({"COMMENT"})
PERSISTED_VIEW_CLAUSES = frozenset({"COMMENT", "TBLPROPERTIES"})


def parse_table_clauses(stream: TokenStream, allowed: Collection[str], dataset: str,
                        after: str) -> tuple[TableClauses, str]:
    """The clauses that come next, and a description of what was read last (for errors)."""
    clauses = TableClauses()
    seen: set[str] = set()
    while True:
        for words, parse in CLAUSES.items():  # noqa: B007 (used after the loop)
            if stream.at(*words):
                break
        else:
            _refuse_unsupported(stream, allowed, dataset)
            return clauses, after
        clause = " ".join(words)
        token = stream.peek()
        if clause not in allowed:
            raise stream.error(f"{clause} is not allowed on a {dataset}; allowed: "
                               f"{_listing(allowed)}", token)
        if clause in seen:
            raise stream.error(f"{clause} is given twice", token)
        seen.add(clause)
        stream.accept(*words)
        clauses = replace(clauses, **parse(stream))
        after = f"the {clause} clause"


def _refuse_unsupported(stream: TokenStream, allowed: Collection[str], dataset: str) -> None:
    for words in UNSUPPORTED_CLAUSES:
        if stream.at(*words):
            raise stream.error(
                f"{' '.join(words)} is not supported yet on a {dataset}; supported clauses: "
                f"{_listing(allowed)}",
                stream.peek(),
            )


def _listing(clauses: Collection[str]) -> str:
    return ", ".join(c for c in ("COMMENT", "TBLPROPERTIES", "PARTITIONED BY", "CLUSTER BY",
                                 "USING", "LOCATION") if c in clauses)
