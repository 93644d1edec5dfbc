"""Auto Loader's options, parsed once with Databricks' names, defaults and checks.

A read carries two kinds of options: `cloudFiles.*` (discovery, schema inference and evolution)
and the format's reader options (`header`, `multiLine`, ...), which go to the format layer as they
are. Databricks validates `cloudFiles.*` names (`cloudFiles.validateOptions`, on by default): a
misspelt option fails the stream instead of being ignored, and so does lakesmith.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pyspark.sql.types import StringType, StructField, StructType

from lakesmith.errors import LakesmithError, NotSupportedYet
from lakesmith.sources.limits import TriggerLimits, byte_size, positive_int

PREFIX = "cloudfiles."
FORMATS = ("json", "csv", "text", "parquet", "avro", "orc", "xml", "binaryfile")

# Schema evolution modes (`cloudFiles.schemaEvolutionMode`), as Databricks names them.
ADD_NEW_COLUMNS = "addNewColumns"
RESCUE = "rescue"
FAIL_ON_NEW_COLUMNS = "failOnNewColumns"
NONE = "none"
EVOLUTION_MODES = {m.lower(): m for m in (ADD_NEW_COLUMNS, RESCUE, FAIL_ON_NEW_COLUMNS, NONE)}

DEFAULT_RESCUED_DATA_COLUMN = "_rescued_data"
# Formats whose columns do not depend on the files: nothing to infer.
FIXED_SCHEMAS = {"text": StructType([StructField("value", StringType(), True)])}
# Databricks samples at most this much to infer a schema.
DEFAULT_SAMPLE_FILES = 1000
DEFAULT_SAMPLE_BYTES = 50 * 1024**3

# cloudFiles.* options lakesmith honours (lower case, without the prefix).
_HONOURED = {
    "format", "includeexistingfiles", "maxfilespertrigger", "maxbytespertrigger",
    "allowoverwrites", "schemalocation", "schemahints", "infercolumntypes",
    "schemaevolutionmode", "partitioncolumns", "rescueddatacolumn", "validateoptions",
    "schemainference.samplesize.numfiles", "schemainference.samplesize.numbytes",
    # Listing strategies: lakesmith lists the whole folder every update, which gives the same
    # files (incremental listing and backfills only make listing cheaper).
    "backfillinterval", "useincrementallisting",
}
# Options of notification mode and cleanup, which need cloud services lakesmith does not run.
_REFUSED_UNLESS_OFF = {"usenotifications": "false", "usemanagedfileevents": "false",
                       "cleansource": "off", "usestrictglobber": "false"}
# Options that change which files are read, and that lakesmith does not implement yet.
_NOT_YET = {"maxfileage"}
# Reader options that discovery (not the format) applies.
_DISCOVERY = {"pathglobfilter", "recursivefilelookup", "modifiedafter", "modifiedbefore",
              "ignorecorruptfiles", "ignoremissingfiles", "rescueddatacolumn"}


@dataclass(frozen=True)
class AutoLoaderOptions:
    format: str
    include_existing_files: bool
    limits: TriggerLimits
    allow_overwrites: bool
    schema_location: str | None
    schema_hints: str | None
    infer_column_types: bool
    evolution_mode: str | None  # None: the default, which depends on whether a schema is given
    partition_columns: tuple[str, ...] | None  # None: from key=value folders
    rescued_data_column: str | None  # as written; None: the default for the schema's origin
    sample_files: int
    sample_bytes: int
    path_glob_filter: str | None
    ignore_corrupt_files: bool
    reader: dict[str, str]  # the format's own options, keys in lower case

    @staticmethod
    def parse(options: Mapping[str, str], where: str) -> AutoLoaderOptions:
        cloud: dict[str, str] = {}
        reader: dict[str, str] = {}
        for key, value in options.items():
            lowered = key.lower()
            if lowered.startswith(PREFIX):
                cloud[lowered[len(PREFIX):]] = str(value)
            else:
                reader[lowered] = str(value)
        validate = _flag(cloud.get("validateoptions", "true"), "cloudFiles.validateOptions",
                         where)
        for name, off in _REFUSED_UNLESS_OFF.items():
            if name in cloud and cloud[name].strip().lower() != off:
                raise NotSupportedYet(
                    f"{where}: option cloudFiles.{_spelling(options, name)}="
                    f"{cloud[name]} is not supported yet (notification services, file cleanup "
                    "and the strict globber are not implemented; lakesmith lists the folder).",
                    hint=f"remove the option (or set it to {off}).")
        for name in sorted(_NOT_YET & set(cloud)):
            raise NotSupportedYet(
                f"{where}: option cloudFiles.{_spelling(options, name)} is not supported yet; "
                "lakesmith tracks every file it has read for as long as the stream exists.",
                hint="remove the option.")
        unknown = sorted(k for k in cloud if k not in _HONOURED and k not in _REFUSED_UNLESS_OFF)
        if unknown and validate:
            names = ", ".join("cloudFiles." + _spelling(options, k) for k in unknown)
            raise LakesmithError(
                f"{where}: unknown Auto Loader option(s) {names}.",
                hint="check the spelling against the Databricks Auto Loader options; set "
                "cloudFiles.validateOptions=false to ignore unknown options.")
        file_format = cloud.get("format", "").strip().lower()
        if not file_format:
            raise LakesmithError(f"{where}: an Auto Loader read needs the option "
                                 "cloudFiles.format (json, csv, parquet, text, ...).")
        if file_format not in FORMATS:
            raise LakesmithError(f"{where}: cloudFiles.format '{cloud['format']}' is not a file "
                                 f"format; use one of {', '.join(FORMATS)}.")
        limits = TriggerLimits.parse(
            {k: v for k, v in cloud.items() if k in ("maxfilespertrigger", "maxbytespertrigger")},
            where)
        mode = cloud.get("schemaevolutionmode")
        if mode is not None and mode.strip().lower() not in EVOLUTION_MODES:
            raise LakesmithError(
                f"{where}: cloudFiles.schemaEvolutionMode '{mode}' is not one of "
                f"{', '.join(EVOLUTION_MODES.values())}.")
        partitions = cloud.get("partitioncolumns")
        rescued = cloud.get("rescueddatacolumn", reader.get("rescueddatacolumn"))
        discovery = {name: reader.pop(name) for name in _DISCOVERY if name in reader}
        return AutoLoaderOptions(
            format=file_format,
            include_existing_files=_flag(cloud.get("includeexistingfiles", "true"),
                                         "cloudFiles.includeExistingFiles", where),
            limits=limits,
            allow_overwrites=_flag(cloud.get("allowoverwrites", "false"),
                                   "cloudFiles.allowOverwrites", where),
            schema_location=cloud.get("schemalocation"),
            schema_hints=cloud.get("schemahints"),
            infer_column_types=_flag(cloud.get("infercolumntypes", "false"),
                                     "cloudFiles.inferColumnTypes", where),
            evolution_mode=EVOLUTION_MODES[mode.strip().lower()] if mode else None,
            partition_columns=None if partitions is None else tuple(
                p.strip() for p in partitions.split(",") if p.strip()),
            rescued_data_column=rescued.strip() if rescued else None,
            sample_files=positive_int(cloud.get("schemainference.samplesize.numfiles"),
                                      "cloudFiles.schemaInference.sampleSize.numFiles", where)
            or DEFAULT_SAMPLE_FILES,
            sample_bytes=byte_size(cloud.get("schemainference.samplesize.numbytes"),
                                   "cloudFiles.schemaInference.sampleSize.numBytes", where)
            or DEFAULT_SAMPLE_BYTES,
            path_glob_filter=discovery.get("pathglobfilter"),
            ignore_corrupt_files=_flag(discovery.get("ignorecorruptfiles", "false"),
                                       "ignoreCorruptFiles", where),
            reader=reader,
        )


def _flag(value: str, name: str, where: str) -> bool:
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise LakesmithError(f"{where}: option {name} must be true or false, got {value!r}.")
    return text == "true"


def _spelling(options: Mapping[str, str], lowered: str) -> str:
    """The option's name as the user wrote it (without the prefix)."""
    for key in options:
        if key.lower() == PREFIX + lowered:
            return key[len(PREFIX):]
    return lowered
