"""One update of a pipeline at a time.

The lock is an OS file lock (flock) on `<storage>/lakesmith.lock`: the kernel releases it when the
holding process dies, however it dies, so a lock left by a killed run is simply taken over. The
file also says who holds it, for the message a second run prints.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from lakesmith.errors import LakesmithError

LOCK_FILE = "lakesmith.lock"


class PipelineRunning(LakesmithError):
    """Another update of the same pipeline holds the lock."""


class PipelineLock:
    def __init__(self, storage: Path, pipeline: str) -> None:
        self.path = storage / LOCK_FILE
        self.pipeline = pipeline
        self._fd: int | None = None
        self.previous_holder: dict[str, Any] | None = None

    def __enter__(self) -> PipelineLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            who = (f"process {holder.get('pid')} on {holder.get('host')}, started "
                   f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder['started']))}"
                   if holder.get("started") else "another process")
            raise PipelineRunning(
                f"Pipeline '{self.pipeline}' is already running ({who}); only one update of a "
                "pipeline can run at a time.",
                hint=f"wait for it to finish or stop it (lock: {self.path}).") from None
        # Whatever the file still says was written by a run that ended without releasing it.
        self.previous_holder = _read(fd) or None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                  "started": time.time()}).encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None


def _read(fd: int) -> dict[str, Any]:
    data = os.pread(fd, 4096, 0)
    if not data.strip():
        return {}
    try:
        return json.loads(data)
    except json.JSONDecodeError:
        return {}
