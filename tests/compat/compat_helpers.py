"""What the compat tests share: landing files and run checks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TypeVar

import pytest

from lakesmith.runtime.events import UpdateState

E = TypeVar("E", bound=BaseException)


def landing_file(folder: Path, name: str, rows: list[dict[str, Any]], mtime: int) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    os.utime(path, (mtime, mtime))
    return path


def completed(result: Any) -> None:
    assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]


def source_warnings(record: Any) -> list[str]:
    """The SourceWarnings in a pytest.warns record, as `file:line: message`."""
    from lakesmith.authoring.source_warnings import SourceWarning

    return [f"{w.filename}:{w.lineno}: {w.message}" for w in record
            if issubclass(w.category, SourceWarning)]


def load_error(project: Any, kind: type[E]) -> E:
    """The error of type `kind` that loading the project's sources and building its graph
    raises."""
    with pytest.raises(kind) as error:
        with project.open():
            pass
    return error.value
