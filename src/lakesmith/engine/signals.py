"""Keeping Ctrl-C for lakesmith when the embedded engine starts.

The embedded Sail server waits for SIGINT itself (tokio's `ctrl_c`) and shuts down when it
comes: one Ctrl-C would stop the engine under a running update, and every later call would hang
in the client's retries. It registers its handler asynchronously, some time after `start()`
returns, so lakesmith saves the process's OS-level SIGINT action before the server starts and
puts it back when the server replaces it (sigaction works from any thread; Python's own
`signal.signal` only from the main one). Then a Ctrl-C reaches lakesmith's handler only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
import threading
import time
from collections.abc import Callable

GUARD_SECONDS = 5.0
_SIGACTION_SIZE = 256  # larger than struct sigaction on Linux and macOS


def start_keeping_sigint(start: Callable[[], None]) -> None:
    """Run `start` (which starts the engine); keep the current SIGINT action afterwards."""
    libc = _libc()
    if libc is None:
        start()
        return
    saved = _read(libc, signal.SIGINT)
    start()
    threading.Thread(target=_guard, args=(libc, saved), name="lakesmith-sigint-guard",
                     daemon=True).start()


def _guard(libc: ctypes.CDLL, saved: bytes) -> None:
    deadline = time.monotonic() + GUARD_SECONDS
    while time.monotonic() < deadline:
        if _handler(_read(libc, signal.SIGINT)) != _handler(saved):
            _write(libc, signal.SIGINT, saved)
        time.sleep(0.005)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith(("linux", "darwin")):
        return None
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


def _read(libc: ctypes.CDLL, signum: int) -> bytes:
    action = ctypes.create_string_buffer(_SIGACTION_SIZE)
    libc.sigaction(signum, None, action)
    return action.raw


def _write(libc: ctypes.CDLL, signum: int, raw: bytes) -> None:
    libc.sigaction(signum, ctypes.create_string_buffer(raw, _SIGACTION_SIZE), None)


def _handler(raw: bytes) -> bytes:
    """The handler pointer: the first field of struct sigaction on Linux and macOS."""
    return raw[:ctypes.sizeof(ctypes.c_void_p)]
