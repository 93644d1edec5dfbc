"""Spark's own file stream source: `spark.readStream.format("json"|"csv"|"text"|"parquet")`
(`.json(path)`, `.csv(path)`, ...) without Auto Loader. It is the same discovery, file log and
readers as `cloudFiles` (`FileStreamSource`), asked for what Spark's source does: the schema
given with `.schema(...)` (Spark requires one), no rescued-data column, no schema evolution, every
new file in one batch unless `maxFilesPerTrigger` says otherwise. Spark's options lakesmith does
not implement (`latestFirst`, `maxFileAge`, `cleanSource`, ...) are refused, not ignored."""

from __future__ import annotations

from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.sources.base import StreamSource
from lakesmith.sources.files.register import cloud_files_source
from lakesmith.sources.registry import SourceRequest, register_format

FORMATS = ("json", "csv", "text", "parquet")
# Spark's file stream source options (lower case) → the Auto Loader option that means the same.
_SAME = {"maxfilespertrigger": "cloudFiles.maxFilesPerTrigger",
         "maxbytespertrigger": "cloudFiles.maxBytesPerTrigger"}
# Spark's options with a meaning lakesmith does not implement, and the value that is harmless.
_REFUSED_UNLESS = {"latestfirst": "false", "filenameonly": "false", "cleansource": "off"}
_REFUSED = ("maxfileage", "sourcearchivedir", "maxcachedfiles", "discardcachedinputratio")
_NO_LIMIT = str(2**31 - 1)  # Spark's default: every new file in one batch


def file_stream_source(format: str, request: SourceRequest) -> StreamSource:
    where = f"{request.where}: spark.readStream.format('{format}')"
    if request.schema is None and format != "text":
        raise LakesmithError(
            f"{where}.load({request.display_name}) has no schema; Apache Spark refuses a "
            "streaming file source without one (\"Schema must be specified when creating a "
            "streaming source DataFrame\").",
            hint="give it with .schema('id INT, ...'), or use Auto Loader "
            "(format('cloudFiles') with cloudFiles.format), which infers it.")
    options: dict[str, str] = {"cloudFiles.format": format,
                               "cloudFiles.maxFilesPerTrigger": _NO_LIMIT}
    for key, value in request.options.items():
        lowered = key.lower()
        if lowered in _SAME:
            options[_SAME[lowered]] = value
            if lowered == "maxbytespertrigger" and "maxfilespertrigger" not in {
                    k.lower() for k in request.options}:
                del options["cloudFiles.maxFilesPerTrigger"]
        elif lowered in _REFUSED_UNLESS:
            if value.strip().lower() != _REFUSED_UNLESS[lowered]:
                raise NotSupportedYet(f"{where}: option {key}={value} is not supported yet.",
                                      hint=f"remove it (or set it to {_REFUSED_UNLESS[lowered]}).")
        elif lowered in _REFUSED:
            raise NotSupportedYet(f"{where}: option {key} is not supported yet; lakesmith keeps "
                                  "every file it has read for as long as the stream exists.",
                                  hint="remove the option.")
        elif lowered.startswith("cloudfiles."):
            raise LakesmithError(f"{where}: option {key} belongs to Auto Loader; this read is "
                                 "Spark's file source.",
                                 hint="read with format('cloudFiles') and "
                                 f"option('cloudFiles.format', '{format}') to use it.")
        else:
            options[key] = value
    options["cloudFiles.schemaEvolutionMode"] = "none"
    return cloud_files_source(SourceRequest(
        request.key, request.display_name, options, request.where, request.logs,
        location=request.location, paths=request.paths, checkpoint=request.checkpoint,
        base=request.base, schema=request.schema, with_metadata=request.with_metadata))


def is_spark_file_stream(format: str | None, streaming: bool) -> bool:
    """Whether a read is a stream of Spark's file source (analysed like an Auto Loader stream:
    its source gives its columns)."""
    return streaming and (format or "").lower() in FORMATS


def _register(format: str) -> None:
    register_format(format)(lambda request: file_stream_source(format, request))


for _format in FORMATS:
    _register(_format)
