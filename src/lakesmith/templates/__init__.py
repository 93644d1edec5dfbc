"""Project templates for `lakesmith init`."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from lakesmith.errors import LakesmithError

SPEC = """\
name: {name}
storage: pipeline-storage
libraries:
  - glob:
      include: transformations/**
"""


def create_project(parent: Path, name: str, template: str = "medallion") -> Path:
    """Copy the template into `parent/name` and write its spec."""
    if not name or "/" in name or name in (".", ".."):
        raise LakesmithError(f"'{name}' is not a valid project name: use a plain directory name.")
    target = parent / name
    if target.exists():
        raise LakesmithError(f"'{target}' already exists; choose another name or remove it.")
    source = resources.files("lakesmith.templates").joinpath(template)
    with resources.as_file(source) as source_path:
        shutil.copytree(source_path, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "spark-pipeline.yml").write_text(SPEC.format(name=name))
    (target / "pipeline-storage").mkdir(exist_ok=True)
    return target
