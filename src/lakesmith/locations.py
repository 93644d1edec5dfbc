"""Every place lakesmith reads or writes, as a URI with the storage options that reach it.

Users outgrow a laptop by moving data to object storage first, so storage, table folders, sources,
checkpoints and the event log are all `Location`s: a local folder (`/data/x`, `file:///data/x`)
and a bucket prefix (`s3://bucket/x`, `gs://…`, `abfss://…`) go through the same code. A location
keeps its path decoded (a space is a space); each consumer gets the spelling it needs
(`delta_uri` for delta-rs; `engine.paths.engine_path` for the engine).
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from lakesmith.errors import LakesmithError

LOCAL_SCHEME = "file"
# Spellings users write for the same store (Hadoop's s3a, Azure's abfs/abfss/az, gcs/gs).
SCHEME_ALIASES = {"s3a": "s3", "s3n": "s3", "gcs": "gs"}
OBJECT_STORE_SCHEMES = frozenset({"s3", "gs", "abfs", "abfss", "az", "azure", "adl", "memory"})


class LocationError(LakesmithError):
    """A location is malformed, uses an unsupported scheme, or escapes where it must stay."""


@dataclass(frozen=True)
class Location:
    """A folder or file: `scheme://authority/path`, decoded.

    For local locations `path` is an absolute POSIX path and `authority` is empty; for object
    stores `authority` is the bucket (or container) and `path` the key prefix without a leading
    slash. Storage options (credentials, endpoint) travel with the location but do not take part
    in equality: the same place reached with other credentials is the same place.
    """

    scheme: str
    authority: str
    path: str
    options: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    # -- construction ----------------------------------------------------------------------------

    @staticmethod
    def local(path: str | os.PathLike[str]) -> Location:
        absolute = os.path.abspath(os.path.expanduser(os.fspath(path)))
        _check_characters(absolute)
        return Location(LOCAL_SCHEME, "", Path(absolute).as_posix())

    @staticmethod
    def parse(text: str, *, base: Location | None = None,
              options: Mapping[str, str] | None = None, where: str = "") -> Location:
        """A user-written location: a URI, an absolute path, or a path relative to `base`."""
        prefix = f"{where}: " if where else ""
        text = text.strip()
        if not text:
            raise LocationError(f"{prefix}an empty location is not allowed.")
        if "://" in text:
            parsed = urlparse(text)
            ends = next((c for c in "?#" if c in text), None)
            if ends is not None:  # urlparse would silently cut the path there
                raise LocationError(
                    f"{prefix}{text!r} contains {ends!r}, which ends the path of a URI.",
                    hint="write it as %23 (#) or %3F (?) in a file:// URI, or as a plain path.")
            scheme = SCHEME_ALIASES.get(parsed.scheme.lower(), parsed.scheme.lower())
            if scheme == LOCAL_SCHEME:
                if parsed.netloc not in ("", "localhost"):
                    raise LocationError(
                        f"{prefix}{text!r} names the host '{parsed.netloc}'; a file:// URI must "
                        "name a local path (file:///path).")
                return Location.local(unquote(parsed.path))
            if scheme not in OBJECT_STORE_SCHEMES:
                raise LocationError(
                    f"{prefix}{text!r} uses the scheme '{parsed.scheme}', which lakesmith does not "
                    "support.", hint="use a local path, file://, s3://, gs:// or abfss://.")
            if not parsed.netloc:
                raise LocationError(f"{prefix}{text!r} has no bucket or container name.")
            key = _normalize_key(parsed.path, text, prefix)
            location = Location(scheme, parsed.netloc, key, dict(options or {}))
            _check_characters(key, object_store=True, shown=location.uri)
            return location
        if base is not None and not os.path.isabs(os.path.expanduser(text)):
            joined = base.join(text, allow_parent=True)
            _check_characters(joined.path, object_store=not joined.is_local, shown=str(joined))
            return joined
        return Location.local(text)

    # -- properties ------------------------------------------------------------------------------

    @property
    def is_local(self) -> bool:
        return self.scheme == LOCAL_SCHEME

    @property
    def local_path(self) -> Path:
        if not self.is_local:
            raise LocationError(f"{self} is not a local path.")
        return Path(self.path)

    @property
    def name(self) -> str:
        return posixpath.basename(self.path.rstrip("/"))

    @property
    def parent(self) -> Location:
        return Location(self.scheme, self.authority, posixpath.dirname(self.path.rstrip("/")),
                        self.options)

    @property
    def uri(self) -> str:
        """The location as a URI, decoded (for messages and for keys that must not change)."""
        if self.is_local:
            return f"file://{self.path}"
        return f"{self.scheme}://{self.authority}/{self.path}".rstrip("/")

    def __str__(self) -> str:
        return self.path if self.is_local else self.uri

    def storage_options(self) -> dict[str, str]:
        return dict(self.options)

    # -- spellings for the libraries that read and write here ------------------------------------

    def delta_uri(self) -> str:
        """What delta-rs opens: a plain path locally (it percent-encodes file URIs itself), a URI
        with its key percent-encoded on object stores."""
        if self.is_local:
            return self.path
        return f"{self.scheme}://{self.authority}/{quote(self.path, safe='/')}".rstrip("/")

    # -- navigation ------------------------------------------------------------------------------

    def join(self, *parts: str, allow_parent: bool = False) -> Location:
        """A location below this one. Parts may hold `/`; `..` is refused unless
        `allow_parent` (user-written relative paths), so derived names never escape."""
        path = self.path
        for part in parts:
            for segment in part.replace("\\", "/").split("/"):
                if segment in ("", "."):
                    continue
                if segment == "..":
                    if not allow_parent:
                        raise LocationError(
                            f"'{part}' would leave {self}; derived locations must stay inside it.")
                    # Never above the root: a local path stays absolute.
                    path = posixpath.dirname(path.rstrip("/")) or ("/" if self.is_local else "")
                    continue
                path = f"{path.rstrip('/')}/{segment}" if path else segment
        return Location(self.scheme, self.authority, path, self.options)

    def relative_to(self, other: Location) -> str | None:
        """The path of this location below `other`, or None when it is not inside it."""
        if (self.scheme, self.authority) != (other.scheme, other.authority):
            return None
        base = other.path.rstrip("/")
        if self.path == base:
            return ""
        if not base:
            return self.path.lstrip("/")
        if self.path.startswith(base + "/"):
            return self.path[len(base) + 1:]
        return None

    def is_within(self, other: Location) -> bool:
        return self.relative_to(other) is not None

    def with_options(self, options: Mapping[str, str]) -> Location:
        return Location(self.scheme, self.authority, self.path, dict(options))


# delta-rs cannot open these in a path (a `%XX` is decoded, `\\` becomes `/`, control characters
# are rejected, and writes panic on `[`, `|`, `^`); no spelling works around it.
_UNSUPPORTED = re.compile(r"%[0-9A-Fa-f]{2}|[\\\[|^\x00-\x1f\x7f]")
# On object stores the engine percent-encodes keys with other characters into different keys.
_OBJECT_KEY = re.compile(r"[A-Za-z0-9/._\-+,;:&$!()'=@]*")


def _check_characters(path: str, *, object_store: bool = False,
                      shown: str | None = None) -> None:
    bad = _UNSUPPORTED.search(path)
    if object_store and bad is None and not _OBJECT_KEY.fullmatch(path):
        bad = re.search(r"[^A-Za-z0-9/._\-+,;:&$!()'=@]", path)
    if bad is not None:
        raise LocationError(
            f"The location {shown or path!r} contains {bad.group()!r}, which lakesmith cannot "
            "read and write exactly (" + ("object keys are limited to letters, digits and "
            "/._-+,;:&$!()'=@" if object_store else "delta-rs cannot open paths with a %XX "
            "sequence, a backslash, [, |, ^ or a control character") + ").",
            hint="rename the folder.")


def _normalize_key(path: str, text: str, prefix: str) -> str:
    segments = [s for s in unquote(path).split("/") if s not in ("", ".")]
    if ".." in segments:
        raise LocationError(f"{prefix}{text!r} contains '..'; write the full key prefix instead.")
    return "/".join(segments)


_SAFE_FOLDER = re.compile(r"[a-z0-9_][a-z0-9_.-]*")


def folder_name(name: str) -> str:
    """A folder name for a dataset or flow name: the same for every spelling Spark treats as the
    same name (case), never a path (no separators, `..` or leading dot), and distinct for
    distinct names (unusual names get a hash of the name)."""
    normalized = name.lower()
    if _SAFE_FOLDER.fullmatch(normalized) and normalized not in (".", ".."):
        return normalized
    slug = re.sub(r"[^a-z0-9_.-]+", "_", normalized).strip("._") or "_"
    digest = hashlib.sha256(normalized.encode()).hexdigest()[:8]
    return f"{slug[:60]}-{digest}"
