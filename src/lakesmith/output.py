"""Command output for people and for scripts: the same records printed as a table on the terminal,
or as JSON or CSV (`--format`) for a script to read.

JSON and CSV go straight to standard output, never through rich: no wrapping, no markup, no
terminal escape codes, nothing truncated.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from rich.console import Console
from rich.table import Table


class OutputFormat(str, Enum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def json_value(value: Any) -> Any:
    """A value JSON can hold: times as ISO 8601 strings, decimals and bytes as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def write_json(console: Console, value: Any) -> None:
    console.file.write(json.dumps(json_value(value), indent=2) + "\n")
    console.file.flush()


def write_csv(console: Console, columns: Sequence[str], records: Sequence[Mapping[str, Any]]) -> None:
    """One header line, then one line per record; nested values (lists, mappings) as JSON."""
    writer = csv.writer(console.file, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_csv_cell(record.get(column)) for column in columns])
    console.file.flush()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(json_value(value))
    return json_value(value)


Cell = Callable[[dict[str, Any]], str]


def print_records(console: Console, output: OutputFormat, records: Sequence[dict[str, Any]],
                  columns: Sequence[str], *, cells: Mapping[str, Cell] | None = None,
                  right: Sequence[str] = (), headers: Mapping[str, str] | None = None,
                  whole: Sequence[str] = (), empty: str = "Nothing to show.") -> None:
    """`records` as a table (each column's text from `cells`, else the value; its header from
    `headers`, else the field's name; `whole` columns are never wrapped, others wrap first),
    JSON (a list of objects, every field) or CSV (the
    `columns`, named as the fields are)."""
    if output == OutputFormat.JSON:
        write_json(console, list(records))
        return
    if output == OutputFormat.CSV:
        write_csv(console, columns, records)
        return
    if not records:
        console.print(empty)
        return
    cells = cells or {}
    table = Table(show_edge=False, box=None, pad_edge=False)
    for column in columns:
        header = (headers or {}).get(column, column.replace("_", " "))
        table.add_column(header, justify="right" if column in right else "left",
                         no_wrap=column in whole,
                         overflow="ignore" if column in whole else "fold")
    for record in records:
        table.add_row(*(cells[c](record) if c in cells else _text(record.get(c))
                        for c in columns))
    console.print(table)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def print_vertical(console: Console, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Wide rows one field per line, like `psql`'s `\\x` or Spark's `show(vertical=True)`."""
    width = max((len(c) for c in columns), default=0)
    for i, row in enumerate(rows):
        console.print(f"-RECORD {i}" + "-" * max(4, width), highlight=False, markup=False)
        for column, value in zip(columns, row, strict=True):
            console.print(f"{column.ljust(width)} | {'NULL' if value is None else value}",
                          highlight=False, markup=False, soft_wrap=True)
