"""The pipeline spec: finding `spark-pipeline.yml` and loading the fields Spark defines for it.

The file format is Spark Declarative Pipelines' own, so a project made by `spark-pipelines init`
loads unchanged. lakesmith reads one extra configuration key, `spark.sql.warehouse.dir`, for where
pipeline tables are stored (default: `<project>/warehouse`). `storage` and the warehouse may be
local paths (relative to the spec file) or URIs such as `s3://bucket/prefix`.
"""

from __future__ import annotations

import glob as globlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from lakesmith.answer_settings import unsupported_setting
from lakesmith.errors import SpecError
from lakesmith.locations import Location, LocationError
from lakesmith.storage_options import storage_options

SPEC_FILE_NAMES = ("spark-pipeline.yml", "spark-pipeline.yaml")
ALLOWED_FIELDS = ("name", "storage", "catalog", "database", "schema", "configuration", "libraries")
REQUIRED_FIELDS = ("name", "storage")
WAREHOUSE_KEY = "spark.sql.warehouse.dir"
DEFAULT_CATALOG = "spark_catalog"
DEFAULT_SCHEMA = "default"
SOURCE_SUFFIXES = (".py", ".sql")


@dataclass(frozen=True)
class PipelineSpec:
    path: Path
    name: str
    storage: Location
    catalog: str
    schema: str
    configuration: Mapping[str, str] = field(default_factory=dict)
    libraries: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def root_location(self) -> Location:
        return Location.local(self.root)

    @property
    def warehouse(self) -> Location:
        configured = self.configuration.get(WAREHOUSE_KEY)
        if not configured:
            return self.root_location.join("warehouse")
        return _location(configured, self.root, self.configuration,
                         f"{self.path}: configuration '{WAREHOUSE_KEY}'")

    def with_configuration(self, overrides: Mapping[str, str]) -> PipelineSpec:
        """This spec with some configuration keys set otherwise (`--conf`, tests)."""
        for key, value in overrides.items():
            refusal = unsupported_setting(key, value)
            if refusal is not None:
                raise SpecError(f"configuration override (--conf): {refusal}")
        return replace(self, configuration={**self.configuration, **overrides}) \
            if overrides else self

    def location(self, text: str, where: str = "") -> Location:
        """A location written in a pipeline (a path relative to the project, or a URI), with the
        storage options the spec's configuration and the environment give its scheme."""
        return _location(text, self.root, self.configuration, where or str(self.path))

    def library_files(self) -> list[Path]:
        """Source files matched by the `libraries` globs, in a stable order, each file once."""
        seen: set[Path] = set()
        files: list[Path] = []
        for pattern in self.libraries:
            base, relative = _glob_base(self.root, pattern)
            matches = sorted(
                p for p in base.glob(_normalize_glob(relative))
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
            )
            for match in matches:
                resolved = match.resolve()
                if resolved not in seen:
                    seen.add(resolved)
                    files.append(resolved)
        return files


def find_spec(start: Path) -> Path:
    """The spec file in `start` or its nearest ancestor, like `spark-pipelines` does."""
    current = start.resolve()
    while True:
        found = [current / n for n in SPEC_FILE_NAMES if (current / n).is_file()]
        if len(found) > 1:
            raise SpecError(
                f"Both {found[0].name} and {found[1].name} exist in {current}; keep only one."
            )
        if found:
            return found[0]
        if current.parent == current:
            raise SpecError(
                f"No spark-pipeline.yml found in {start.resolve()} or any parent directory.",
                hint="run inside a pipeline project, pass --spec PATH, or create one with "
                "`lakesmith init NAME`.",
            )
        current = current.parent


def load_spec(path: Path) -> PipelineSpec:
    path = path.resolve()
    if not path.is_file():
        raise SpecError(f"Pipeline spec {path} does not exist.")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise SpecError(f"{path}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise SpecError(f"{path}: the spec must be a YAML mapping with fields {', '.join(REQUIRED_FIELDS)}.")
    return parse_spec(data, path)


def parse_spec(data: Mapping[str, Any], path: Path) -> PipelineSpec:
    for key in data:
        if key not in ALLOWED_FIELDS:
            raise SpecError(
                f"{path}: unknown field '{key}'.",
                hint=f"allowed fields are: {', '.join(ALLOWED_FIELDS)}.",
            )
    for key in REQUIRED_FIELDS:
        if data.get(key) in (None, ""):
            raise SpecError(f"{path}: missing required field '{key}'.")
    if "database" in data and "schema" in data:
        raise SpecError(f"{path}: set only one of 'database' and 'schema' (they mean the same).")
    name = _string(data, "name", path)
    configuration = _configuration(data.get("configuration"), path)
    storage = _location(_string(data, "storage", path), path.parent, configuration,
                        f"{path}: field 'storage'")
    catalog = _optional_string(data, "catalog", path) or DEFAULT_CATALOG
    schema = (
        _optional_string(data, "schema", path) or _optional_string(data, "database", path)
        or DEFAULT_SCHEMA
    )
    return PipelineSpec(
        path=path,
        name=name,
        storage=storage,
        catalog=catalog,
        schema=schema,
        configuration=configuration,
        libraries=_libraries(data.get("libraries"), path),
    )


def _string(data: Mapping[str, Any], key: str, path: Path) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise SpecError(f"{path}: field '{key}' must be a string, not {type(value).__name__}.")
    return value


def _optional_string(data: Mapping[str, Any], key: str, path: Path) -> str | None:
    return _string(data, key, path) if data.get(key) is not None else None


def _configuration(value: Any, path: Path) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SpecError(f"{path}: field 'configuration' must be a mapping of keys to values.")
    result: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, (int, float)):
            item = str(item)
        if not isinstance(key, str) or not isinstance(item, str):
            raise SpecError(
                f"{path}: configuration entry {key!r} must map a string key to a string value "
                f"(got {type(item).__name__})."
            )
        refusal = unsupported_setting(key, item)
        if refusal is not None:
            raise SpecError(f"{path}: configuration {refusal}")
        result[key] = item
    return result


def _libraries(value: Any, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SpecError(f"{path}: field 'libraries' must be a list of `- glob: {{include: ...}}`.")
    includes: list[str] = []
    for i, entry in enumerate(value):
        include = entry.get("glob", {}).get("include") if isinstance(entry, dict) and isinstance(
            entry.get("glob"), dict) else None
        if not isinstance(include, str) or not include:
            raise SpecError(
                f"{path}: libraries[{i}] must look like `- glob: {{include: transformations/**}}`."
            )
        includes.append(include)
    return tuple(includes)


def _glob_base(root: Path, pattern: str) -> tuple[Path, str]:
    """The folder a `libraries` glob starts from and the pattern below it: the project folder
    for a relative glob, the file system's root for an absolute one (pathlib refuses those)."""
    path = Path(pattern)
    if not path.is_absolute():
        return root, pattern
    return Path(path.anchor), str(path.relative_to(path.anchor))


def _normalize_glob(pattern: str) -> str:
    # `dir/**` means every file below dir, as in spark-pipelines (pathlib would list directories).
    if pattern.endswith("/**") and not globlib.has_magic(pattern[:-3]):
        return pattern + "/*"
    return pattern


def _location(text: str, base: Path, configuration: Mapping[str, str], where: str) -> Location:
    try:
        location = Location.parse(text, base=Location.local(base), where=where)
    except LocationError as e:
        raise SpecError(e.message, hint=e.hint) from e
    return location.with_options(storage_options(location.scheme, configuration))
