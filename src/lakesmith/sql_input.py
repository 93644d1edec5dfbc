"""Where `lakesmith sql` takes its SQL from: the argument, a file (`-f`), or standard input."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from lakesmith.errors import UsageError


def read_sql_input(query: str | None, file: Path | None, stdin: TextIO) -> str:
    """The SQL text to run; standard input when neither is given and it is not a terminal."""
    if query is not None and file is not None:
        raise UsageError("Give a query or --file, not both.")
    if file is not None and str(file) != "-":
        try:
            return file.read_text()
        except OSError as e:
            raise UsageError(f"Cannot read the SQL file {file}: {e.strerror}.") from e
    if query is not None:
        return query
    if file is None and stdin.isatty():
        raise UsageError("No SQL given.",
                         hint="lakesmith sql 'SELECT ...', lakesmith sql -f file.sql, or pipe "
                         "statements into lakesmith sql.")
    return stdin.read()
