"""Databricks notebooks exported as source files, read the way a Databricks pipeline reads them.

An exported notebook is a plain `.py` or `.sql` file whose first line is
`# Databricks notebook source` (`-- Databricks notebook source` in SQL); cells are separated by
`# COMMAND ----------` lines, and the lines of cells in another language or of markdown start with
`# MAGIC` (`-- MAGIC`). For a pipeline those lines are comments: Databricks ignores markdown and
language cells there, and `%pip` / `%run` do not run as part of a pipeline source here either, so
each is reported once with its line, never dropped silently.

In a SQL notebook a statement ends at a `;` or at the end of its cell, since notebook cells rarely
close their statement; the cells are the splitter's regions (see `sql/splitter.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the splitter imports the SQL lexer (sqlglot): only SQL notebooks need it
    from lakesmith.authoring.sql.splitter import Region

_HEADER = {"python": "# Databricks notebook source", "sql": "-- Databricks notebook source"}
_COMMENT = {"python": "#", "sql": "--"}
_CELL_BREAK = {lang: re.compile(rf"^{re.escape(c)} COMMAND -{{5,}}\s*$", re.MULTILINE)
               for lang, c in _COMMENT.items()}
_MAGIC = {lang: re.compile(rf"^{re.escape(c)} MAGIC ?(.*)$", re.MULTILINE)
          for lang, c in _COMMENT.items()}
# Magic commands that would do something on Databricks but do nothing in a pipeline here.
_IGNORED_WITH_WARNING = {
    "%pip": "installs Python packages on Databricks; install them in lakesmith's environment "
            "instead (e.g. `pip install ...`)",
    "%run": "runs another notebook on Databricks; list that file in the spec's `libraries` "
            "instead, or import it as a Python module",
}


@dataclass(frozen=True)
class MagicCommand:
    """A `%pip` / `%run` line of a notebook that lakesmith does not run."""

    line: int
    command: str  # the whole magic line, e.g. "%pip install requests"
    why: str


def is_notebook(text: str, language: str) -> bool:
    """Whether `text` is a Databricks notebook export in `language` ("python" or "sql")."""
    first = text.lstrip("\ufeff").split("\n", 1)[0].rstrip()
    return first == _HEADER[language]


def cells(text: str, language: str) -> list[Region]:
    """The cells of a notebook, as regions of `text` (the separator lines belong to no cell)."""
    from lakesmith.authoring.sql.splitter import Region

    regions: list[Region] = []
    start = 0
    for match in _CELL_BREAK[language].finditer(text):
        regions.append(Region(start, match.start()))
        start = match.end()
    regions.append(Region(start, len(text)))
    return regions


def cell_number(text: str, language: str, line: int) -> int:
    """The 1-based number of the cell that holds 1-based `line` (for messages)."""
    offset = _offset_of_line(text, line)
    return sum(1 for region in cells(text, language) if region.start <= offset) or 1


def ignored_magic_commands(text: str, language: str) -> list[MagicCommand]:
    """The `%pip` and `%run` lines of a notebook: each is ignored, and reported."""
    found: list[MagicCommand] = []
    for match in _MAGIC[language].finditer(text):
        command = match.group(1).strip()
        word = command.split(None, 1)[0] if command else ""
        if word in _IGNORED_WITH_WARNING:
            line = text.count("\n", 0, match.start()) + 1
            found.append(MagicCommand(line, command, _IGNORED_WITH_WARNING[word]))
    return found


def _offset_of_line(text: str, line: int) -> int:
    offset = 0
    for _ in range(line - 1):
        found = text.find("\n", offset)
        if found < 0:
            return len(text)
        offset = found + 1
    return offset
