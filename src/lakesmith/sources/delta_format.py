"""The `delta` stream format: a pipeline table, or `readStream.format("delta").load(path)`."""

from __future__ import annotations

from lakesmith.errors import NotSupportedYet
from lakesmith.sources.base import StreamSource
from lakesmith.sources.delta import DeltaStreamSource, StreamOptions
from lakesmith.sources.registry import SourceRequest, register_format


@register_format("delta")
def delta_source(request: SourceRequest) -> StreamSource:
    location = request.location
    if location is None:
        if len(request.paths) != 1:
            raise NotSupportedYet(f"{request.where}: a Delta stream reads exactly one path, not "
                                  f"{len(request.paths)}.")
        location = request.paths[0]
    options = StreamOptions.parse(request.options, request.where)
    return DeltaStreamSource(request.key, request.logs(location), options, request.display_name)
