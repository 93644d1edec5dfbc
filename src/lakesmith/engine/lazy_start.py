"""The embedded engine starts on the first request that needs it.

An update with nothing new asks the engine nothing (the analysis is reused, every flow is found
up to date from Delta metadata and checkpoints), yet starting Sail, connecting and releasing the
session cost time and the server's memory. So the session's channel goes to a port reserved for
the engine, and this gRPC interceptor starts the server just before the first request that must
reach it, then sets the session's configuration and runs the pipeline's start-up actions
(`CREATE DATABASE` / `USE` of its schema) on it. Every request after that goes straight through.
An update that finds a flow with data while it plans starts the server on another thread
(`start_in_background`), so the start overlaps the planning of the other flows.

Until the server runs, three kinds of request are answered here, each exactly as the engine
would answer it, and everything else starts it:
- reading a configuration key the pipeline's `configuration` sets, when it is not a `spark.*` key
  (`spark.conf.get("medallion.landing")` at a source's top level): the engine stores such a key
  as given, so its answer is the value set;
- reading, with a default, a key the engine does not define (`ENGINE_UNDEFINED`: the client's own
  `spark.python.sql.dataFrameDebugging.enabled`, read whenever a Column is made): Sail answers the
  default (`tests/test_lazy_engine.py` checks both answers against the engine);
- interrupting operations or releasing the session: with no server there is nothing running and
  no session to release.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

import grpc  # type: ignore[import-untyped]

from lakesmith.engine.runtime_workers import give_engine_spare_workers
from lakesmith.engine.signals import start_keeping_sigint
from lakesmith.errors import EngineError

# Keys Sail does not define: a read with a default answers the default (checked by a test).
ENGINE_UNDEFINED = frozenset({"spark.python.sql.dataFrameDebugging.enabled"})

_SERVICE = "/spark.connect.SparkConnectService/"


def reserve_port(host: str = "127.0.0.1") -> socket.socket:
    """A free loopback port, held for the engine (a socket bound to it) until just before the
    engine binds it: an engine that starts minutes later, in a continuous update, still finds
    its port free."""
    reservation = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        reservation.bind((host, 0))
    except OSError:
        reservation.close()
        raise
    return reservation


_INTERCEPTORS = (grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                 grpc.StreamUnaryClientInterceptor, grpc.StreamStreamClientInterceptor)


class LazyServerStart(*_INTERCEPTORS):  # type: ignore[misc]
    """Starts the embedded server before the first request that must reach it (once, whatever
    thread asks first; the others wait until it is ready)."""

    def __init__(self, reservation: socket.socket, configuration: Mapping[str, str]) -> None:
        self._reservation: socket.socket | None = reservation
        self.host, self.port = reservation.getsockname()[:2]
        self.url = f"sc://{self.host}:{self.port}"
        self.server: Any = None  # pysail's SparkConnectServer once started (its import loads
        # the native engine: not before it is needed)
        self.configuration = dict(configuration)
        self.spark: Any = None  # the session, set once it is made (it needs this interceptor)
        self.on_start: list[Callable[[Any], None]] = []
        self._ready = False
        self._failed: Exception | None = None  # a start that failed is not tried again
        self._starting = False  # true while the starting thread sets the session up
        self._lock = threading.RLock()

    @property
    def started(self) -> bool:
        return self._ready

    def ensure_started(self) -> None:
        """Start the server and set the session up on it. Requests the starting thread makes
        meanwhile go through (the lock is re-entrant); other threads wait until it is done."""
        if self._ready:
            return
        with self._lock:
            if self._ready or self._starting:
                return
            if self._failed is not None:
                raise self._failed
            self._starting = True
            try:
                self._start()
                self._ready = True
            except Exception as e:  # every later request fails the same way
                self._failed = e
                raise
            finally:
                self._starting = False

    def start_in_background(self) -> None:
        """Begin starting the server on another thread, to overlap its start-up with the
        caller's own work (an update still planning its flows once it knows one has data).
        A failure is kept: the next `ensure_started` or request raises it."""
        if self._ready or self._starting or self._failed is not None:
            return
        threading.Thread(target=self._start_quietly, name="lakesmith-engine-start",
                         daemon=True).start()

    def _start_quietly(self) -> None:
        try:
            self.ensure_started()
        except Exception:  # kept in self._failed; whoever needs the engine next raises it
            return

    def _start(self) -> None:
        try:
            from pysail.spark import SparkConnectServer

            give_engine_spare_workers()
            server = SparkConnectServer(ip=self.host, port=self.port)
            self.release_port()
            start_keeping_sigint(lambda: server.start(background=True))
            self.server = server  # (only a started server is stopped)
        except Exception as e:  # the native server reports startup failures as plain exceptions
            raise EngineError(f"Could not start the embedded Sail engine: {e}") from e
        client = self.spark.client
        if client._server_session_id == "":
            # Answers given here carried no server session id, and the client took "" for it:
            # the server's first answer sets it.
            client._server_session_id = None
        try:
            if self.configuration:
                self.spark.conf._set_all(configs=self.configuration, silent=True)
        except Exception as e:
            raise EngineError(
                f"Could not connect to the Spark Connect endpoint {self.url}: {e}") from e
        for action in self.on_start:  # their errors are theirs (an invalid schema name, ...)
            action(self.spark)

    def release_port(self) -> None:
        """Let go of the reserved port (for the engine to bind, or when it will not start)."""
        reservation, self._reservation = self._reservation, None
        if reservation is not None:
            reservation.close()

    # -- the interceptor ------------------------------------------------------------------

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        if not self._ready:
            with self._lock:  # (not while another thread starts the engine)
                if not self._ready and not self._starting:
                    answer = self._local_answer(details.method, request)
                    if answer is not None:
                        return _Answered(answer)
            self.ensure_started()
        return continuation(details, request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        self.ensure_started()
        return continuation(details, request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        self.ensure_started()
        return continuation(details, requests)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        self.ensure_started()
        return continuation(details, requests)

    def _local_answer(self, method: str, request: Any) -> Any | None:
        """The engine's answer to `request` when it can be given without the engine, else None."""
        from pyspark.sql.connect.proto import base_pb2

        if method == _SERVICE + "Config":
            pairs = self._config_answer(request.operation)
            if pairs is None:
                return None
            response = base_pb2.ConfigResponse(session_id=request.session_id)
            for key, value in pairs:
                response.pairs.add(key=key, value=value)
            return response
        if method == _SERVICE + "Interrupt":
            return base_pb2.InterruptResponse(session_id=request.session_id)
        if method == _SERVICE + "ReleaseSession":
            return base_pb2.ReleaseSessionResponse(session_id=request.session_id)
        return None

    def _config_answer(self, operation: Any) -> list[tuple[str, str]] | None:
        kind = operation.WhichOneof("op_type")
        if kind in ("get", "get_option"):
            keys = list(getattr(operation, kind).keys)
            if keys and all(self._set_as_given(key) for key in keys):
                return [(key, self.configuration[key]) for key in keys]
            return None
        if kind == "get_with_default":
            answers = []
            for pair in operation.get_with_default.pairs:
                if self._set_as_given(pair.key):
                    answers.append((pair.key, self.configuration[pair.key]))
                elif pair.key in ENGINE_UNDEFINED and pair.HasField("value"):
                    answers.append((pair.key, pair.value))
                else:
                    return None
            return answers or None
        return None

    def _set_as_given(self, key: str) -> bool:
        """A key of the configuration the engine stores as given (not one of Spark's own)."""
        return key in self.configuration and not key.startswith("spark.")


class _Answered:
    """A unary call answered without the server: what gRPC's interceptor chain reads of it."""

    def __init__(self, response: Any) -> None:
        self._response = response

    def result(self, timeout: float | None = None) -> Any:
        return self._response

    def exception(self, timeout: float | None = None) -> None:
        return None

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def running(self) -> bool:
        return False

    def add_done_callback(self, callback: Callable[[Any], None]) -> None:
        callback(self)

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.OK

    def details(self) -> str:
        return ""

    def initial_metadata(self) -> tuple[()]:
        return ()

    def trailing_metadata(self) -> tuple[()]:
        return ()
