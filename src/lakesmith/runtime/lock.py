"""One update of a pipeline at a time.

Locally the lock is an OS file lock (flock) on `<storage>/lakesmith.lock`: the kernel releases it
when the holding process dies, however it dies, so a lock left by a killed run is simply taken
over. Object stores have no flock: there the lock is a lease object, created put-if-absent and
renewed with conditional puts before it expires; a lease that expired (its holder died) is taken
over (at once when its holder ran on this machine and its process is gone). Either way the lock
says who holds it, for the message a second run prints.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any

from lakesmith.errors import LakesmithError
from lakesmith.files import FileStore, Version, store_for
from lakesmith.locations import Location

LOCK_FILE = "lakesmith.lock"
LEASE_SECONDS = 60.0


class PipelineRunning(LakesmithError):
    """Another update of the same pipeline holds the lock."""


class LockLost(LakesmithError):
    """The lease expired and another update took the lock over."""


def lock_holder(storage: Location) -> dict[str, Any] | None:
    """Who holds the pipeline's lock now (None: no update is running)."""
    location = storage.join(LOCK_FILE)
    if location.is_local:
        import fcntl

        try:
            fd = os.open(location.local_path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(os.pread(fd, 4096, 0)) or {"pid": None}
        finally:
            os.close(fd)  # closing releases a lock taken just to look
        return None
    held = _read(store_for(location).read(location) or b"")
    return held if held and not held.get("released") and _alive(held) else None


def pipeline_lock(storage: Location, pipeline: str) -> PipelineLock:
    location = storage.join(LOCK_FILE)
    if location.is_local:
        return FileLock(location, pipeline)
    return LeaseLock(location, pipeline, store_for(location))


class PipelineLock(ABC):
    def __init__(self, location: Location, pipeline: str) -> None:
        self.location = location
        self.pipeline = pipeline
        # Who held the lock before, when it was taken over from an update that did not end.
        self.previous_holder: dict[str, Any] | None = None

    @abstractmethod
    def __enter__(self) -> PipelineLock: ...

    @abstractmethod
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def lost(self) -> bool:
        """Whether the lock was lost while held (only a lease can be)."""
        return False

    def _running(self, holder: dict[str, Any]) -> PipelineRunning:
        who = (f"process {holder.get('pid')} on {holder.get('host')}, started "
               f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder['started']))}"
               if holder.get("started") else "another process")
        return PipelineRunning(
            f"Pipeline '{self.pipeline}' is already running ({who}); only one update of a "
            "pipeline can run at a time.",
            hint=f"wait for it to finish or stop it (lock: {self.location}).")


def _holder(**extra: Any) -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time(), **extra}


class FileLock(PipelineLock):
    def __init__(self, location: Location, pipeline: str) -> None:
        super().__init__(location, pipeline)
        self._fd: int | None = None

    def __enter__(self) -> FileLock:
        import fcntl

        path = self.location.local_path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(os.pread(fd, 4096, 0))
            os.close(fd)
            raise self._running(holder) from None
        # Whatever the file still says was written by a run that ended without releasing it.
        self.previous_holder = _read(os.pread(fd, 4096, 0)) or None
        os.ftruncate(fd, 0)
        # Who holds it, for messages; not fsynced: an OS crash releases the flock anyway.
        os.pwrite(fd, json.dumps(_holder()).encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        import fcntl

        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


class LeaseLock(PipelineLock):
    """A lease object: `{holder, pid, host, started, expires}`; `released` once given back."""

    def __init__(self, location: Location, pipeline: str, store: FileStore,
                 lease_seconds: float = LEASE_SECONDS) -> None:
        super().__init__(location, pipeline)
        self.store = store
        self.lease_seconds = lease_seconds
        self.holder = str(uuid.uuid4())
        self._version: Version | None = None
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> LeaseLock:
        lease = self._lease()
        self._version = self.store.create(self.location, lease)
        if self._version is None:
            current = self.store.read_versioned(self.location)
            held = _read(current.data) if current is not None else {}
            if current is not None and not held.get("released") and _alive(held):
                raise self._running(held)
            self._version = (self.store.replace_if(self.location, lease, current) if current
                             else self.store.create(self.location, lease))
            if self._version is None:  # another update took it in between
                raise self._running(_read(self.store.read(self.location) or b""))
            if current is not None and not held.get("released"):
                self.previous_holder = held
        self._renewer = threading.Thread(target=self._renew, name="lakesmith-lease",
                                         daemon=True)
        self._renewer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=10)
        if self._version is not None and not self._lost.is_set():
            self.store.replace_if(self.location, json.dumps(
                {"released": True, "holder": self.holder}).encode(), self._version)
        self._version = None

    def lost(self) -> bool:
        return self._lost.is_set()

    def _lease(self) -> bytes:
        return json.dumps(_holder(holder=self.holder,
                                  expires=time.time() + self.lease_seconds)).encode()

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            assert self._version is not None
            self._version = self.store.replace_if(self.location, self._lease(), self._version)
            if self._version is None:
                self._lost.set()
                return


def _alive(holder: dict[str, Any]) -> bool:
    """Whether a lease's holder may still be running: its lease has not expired and, when it ran
    on this machine, its process still exists (a killed run's lease is taken over at once)."""
    if float(holder.get("expires", 0)) < time.time():
        return False
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return True
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive
    return True


def _read(data: bytes) -> dict[str, Any]:
    if not data.strip():
        return {}
    try:
        value = json.loads(data)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}
