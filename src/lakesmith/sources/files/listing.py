"""Listing a landing folder: which files a read names, as Spark's file index would find them.

Auto Loader's directory listing mode lists the whole folder, at any depth, every time; what is
new is decided against the file log, not here. The rules are Spark's: names starting with `_` or
`.` are skipped (except `key=value` folders), as are files still being copied (`._COPYING_`);
`pathGlobFilter` matches file names; a glob in the path itself (`/landing/*/orders`) matches the
path below the part without globs; `key=value` folders give partition values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from fnmatch import fnmatchcase

from lakesmith.errors import LakesmithError
from lakesmith.files import FileStatus, store_for
from lakesmith.locations import Location

_GLOB = re.compile(r"[*?\[{]")
HIVE_DEFAULT_PARTITION = "__HIVE_DEFAULT_PARTITION__"


@dataclass(frozen=True)
class ReadPath:
    """A path as written: the folder to list, and the glob its files must match (if any)."""

    root: Location
    pattern: str | None  # relative to root, '/'-separated; None: every file below root

    @staticmethod
    def parse(location: Location) -> ReadPath:
        segments = location.path.split("/")
        for i, segment in enumerate(segments):
            if _GLOB.search(segment):
                root = Location(location.scheme, location.authority, "/".join(segments[:i]),
                                location.options)
                return ReadPath(root, "/".join(s for s in segments[i:]))
        return ReadPath(location, None)

    def matches(self, relative: str) -> bool:
        if self.pattern is None:
            return True
        pattern_parts = self.pattern.rstrip("/").split("/")
        parts = relative.split("/")
        # A pattern naming folders matches every file below them, as Spark's globbing does.
        if len(parts) < len(pattern_parts):
            return False
        return all(_glob_match(p, s) for p, s in zip(pattern_parts, parts, strict=False))


@dataclass(frozen=True)
class Listing:
    """What one listing of a read's paths found: files with their partition values."""

    files: tuple[tuple[FileStatus, tuple[tuple[str, str | None], ...]], ...]


@dataclass(frozen=True)
class ListingRules:
    path_glob_filter: str | None = None
    modified_after_ms: int | None = None
    modified_before_ms: int | None = None

    @staticmethod
    def parse(reader: dict[str, str], path_glob_filter: str | None, where: str) -> ListingRules:
        return ListingRules(path_glob_filter, _timestamp(reader.get("modifiedafter"),
                                                         "modifiedAfter", where),
                            _timestamp(reader.get("modifiedbefore"), "modifiedBefore", where))


def list_files(paths: Iterable[Location], rules: ListingRules) -> Listing:
    found: dict[str, tuple[FileStatus, tuple[tuple[str, str | None], ...]]] = {}
    for location in paths:
        read_path = ReadPath.parse(location)
        for status in store_for(read_path.root).walk(read_path.root):
            relative = status.location.relative_to(read_path.root) or status.location.name
            if not _visible(relative) or not read_path.matches(relative):
                continue
            if rules.path_glob_filter and not _glob_match(rules.path_glob_filter,
                                                          status.location.name):
                continue
            if rules.modified_after_ms is not None and \
                    status.modified_ms <= rules.modified_after_ms:
                continue
            if rules.modified_before_ms is not None and \
                    status.modified_ms >= rules.modified_before_ms:
                continue
            found[status.location.uri] = (status, partition_values(relative))
    return Listing(tuple(found.values()))


def partition_values(relative: str) -> tuple[tuple[str, str | None], ...]:
    """`key=value` folders on the way to a file, outermost first (values unescaped as Spark
    does; the default partition name is NULL)."""
    from urllib.parse import unquote

    values: list[tuple[str, str | None]] = []
    for segment in relative.split("/")[:-1]:
        key, equals, value = segment.partition("=")
        if equals and key:
            text = unquote(value)
            values.append((unquote(key), None if text == HIVE_DEFAULT_PARTITION else text))
    return tuple(values)


def _visible(relative: str) -> bool:
    for segment in relative.split("/"):
        if segment.endswith("._COPYING_"):
            return False
        if segment.startswith((".", "_")) and "=" not in segment:
            return False
    return True


def _glob_match(pattern: str, name: str) -> bool:
    """Hadoop glob: `*`, `?`, `[abc]`, `[^a]` and `{a,b}` alternatives."""
    return any(fnmatchcase(name, p.replace("[^", "[!")) for p in _expand_braces(pattern))


def _expand_braces(pattern: str) -> list[str]:
    match = re.search(r"\{([^{}]*)\}", pattern)
    if match is None:
        return [pattern]
    head, tail = pattern[:match.start()], pattern[match.end():]
    return [expanded for option in match.group(1).split(",")
            for expanded in _expand_braces(head + option + tail)]


def _timestamp(value: str | None, name: str, where: str) -> int | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as e:
        raise LakesmithError(f"{where}: option {name} must be a timestamp such as "
                             f"2024-06-01T13:00:00, got {value!r}.") from e
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)
