"""Where a pipeline element was defined, so every error can point at a file and line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceLocation:
    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def relative_to(self, root: Path) -> SourceLocation:
        """The same location with the path shown relative to the project root when it is inside it."""
        try:
            rel = os.path.relpath(self.path, root)
        except ValueError:
            return self
        if rel.startswith(".."):
            return self
        return SourceLocation(rel, self.line)

