"""Splitting a pipeline SQL file into statements.

Statements end at a `;` outside quotes, backquotes and comments (the last `;` is optional), the way
Spark's own pipeline SQL loader splits a file. Each statement keeps its exact source text and the
line it starts on.

Regions are the seam for other file layouts. A plain `.sql` file is one region. A Databricks
notebook exported as SQL (`-- Databricks notebook source`, cells separated by
`-- COMMAND ----------`) will be read by its own module that returns one region per cell: a
statement then also ends where its cell ends, `;` or not, and `-- MAGIC` lines stay comments. No
statement crosses a region boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lakesmith.authoring.sql.lexer import LexError, TokenType, tokenize


@dataclass(frozen=True)
class Region:
    """A stretch of the file, `text[start:end]`, that no statement crosses."""

    start: int
    end: int


@dataclass(frozen=True)
class Statement:
    """One statement: its source text from its first token to its last (without the `;`)."""

    text: str
    start: int  # offset of the first character in the file
    line: int  # 1-based line of the first character


def whole_file(text: str) -> list[Region]:
    """The layout of a plain SQL file: one region."""
    return [Region(0, len(text))]


def line_at(text: str, offset: int) -> int:
    """1-based line of `offset` in `text`."""
    return text.count("\n", 0, offset) + 1


def split_statements(text: str, regions: Sequence[Region] | None = None) -> list[Statement]:
    """The statements of `text` in file order; empty statements (`;;`, comments only) are dropped.

    Raises `LexError` (with an offset into `text`) on an unclosed quote or comment.
    """
    statements: list[Statement] = []
    for region in regions if regions is not None else whole_file(text):
        chunk = text[region.start:region.end]
        try:
            tokens = tokenize(chunk)
        except LexError as e:
            raise LexError(e.message, region.start + e.offset) from e
        first = last = None
        for token in tokens + [None]:
            if token is None or token.token_type is TokenType.SEMICOLON:
                if first is not None and last is not None:
                    start, end = region.start + first.start, region.start + last.end + 1
                    statements.append(Statement(text[start:end], start, line_at(text, start)))
                first = last = None
                continue
            if first is None:
                first = token
            last = token
    return statements
