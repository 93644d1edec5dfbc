"""Small files at a `Location`: checkpoint records, lock leases, markers, Delta commit JSON.

Two implementations behind one interface, because the guarantees lakesmith needs are reached
differently: a local disk has rename and hard links (a record appears whole or not at all, and a
link is created only if absent); an object store has neither, but has conditional puts (a record
is created only if absent, which is what keeps two writers from both writing batch N). Table data
never goes through here: the engine reads and writes it.

Local records are not fsynced, as Spark's checkpoint files on a local file system are not
(`CheckpointFileManager.createAtomic` writes a temporary file, closes it and renames it): a record
survives a crash of the process (the kernel's page cache keeps it), which is what the
exactly-once protocol is tested against, but not necessarily a crash of the operating system.
Why, and what an OS crash can leave: docs/architecture.md, "Durability of checkpoints".
"""

from __future__ import annotations

import builtins
import logging
import os
import shutil
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location

logger = logging.getLogger("lakesmith")


class StorageError(LakesmithError):
    """Storage could not be read or written."""


@dataclass(frozen=True)
class Entry:
    """A direct child of a folder."""

    name: str
    is_dir: bool
    size: int = 0


@dataclass(frozen=True)
class FileStatus:
    """A file found by a recursive listing."""

    location: Location
    size: int
    modified_ms: int  # milliseconds since the epoch, UTC


@dataclass(frozen=True)
class Version:
    """What a conditional update must match: the object as it was read."""

    etag: str | None
    data: bytes


class FileStore(ABC):
    """Files under one root (a local disk, or one bucket)."""

    @abstractmethod
    def read(self, location: Location) -> bytes | None:
        """The file's bytes, or None when it does not exist."""

    @abstractmethod
    def write(self, location: Location, data: bytes) -> None:
        """Create or replace the file; readers see the old or the new bytes, never a mix."""

    @abstractmethod
    def create(self, location: Location, data: bytes) -> Version | None:
        """Write the file only if it does not exist (atomically); None when it existed."""

    @abstractmethod
    def read_range(self, location: Location, start: int, length: int) -> bytes:
        """`length` bytes from offset `start` (negative: from the end)."""

    @abstractmethod
    def read_versioned(self, location: Location) -> Version | None:
        """The file with what a later `replace_if` must match, or None when it does not exist."""

    @abstractmethod
    def replace_if(self, location: Location, data: bytes, expected: Version) -> Version | None:
        """Replace the file only if it is still as `expected`; None when it changed."""

    @abstractmethod
    def list(self, location: Location) -> list[Entry]:
        """The direct children of a folder (empty when it does not exist)."""

    @abstractmethod
    def walk(self, location: Location) -> builtins.list[FileStatus]:
        """Every file under the folder `location`, at any depth ([] when it does not exist)."""

    @abstractmethod
    def exists(self, location: Location) -> bool: ...

    @abstractmethod
    def delete(self, location: Location) -> None:
        """Delete a file; a missing file is not an error."""

    @abstractmethod
    def delete_tree(self, location: Location) -> None:
        """Delete a folder and everything below it; a missing folder is not an error."""

    def discard_tree(self, location: Location) -> None:
        """Delete a folder nothing will read again; the deletion may finish after this returns,
        but the folder's name is free at once."""
        self.delete_tree(location)

    def discard_files(self, locations: builtins.list[Location]) -> None:
        """Delete files nothing will read again (and no writer will name again); the deletion
        may finish after this returns."""
        for location in locations:
            self.delete(location)


class LocalFileStore(FileStore):
    """A local disk: write to a temporary file, then rename it (or link it: put-if-absent)."""

    def read(self, location: Location) -> bytes | None:
        try:
            return location.local_path.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError as e:
            raise StorageError(f"{location} is a folder, where lakesmith expects a file.") from e
        except OSError as e:
            raise StorageError(f"Cannot read {location}: {e.strerror or e}.") from e

    def write(self, location: Location, data: bytes) -> None:
        path = location.local_path
        tmp = self._staged(path, data)
        os.replace(tmp, path)

    def create(self, location: Location, data: bytes) -> Version | None:
        path = location.local_path
        tmp = self._staged(path, data)
        try:
            os.link(tmp, path)  # fails if `path` exists: an atomic put-if-absent
        except FileExistsError:
            return None
        finally:
            tmp.unlink()
        return Version(None, data)

    def read_versioned(self, location: Location) -> Version | None:
        data = self.read(location)
        return None if data is None else Version(None, data)

    def read_range(self, location: Location, start: int, length: int) -> bytes:
        with open(location.local_path, "rb") as f:
            if start < 0:  # from the end; a file shorter than -start is read from its start
                start = max(0, os.fstat(f.fileno()).st_size + start)
            f.seek(start)
            return f.read(length)

    _replace_lock = threading.Lock()

    def replace_if(self, location: Location, data: bytes, expected: Version) -> Version | None:
        # Local leases are only used within one process (other processes use flock), so a
        # process-wide lock makes compare-and-swap exact.
        with self._replace_lock:
            if self.read(location) != expected.data:
                return None
            self.write(location, data)
            return Version(None, data)

    def list(self, location: Location) -> list[Entry]:
        try:
            with os.scandir(location.local_path) as entries:
                return [Entry(e.name, e.is_dir(), 0 if e.is_dir() else e.stat().st_size)
                        for e in entries]
        except (FileNotFoundError, NotADirectoryError):
            return []

    def walk(self, location: Location) -> builtins.list[FileStatus]:
        found: builtins.list[FileStatus] = []
        pending = [(location, location.local_path)]
        while pending:
            folder, path = pending.pop()
            try:
                with os.scandir(path) as entries:
                    for entry in entries:
                        if entry.is_dir():
                            pending.append((folder.join(entry.name), Path(entry.path)))
                        elif entry.is_file():
                            stat = entry.stat()
                            found.append(FileStatus(folder.join(entry.name), stat.st_size,
                                                    stat.st_mtime_ns // 1_000_000))
            except (FileNotFoundError, NotADirectoryError):
                continue
        return found

    def exists(self, location: Location) -> bool:
        return location.local_path.exists()

    def delete(self, location: Location) -> None:
        try:
            location.local_path.unlink()
        except FileNotFoundError:
            pass  # already gone: what the caller wants

    def delete_tree(self, location: Location) -> None:
        trash = self._set_aside(location)
        if trash is not None:
            shutil.rmtree(trash)

    def discard_tree(self, location: Location) -> None:
        """`delete_tree` for a folder nothing reads again: it is renamed away at once (its name
        is free for a new folder), and its files are deleted by a thread of their own, off the
        caller's path (a large table's files take 10-40 ms). The thread is not a daemon: the
        process ends after it, so only a killed process leaves the hidden folder behind."""
        trash = self._set_aside(location)
        if trash is not None:
            _in_background(_remove_set_aside, trash)

    def discard_files(self, locations: builtins.list[Location]) -> None:
        """Deleted by a thread of their own, off the caller's path (unlinking a large file takes
        milliseconds); not a daemon, so the process ends after it."""
        if locations:
            _in_background(_remove_files, [x.local_path for x in locations])

    @staticmethod
    def _set_aside(location: Location) -> Path | None:
        path = location.local_path
        if not path.exists():
            return None
        # Rename first, so a crash half-way leaves a hidden folder, not a half-deleted one.
        trash = path.with_name(f".{path.name}.deleted-{uuid.uuid4().hex}")
        os.replace(path, trash)
        return trash

    @staticmethod
    def _staged(path: Path, data: bytes) -> Path:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as e:
            raise StorageError(
                f"Cannot create the folder {path.parent}: a file is in the way.") from e
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(data)
        return tmp


class ObjectFileStore(FileStore):
    """One bucket (or container), through obstore: puts are atomic, `create` is a conditional
    put (If-None-Match), `replace_if` a put that must match the object's ETag."""

    def __init__(self, scheme: str, authority: str, options: Mapping[str, str]) -> None:
        from obstore.store import from_url

        config: Any = {k: v for k, v in options.items() if not k.startswith("lakesmith.")}
        client_options: Any = {}
        allow_http = config.pop("AWS_ALLOW_HTTP", None) or config.pop("allow_http", None)
        if allow_http is not None:
            client_options["allow_http"] = str(allow_http).lower() == "true"
        try:
            self.store = from_url(f"{scheme}://{authority}", config=config,
                                  client_options=client_options or None)
        except Exception as e:  # obstore reports bad configuration as its own exceptions
            raise StorageError(f"Cannot open {scheme}://{authority}: {e}") from e
        self.root = f"{scheme}://{authority}"

    def read(self, location: Location) -> bytes | None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            return bytes(obstore.get(self.store, location.path).bytes())
        except (NotFoundError, FileNotFoundError):
            return None
        except Exception as e:
            raise StorageError(f"Cannot read {location}: {e}") from e

    def write(self, location: Location, data: bytes) -> None:
        import obstore

        try:
            obstore.put(self.store, location.path, data)
        except Exception as e:
            raise StorageError(f"Cannot write {location}: {e}") from e

    def create(self, location: Location, data: bytes) -> Version | None:
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            result = obstore.put(self.store, location.path, data, mode="create")
        except (AlreadyExistsError, PreconditionError, FileExistsError):
            return None
        except Exception as e:
            raise StorageError(f"Cannot write {location}: {e}") from e
        return Version(result.get("e_tag"), data)

    def read_versioned(self, location: Location) -> Version | None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            result = obstore.get(self.store, location.path)
            data = bytes(result.bytes())
        except (NotFoundError, FileNotFoundError):
            return None
        except Exception as e:
            raise StorageError(f"Cannot read {location}: {e}") from e
        return Version(result.meta.get("e_tag"), data)

    def read_range(self, location: Location, start: int, length: int) -> bytes:
        import obstore

        if start < 0:
            size = int(obstore.head(self.store, location.path)["size"])
            start = max(0, size + start)
        return bytes(obstore.get_range(self.store, location.path, start=start, length=length))

    def replace_if(self, location: Location, data: bytes, expected: Version) -> Version | None:
        import obstore
        from obstore.exceptions import NotFoundError, PreconditionError

        mode: Any = {"e_tag": expected.etag}
        try:
            result = obstore.put(self.store, location.path, data, mode=mode)
        except (PreconditionError, NotFoundError, FileNotFoundError):
            return None
        except Exception as e:
            raise StorageError(f"Cannot write {location}: {e}") from e
        return Version(result.get("e_tag"), data)

    def list(self, location: Location) -> list[Entry]:
        import obstore

        prefix = location.path.rstrip("/") + "/" if location.path else None
        try:
            result = obstore.list_with_delimiter(self.store, prefix)
        except Exception as e:
            raise StorageError(f"Cannot list {location}: {e}") from e
        entries = [Entry(posixpath_name(p), True) for p in result["common_prefixes"]]
        entries += [Entry(posixpath_name(o["path"]), False, int(o["size"]))
                    for o in result["objects"]]
        return entries

    def walk(self, location: Location) -> builtins.list[FileStatus]:
        import obstore

        prefix = location.path.rstrip("/") + "/" if location.path else None
        found: builtins.list[FileStatus] = []
        try:
            for chunk in obstore.list(self.store, prefix):
                for meta in chunk:
                    relative = meta["path"][len(prefix or ""):]
                    if not relative or relative.endswith("/"):
                        continue
                    modified = meta["last_modified"]
                    found.append(FileStatus(location.join(*relative.split("/")), int(meta["size"]),
                                            int(modified.timestamp() * 1000)))
        except Exception as e:
            raise StorageError(f"Cannot list {location}: {e}") from e
        return found

    def exists(self, location: Location) -> bool:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            obstore.head(self.store, location.path)
            return True
        except (NotFoundError, FileNotFoundError):
            return bool(self.list(location))  # a "folder" exists when something is below it

    def delete(self, location: Location) -> None:
        import obstore
        from obstore.exceptions import NotFoundError

        try:
            obstore.delete(self.store, location.path)
        except (NotFoundError, FileNotFoundError):
            pass  # already gone: what the caller wants

    def delete_tree(self, location: Location) -> None:
        import obstore

        prefix = location.path.rstrip("/") + "/"
        for chunk in obstore.list(self.store, prefix):
            paths = [o["path"] for o in chunk]
            if paths:
                obstore.delete(self.store, paths)


_discards: list[threading.Thread] = []
_discards_lock = threading.Lock()


def _in_background(target: Any, argument: Any) -> None:
    thread = threading.Thread(target=target, args=(argument,), name="lakesmith-discard")
    with _discards_lock:
        _discards[:] = [t for t in _discards if t.is_alive()]
        _discards.append(thread)
    thread.start()


def finish_discards() -> None:
    """Wait for the deletions `discard_tree` and `discard_files` started (an update ends with
    its files gone, so the next one, or a reader of its folders, finds none half-deleted)."""
    with _discards_lock:
        pending, _discards[:] = list(_discards), []
    for thread in pending:
        thread.join()


def _remove_set_aside(trash: Path) -> None:
    try:
        shutil.rmtree(trash)
    except OSError as e:  # reported: the hidden folder only takes space
        logger.warning("Could not delete %s (a folder set aside for deletion): %s", trash, e)


def _remove_files(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as e:  # reported: the file only takes space
            logger.warning("Could not delete %s (a file no longer used): %s", path, e)


def posixpath_name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


_LOCAL = LocalFileStore()
_object_stores: dict[tuple[str, str, tuple[tuple[str, str], ...]], ObjectFileStore] = {}
_object_stores_lock = threading.Lock()


def store_for(location: Location) -> FileStore:
    """The file store that reaches `location` (object stores are opened once per bucket and
    options, and shared: opening one costs a client with its connection pool)."""
    if location.is_local:
        return _LOCAL
    key = (location.scheme, location.authority, tuple(sorted(location.options.items())))
    with _object_stores_lock:
        store = _object_stores.get(key)
        if store is None:
            store = _object_stores[key] = ObjectFileStore(
                location.scheme, location.authority, location.options)
        return store
