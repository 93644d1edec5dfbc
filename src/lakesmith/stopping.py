"""Stopping: Ctrl-C and SIGTERM for the whole life of a command, with bounded waits.

The first signal asks for a stop: an update that is running starts no new flow or batch, asks
the engine to interrupt what runs, and ends CANCELED; what an interrupted batch wrote is never
committed, and the next update recovers it. When nothing that writes is running (loading
sources, analysing the graph), the command ends at once. If a stop takes longer than the grace
period (the engine cannot interrupt Python UDFs), or at a second signal, the process exits at
once: the exactly-once protocol makes that safe.

Signals are watched through a wakeup file descriptor by a thread, not by Python's handler in the
main thread, which only runs between bytecodes: a main thread blocked in an engine call would
otherwise never see the second Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

EXIT_INTERRUPTED = 130
DEFAULT_GRACE_SECONDS = 30.0


class StopRequest:
    """A request to stop, shared by whoever runs work; settable by signals or by code."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reason = ""
        self._handlers: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def is_set(self) -> bool:
        return self.event.is_set()

    def wait(self, timeout: float) -> bool:
        return self.event.wait(timeout)

    @contextmanager
    def handling(self, handler: Callable[[], None]) -> Iterator[None]:
        """While the block runs, `handler` is called (on its own thread) when a stop is
        requested: the block owns work that needs a clean stop."""
        with self._lock:
            self._handlers.append(handler)
            requested = self.event.is_set()
        if requested:
            _start(handler)
        try:
            yield
        finally:
            with self._lock:
                self._handlers.remove(handler)

    @property
    def has_handlers(self) -> bool:
        with self._lock:
            return bool(self._handlers)

    def request(self, reason: str = "") -> None:
        with self._lock:
            if self.event.is_set():
                return
            self.reason = reason
            self.event.set()
            handlers = list(self._handlers)
        for handler in handlers:
            _start(handler)


def _start(handler: Callable[[], None]) -> None:
    threading.Thread(target=handler, name="lakesmith-stop", daemon=True).start()


_COMMAND_STOP: StopRequest | None = None


def command_stop_request() -> StopRequest:
    """The stop request of the running `lakesmith` command (one per process)."""
    global _COMMAND_STOP
    if _COMMAND_STOP is None:
        _COMMAND_STOP = StopRequest()
    return _COMMAND_STOP


class SignalWatcher:
    """Turns SIGINT/SIGTERM into a StopRequest (first) and an immediate exit (second)."""

    def __init__(self, stop: StopRequest, *, grace_seconds: float = DEFAULT_GRACE_SECONDS,
                 say: Callable[[str], None] | None = None) -> None:
        # `say` is settable later: the command line's console is made after the watcher.
        self.stop = stop
        self.grace_seconds = grace_seconds
        self.say = say or (lambda text: print(text, file=sys.stderr, flush=True))
        self._signals = 0
        self._reader, self._writer = socket.socketpair()
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        """Watch signals from now on (call from the main thread)."""
        self._writer.setblocking(False)
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, _ignore)
        threading.Thread(target=self._watch, name="lakesmith-signals", daemon=True).start()

    def uninstall(self) -> None:
        signal.set_wakeup_fd(-1)
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _watch(self) -> None:
        while True:
            data = self._reader.recv(64)
            if not data:  # the writing end is gone: nothing more will arrive
                return
            for signum in data:
                if signum in (signal.SIGINT, signal.SIGTERM):
                    self._received(signum)

    def _received(self, signum: int) -> None:
        self._signals += 1
        name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        if self._signals > 1:
            self.say(f"Aborted ({name} again): running work was stopped before committing; the "
                     "next update recovers it.")
            _exit()
        if not self.stop.has_handlers:
            self.say(f"Stopped ({name}).")
            _exit()
        self.stop.request(name)
        threading.Thread(target=self._grace, daemon=True).start()

    def _grace(self) -> None:
        """Runs on a daemon thread: when the stop completes in time, the process has exited."""
        threading.Event().wait(self.grace_seconds)
        self.say(f"Still running {self.grace_seconds:.0f}s after the stop request; abandoning "
                 "the running batch (nothing of it is committed; the next update recovers it).")
        _exit()


def _exit() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            continue  # a closed pipe: nothing more can be said
    os._exit(EXIT_INTERRUPTED)


def _ignore(signum: int, frame: Any) -> None:
    """The watcher thread acts on the signal; the main thread carries on."""
