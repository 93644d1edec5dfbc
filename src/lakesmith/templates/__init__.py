"""Project templates for `lakesmith init`.

The medallion template is also `examples/medallion/` (a symlink to it), so what `init` writes and
the documented example are the same files. A new project gets the template's pipeline (Python at
the root, the same pipeline in SQL under `sql/`), its own name in both specs, and the landing data
of the template's seeded generator.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import types
from importlib import resources
from pathlib import Path

from lakesmith.errors import LakesmithError

# What a run of the example leaves in the template folder; never copied into a new project.
_RUN_OUTPUT = ("data", "pipeline-storage", "warehouse", "__pycache__")
# The spec files of a template, relative to it, with the suffix each project name gets.
_SPECS = {"spark-pipeline.yml": "", "sql/spark-pipeline.yml": "_sql"}


def create_project(parent: Path, name: str, template: str = "medallion") -> Path:
    """Copy the template into `parent/name`, name its specs after the project, and write the
    landing data its generator makes."""
    if not name or "/" in name or name in (".", ".."):
        raise LakesmithError(f"'{name}' is not a valid project name: use a plain directory name.")
    target = parent / name
    if target.exists():
        raise LakesmithError(f"'{target}' already exists; choose another name or remove it.")
    source = resources.files("lakesmith.templates").joinpath(template)
    with resources.as_file(source) as source_path:
        shutil.copytree(source_path, target, ignore=shutil.ignore_patterns(*_RUN_OUTPUT))
    for relative, suffix in _SPECS.items():
        spec = target / relative
        if spec.is_file():
            spec.write_text(re.sub(r"(?m)^name: .*$", f"name: {name}{suffix}", spec.read_text(),
                                   count=1))
    generator = target / "generate.py"
    if generator.is_file():
        load_generator(generator).generate(target / "data" / "landing")
    return target


def load_generator(path: Path) -> types.ModuleType:
    """The template's generator as a module (it is a script in the project, not a package)."""
    spec = importlib.util.spec_from_file_location(f"lakesmith_template_{path.parent.name}", path)
    if spec is None or spec.loader is None:
        raise LakesmithError(f"Cannot load the template's data generator {path}.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
