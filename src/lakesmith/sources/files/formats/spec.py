"""What a file read is asked for: the format, its reader options and the columns to produce.

The streaming file source decides *which* files a batch reads and *which* schema they are read
with (given by the user, inferred, or evolved); this package only turns that request into an
engine DataFrame. Options are compared lower-cased, as Spark compares them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from pyspark.sql.types import StructType

from lakesmith.errors import NotSupportedYet

# Formats this package reads. Sail 0.7.2 has no ORC source and cannot read Avro container files
# ("Incorrect avro magic" on files Spark reads), so both are refused by name.
SUPPORTED_FORMATS = ("json", "csv", "text", "parquet")
REFUSED_FORMATS = {
    "orc": "the engine (Sail 0.7.2) has no ORC reader",
    "avro": "the engine (Sail 0.7.2) cannot read Avro container files",
    "xml": "the engine (Sail 0.7.2) has no XML reader",
    "binaryfile": "binaryFile sources are not supported by lakesmith's Auto Loader yet",
}

# Options read by each format, lower-cased. Any other option is refused rather than ignored:
# an ignored option gives silently different rows.
JSON_OPTIONS = frozenset({
    "multiline", "encoding", "charset", "linesep", "mode", "columnnameofcorruptrecord",
    "primitivesasstring", "inferschema", "timestampformat", "dateformat", "timezone",
})
CSV_OPTIONS = frozenset({
    "header", "sep", "delimiter", "quote", "escape", "multiline", "encoding", "charset",
    "nullvalue", "emptyvalue", "dateformat", "timestampformat", "comment", "mode",
    "columnnameofcorruptrecord", "inferschema", "ignoreleadingwhitespace",
    "ignoretrailingwhitespace", "linesep", "timezone",
})
TEXT_OPTIONS = frozenset({"wholetext", "linesep", "encoding"})
PARQUET_OPTIONS = frozenset({"mergeschema", "datetimerebasemode", "int96rebasemode"})
FORMAT_OPTIONS = {"json": JSON_OPTIONS, "csv": CSV_OPTIONS, "text": TEXT_OPTIONS,
                  "parquet": PARQUET_OPTIONS}
# Options that belong to the file source (discovery, schema location, evolution), not to the
# format: they reach this package only by accident and are not an error here.
SOURCE_OPTION_PREFIXES = ("cloudfiles.", "pathglobfilter", "recursivefilelookup",
                          "modifiedbefore", "modifiedafter", "ignorecorruptfiles",
                          "ignoremissingfiles", "rescueddatacolumn", "readercasesensitive",
                          "basepath", "partitioncolumns", "schemaevolutionmode", "path")


# What the engine's error says when a guard fires; the tag names the source whose read it was.
GUARD_ERROR = "[LAKESMITH_UNKNOWN_FIELD:"
# What it says when a plain read (`plain_json.py`) meets a record it cannot read plainly.
NOT_PLAIN_ERROR = "[LAKESMITH_NOT_PLAIN_JSON:"


@dataclass(frozen=True)
class TaggedStop:
    """A read that fails on purpose at some record, with an error naming the source (`tag`) so
    that the source whose read stopped can tell it from any other failure."""

    tag: str

    PREFIX: ClassVar[str] = ""

    @staticmethod
    def tag_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @property
    def error_prefix(self) -> str:
        return f"{self.PREFIX}{self.tag}]"

    def fired_in(self, error: BaseException) -> bool:
        """Whether `error` (from the engine, maybe wrapped) is this stop's."""
        return error_mentions(error, self.error_prefix)


@dataclass(frozen=True)
class NewFieldGuard(TaggedStop):
    """A JSON read that fails when a record has a field the schema lacks. `nested_only` guards
    only the fields of struct columns (mode `rescue` rescues unknown top-level fields)."""

    nested_only: bool = False

    PREFIX: ClassVar[str] = GUARD_ERROR

    @staticmethod
    def for_source(key: str, *, nested_only: bool = False) -> NewFieldGuard:
        return NewFieldGuard(TaggedStop.tag_of(key), nested_only)


@dataclass(frozen=True)
class PlainRecords(TaggedStop):
    """A JSON lines read that takes every record for a plain object of the schema's STRING
    fields (`plain_json.py`) and fails at the first record that is not one: the caller then
    reads the files again with Spark's full semantics (`json_format.py`)."""

    PREFIX: ClassVar[str] = NOT_PLAIN_ERROR

    @staticmethod
    def for_source(key: str) -> PlainRecords:
        return PlainRecords(TaggedStop.tag_of(key))


def error_mentions(error: BaseException, text: str) -> bool:
    """Whether `error` or an error it wraps (its cause, its context) says `text`."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if text in str(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@dataclass(frozen=True)
class ReadSpec:
    """A read of a list of files.

    `schema` holds the data columns only; partition columns come from the file paths and the
    rescued and `_metadata` columns are added after them, in that order, as Spark and Databricks
    place them.
    """

    format: str
    options: Mapping[str, str]
    schema: StructType
    partition_schema: StructType = field(default_factory=StructType)
    rescued_data_column: str | None = None
    with_metadata: bool = False
    where: str = ""
    # JSON: fail the read at a record with a field the schema lacks (`new_fields.py`).
    new_field_guard: NewFieldGuard | None = None
    # JSON and text: large files go to the line reader without a UTF-8 check first; the caller
    # recovers from the reader's failure (`read.found_not_utf8`, `lines.py`).
    unchecked_utf8: bool = False
    # JSON lines of STRING columns: read plainly, failing at a record that is not plain; the
    # caller reads again without it (`plain_json.py`).
    plain_records: PlainRecords | None = None

    def option(self, name: str, default: str | None = None) -> str | None:
        return self.options.get(name, default)

    def flag(self, name: str, default: bool = False) -> bool:
        return format_flag(self.options, name, default, self.where)


def normalize(format: str, options: Mapping[str, str], where: str) -> tuple[str, dict[str, str]]:
    """The format lower-cased and the options with lower-cased keys, or a clear refusal."""
    name = format.strip().lower()
    prefix = f"{where}: " if where else ""
    if name in REFUSED_FORMATS:
        raise NotSupportedYet(f"{prefix}the file format '{format}' cannot be read: "
                              f"{REFUSED_FORMATS[name]}.",
                              hint="convert the files to JSON, CSV or Parquet.")
    if name not in SUPPORTED_FORMATS:
        raise NotSupportedYet(f"{prefix}unknown file format '{format}'.",
                              hint=f"use one of {', '.join(SUPPORTED_FORMATS)}.")
    lowered = {k.lower(): str(v) for k, v in options.items()}
    known = FORMAT_OPTIONS[name]
    for key in lowered:
        if key not in known and not key.startswith(SOURCE_OPTION_PREFIXES):
            raise NotSupportedYet(
                f"{prefix}the {name} reader option '{key}' is not supported by lakesmith yet.",
                hint=f"remove it; supported {name} options: {', '.join(sorted(known))}.")
    mode = lowered.get("mode", "PERMISSIVE").upper()
    if mode != "PERMISSIVE":
        raise NotSupportedYet(f"{prefix}the reader mode '{lowered['mode']}' is not supported yet; "
                              "lakesmith reads in PERMISSIVE mode only.", hint="remove option 'mode'.")
    encoding = lowered.get("encoding", lowered.get("charset", "UTF-8"))
    if encoding.upper().replace("_", "-") not in ("UTF-8", "UTF8"):
        raise NotSupportedYet(f"{prefix}the encoding '{encoding}' is not supported yet; files "
                              "are read as UTF-8.", hint="convert the files to UTF-8.")
    return name, lowered


def format_flag(options: Mapping[str, str], name: str, default: bool, where: str) -> bool:
    value = options.get(name)
    if value is None:
        return default
    if value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    prefix = f"{where}: " if where else ""
    raise NotSupportedYet(f"{prefix}the option '{name}' must be true or false, not {value!r}.")


def corrupt_column(options: Mapping[str, str]) -> str:
    return options.get("columnnameofcorruptrecord", "_corrupt_record")
