"""Stream source formats by name: `delta`, `cloudFiles` (Auto Loader). A new format is
a new module that registers a factory here; nothing else chooses between formats."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lakesmith.errors import NotSupportedYet
from lakesmith.locations import Location
from lakesmith.sources.base import StreamSource
from lakesmith.tables.delta import DeltaLogs


@dataclass(frozen=True)
class SourceRequest:
    """One streaming read to turn into a source."""

    key: str  # the checkpoint's name for the source
    display_name: str
    options: Mapping[str, str]
    where: str  # e.g. "flow 'silver'", for messages
    logs: DeltaLogs
    location: Location | None = None  # a table's folder, or the single path the read names
    paths: tuple[Location, ...] = field(default_factory=tuple)
    checkpoint: Location | None = None  # the reading flow's checkpoint (sources keep state there)
    base: Location | None = None  # what relative paths in options are relative to
    schema: str | None = None  # DDL given with `.schema(...)`
    with_metadata: bool = False  # the query reads `_metadata` / `input_file_name()`


SourceFactory = Callable[[SourceRequest], StreamSource]
_FORMATS: dict[str, SourceFactory] = {}


def register_format(name: str) -> Callable[[SourceFactory], SourceFactory]:
    def register(factory: SourceFactory) -> SourceFactory:
        _FORMATS[name.lower()] = factory
        return factory
    return register


def is_stream_format(name: str | None) -> bool:
    _load_builtin_formats()
    return (name or "").lower() in _FORMATS


def is_file_stream_format(name: str | None) -> bool:
    """Auto Loader's format: files (`cloudFiles`, which SQL `read_files` reads too)."""
    return (name or "").lower() == "cloudfiles"


def stream_formats() -> list[str]:
    _load_builtin_formats()
    return sorted(_FORMATS)


def create_source(format_name: str, request: SourceRequest) -> StreamSource:
    _load_builtin_formats()
    factory = _FORMATS.get(format_name.lower())
    if factory is None:
        raise NotSupportedYet(
            f"{request.where}: streaming reads of format '{format_name}' are not supported yet; "
            f"lakesmith streams from: {', '.join(stream_formats())}.")
    return factory(request)


def _load_builtin_formats() -> None:
    # Imported for their registrations; late, so that formats may import this module.
    import lakesmith.sources.delta_format  # noqa: F401
    import lakesmith.sources.files.file_stream_format  # noqa: F401
    import lakesmith.sources.files.register  # noqa: F401
