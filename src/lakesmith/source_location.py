"""Where a pipeline element was defined, so every error can point at a file and line."""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class SourceLocation:
    path: str
    line: int | None = None
    # For an element defined inside a function (a factory called in a loop): the calls that led
    # there, innermost first, so each element defined at the same line has its own location.
    called_from: tuple[SourceLocation, ...] = ()

    def __str__(self) -> str:
        here = f"{self.path}:{self.line}" if self.line is not None else self.path
        if not self.called_from:
            return here
        return f"{here} (called from {', '.join(str(c) for c in self.called_from)})"

    def relative_to(self, root: Path) -> SourceLocation:
        """The same location with the path shown relative to the project root when it is inside it."""
        try:
            rel = os.path.relpath(self.path, root)
        except ValueError:
            return self
        if rel.startswith(".."):
            return self
        return SourceLocation(rel, self.line, tuple(c.relative_to(root) for c in self.called_from))



def defined_at(path: str, line: int | None) -> SourceLocation:
    """The location of a pipeline element registered from `path:line` by a caller's frame.

    Python 3.11+ reports the application of a decorator at the decorator's line; 3.10 reports it
    at the `def` (or `class`) line. On 3.10 a decorated definition's line is mapped back to its
    first decorator, so `@dp.materialized_view` elements point at the same line on every version.
    """
    if sys.version_info < (3, 11) and line is not None:
        line = _first_decorator_lines(path, _mtime(path)).get(line, line)
    return SourceLocation(path, line)


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


@lru_cache(maxsize=256)
def _first_decorator_lines(path: str, mtime: int) -> dict[int, int]:
    """For each decorated def/class in `path` (as of `mtime`): its line -> its first decorator's."""
    try:
        tree = ast.parse(Path(path).read_bytes(), path)
    except (OSError, SyntaxError, ValueError):
        return {}
    return {
        node.lineno: node.decorator_list[0].lineno
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.decorator_list
    }
