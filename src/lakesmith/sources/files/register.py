"""The `cloudFiles` stream format (Auto Loader, and SQL `read_files` / `cloud_files`)."""

from __future__ import annotations

import hashlib

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.sources.base import StreamSource
from lakesmith.sources.files.options import AutoLoaderOptions
from lakesmith.sources.files.source import FileSourceConfig, FileStreamSource
from lakesmith.sources.registry import SourceRequest, register_format


@register_format("cloudFiles")
def cloud_files_source(request: SourceRequest) -> StreamSource:
    if request.checkpoint is None:
        raise LakesmithError(f"{request.where}: a file stream needs a checkpoint location.")
    if not request.paths:
        raise LakesmithError(f"{request.where}: an Auto Loader read needs a path: "
                             ".load('/path/to/landing/folder').")
    options = AutoLoaderOptions.parse(request.options, request.where)
    folder = request.checkpoint.join("sources", source_folder(request.key))
    schema_location = folder.join("schema") if options.schema_location is None else \
        Location.parse(options.schema_location, base=request.base, options=request.base.options
                       if request.base else None, where=request.where)
    return FileStreamSource(FileSourceConfig(
        key=request.key, display_name=request.display_name, paths=request.paths,
        options=options, user_schema=request.schema, log_folder=folder.join("files"),
        schema_location=schema_location, with_metadata=request.with_metadata,
        where=f"{request.where}, source {request.display_name}"))


def source_folder(key: str) -> str:
    """A short, stable folder name for a source key (keys hold URIs)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]
