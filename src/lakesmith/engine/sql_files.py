"""The SQL functions that read landing files: `read_files(...)` and the legacy `cloud_files(...)`.

Both stand for an Auto Loader read, the SQL twin of `spark.readStream.format("cloudFiles")`. They
are normalised here to the one spelling the runtime knows from Python, format `cloudFiles` with
`cloudFiles.`-prefixed Auto Loader options, so nothing downstream cares which form the user wrote:

    read_files('/in', format => 'json', schemaHints => 'id INT', multiLine => true)
    cloud_files('/in', 'json', map('cloudFiles.schemaHints', 'id INT', 'multiLine', 'true'))
      -> cloudFiles, paths ('/in',),
         {'cloudFiles.format': 'json', 'cloudFiles.schemaHints': 'id INT', 'multiLine': 'true'}

Options are read from the text without running anything, so each must be a literal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lakesmith.errors import SqlRefError

if TYPE_CHECKING:  # imported where a call is read: a module that only needs the names is light
    from sqlglot import exp

AUTO_LOADER_FORMAT = "cloudFiles"
_PREFIX = "cloudFiles."

# read_files options that are Auto Loader's own (`cloudFiles.<name>` on a Python stream reader),
# which read_files takes without the prefix. From the Databricks read_files reference: its "basic"
# options (format is handled apart) and its "streaming" options. Every other option (header, sep,
# multiLine, rescuedDataColumn, pathGlobFilter, ...) is a file-format option and keeps its name:
# Auto Loader takes those unprefixed too.
READ_FILES_AUTO_LOADER_OPTIONS: tuple[str, ...] = (
    # basic options
    "inferColumnTypes",
    "partitionColumns",
    "schemaHints",
    "useStrictGlobber",
    # streaming options
    "allowOverwrites",
    "includeExistingFiles",
    "maxBytesPerTrigger",
    "maxFilesPerTrigger",
    "schemaEvolutionMode",
    "schemaLocation",
)
_AUTO_LOADER_NAMES = {name.lower(): name for name in (*READ_FILES_AUTO_LOADER_OPTIONS, "format")}

FILE_FUNCTIONS = ("read_files", "cloud_files")
_SHOWN_CALL_CHARS = 80


@dataclass(frozen=True)
class FileFunctionCall:
    """One call of a file-reading function, as the Auto Loader read it stands for."""

    function: str  # "read_files" or "cloud_files", lower case
    path: str
    options: Mapping[str, str] = field(default_factory=dict)

    @property
    def always_streaming(self) -> bool:
        """`cloud_files` is a stream wherever it is written; `read_files` only under STREAM."""
        return self.function == "cloud_files"


def is_file_function(node: exp.Expr) -> bool:
    from sqlglot import exp

    return isinstance(node, exp.Anonymous) and node.name.lower() in FILE_FUNCTIONS


def file_function_call(node: exp.Anonymous, written: str) -> FileFunctionCall:
    """The read that `node` stands for; `written` is the call as the user wrote it, for errors.

    A SqlRefError when an argument is not a literal or the call does not have its function's
    shape."""
    function = node.name.lower()
    call = _Call(function, written)
    if function == "read_files":
        return _read_files(node, call)
    return _cloud_files(node, call)


def shown_sql(written: str) -> str:
    """A call as written, on one line and cut to a length a message can carry."""
    shown = " ".join(written.split())
    return shown if len(shown) <= _SHOWN_CALL_CHARS else shown[:_SHOWN_CALL_CHARS - 3] + "..."


@dataclass(frozen=True)
class _Call:
    function: str
    written: str

    def error(self, problem: str, remedy: str) -> SqlRefError:
        """The problem and what to do, in the message: graph problems carry messages only."""
        return SqlRefError(f"{shown_sql(self.written)}: {problem} {remedy}")

    def literal(self, value: exp.Expr, what: str) -> str:
        """A SQL literal as a Spark option map holds it: `true` is "true", `5` is "5"."""
        from sqlglot import exp

        if isinstance(value, exp.Literal):
            return str(value.this)
        if isinstance(value, exp.Boolean):
            return "true" if value.this else "false"
        if isinstance(value, exp.Neg) and isinstance(value.this, exp.Literal) \
                and not value.this.is_string:
            return f"-{value.this.this}"
        raise self.error(
            f"{what} is {value.sql('spark')}, which is not a literal; lakesmith reads "
            f"{self.function} options without running the query, so each must be a string, "
            "number or boolean literal.",
            "Write the value itself (a pipeline configuration value can be substituted with "
            "${key}).")

    def string(self, value: exp.Expr, what: str) -> str:
        from sqlglot import exp

        if not (isinstance(value, exp.Literal) and value.is_string):
            raise self.error(f"{what} must be a string literal, not {value.sql('spark')}.",
                             f"Write it in quotes, as in {self.function}('/data/in', ...).")
        return str(value.this)


class _Options:
    """Options in the order written; the same option twice (in any case) is refused."""

    def __init__(self, call: _Call) -> None:
        self.call = call
        self.values: dict[str, str] = {}
        self._seen: dict[str, str] = {}

    def add(self, name: str, value: str, written: str) -> None:
        first = self._seen.get(name.lower())
        if first is not None:
            raise self.call.error(
                f"option '{written}' is given twice (first as '{first}').",
                "Give each option once.")
        self._seen[name.lower()] = written
        self.values[name] = value


def _read_files(node: exp.Anonymous, call: _Call) -> FileFunctionCall:
    from sqlglot import exp

    path: str | None = None
    options = _Options(call)
    for argument in node.expressions:
        if isinstance(argument, exp.Kwarg):
            written = argument.this.name
            if written.lower() == "path":
                if path is not None:
                    raise call.error("the path is given twice.", "Give one path.")
                path = call.string(argument.expression, "the path")
                continue
            value = call.literal(argument.expression, f"option '{written}'")
            options.add(_auto_loader_name(written), value, written)
        elif path is None and not options.values:
            path = call.string(argument, "the path")
        else:
            raise call.error(
                f"{argument.sql('spark')} is not a named option; read_files takes its path first "
                "and every option by name.",
                "Write options as name => value, e.g. read_files('/data/in', format => 'json', "
                "header => true).")
    if path is None:
        raise call.error("read_files needs the path of the files to read.",
                         "Write read_files('/data/in', format => 'json').")
    format_option = _PREFIX + "format"
    if format_option not in options.values:
        raise call.error(
            "read_files has no format; lakesmith does not detect the format of files yet.",
            "Name it, e.g. read_files('/data/in', format => 'json') (or csv, parquet, text, "
            "...).")
    ordered = {format_option: options.values.pop(format_option), **options.values}
    return FileFunctionCall("read_files", path, ordered)


def _auto_loader_name(written: str) -> str:
    """`schemahints` and `cloudFiles.schemaHints` are `cloudFiles.schemaHints`; a file-format
    option (`header`) keeps its spelling."""
    bare = written[len(_PREFIX):] if written.lower().startswith(_PREFIX.lower()) else None
    if bare is not None:
        return _PREFIX + _AUTO_LOADER_NAMES.get(bare.lower(), bare)
    canonical = _AUTO_LOADER_NAMES.get(written.lower())
    return _PREFIX + canonical if canonical is not None else written


def _cloud_files(node: exp.Anonymous, call: _Call) -> FileFunctionCall:
    from sqlglot import exp

    arguments = list(node.expressions)
    if not 2 <= len(arguments) <= 3 or any(isinstance(a, exp.Kwarg) for a in arguments):
        raise call.error(
            "cloud_files takes a path, a format and optionally a map of options.",
            "Write cloud_files('/data/in', 'json', map('cloudFiles.inferColumnTypes', 'true')).")
    path = call.string(arguments[0], "the path")
    options = _Options(call)
    options.add(_PREFIX + "format", call.string(arguments[1], "the format"), "format")
    if len(arguments) == 3:
        for key, value in _map_entries(arguments[2], call):
            name = call.string(key, "an option name")
            options.add(name, call.literal(value, f"option '{name}'"), name)
    return FileFunctionCall("cloud_files", path, options.values)


def _map_entries(node: exp.Expr, call: _Call) -> list[tuple[exp.Expr, exp.Expr]]:
    from sqlglot import exp

    if isinstance(node, exp.VarMap):
        keys, values = node.args["keys"], node.args["values"]
        if isinstance(keys, exp.Array) and isinstance(values, exp.Array) \
                and len(keys.expressions) == len(values.expressions):
            return list(zip(keys.expressions, values.expressions, strict=True))
    raise call.error(
        f"the options of cloud_files must be map('name', 'value', ...), not {node.sql('spark')}.",
        "Write cloud_files('/data/in', 'json', map('header', 'true')).")
