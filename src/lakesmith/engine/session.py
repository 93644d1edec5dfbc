"""Starting and stopping the engine behind a pipeline run.

By default lakesmith starts Sail in-process on a free loopback port and connects a Spark Connect
session to it; with `--remote sc://host:port` (or `SPARK_REMOTE`) it connects to a running endpoint
instead. `SAIL_MODE=local-cluster` is read by Sail itself and runs a driver with workers.
A pipeline's embedded engine starts lazily, on the first request that needs it
(`engine/lazy_start.py`): an update with nothing new never starts it.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from lakesmith.engine.call_sites import skip_missing_ipython
from lakesmith.engine.engine_kind import is_apache_spark, mark_sail
from lakesmith.engine.runtime_workers import give_engine_spare_workers
from lakesmith.engine.signals import start_keeping_sigint
from lakesmith.errors import EngineError

REMOTE_ENV = "SPARK_REMOTE"
DEFAULT_PORT = 15002  # Spark Connect's default


@dataclass
class Engine:
    """A connected Spark Connect session, and the embedded server when lakesmith started one."""

    spark: Any  # pyspark.sql.connect.session.SparkSession
    url: str
    server: Any = None
    lazy: Any = None  # engine.lazy_start.LazyServerStart when the server starts on first use
    embedded: bool = field(init=False)

    def __post_init__(self) -> None:
        self.embedded = self.server is not None or self.lazy is not None

    @property
    def started(self) -> bool:
        """Whether the engine runs: a lazily started one only after a request needed it."""
        return self.lazy is None or self.lazy.started

    def ensure_started(self) -> None:
        """Start a lazily started engine now: where lakesmith knows it needs the engine (an
        analysis), so that a failure to start is reported as itself, not by the first flow."""
        if self.lazy is not None:
            self.lazy.ensure_started()

    def start_in_background(self) -> None:
        """Begin starting a lazily started engine on another thread (see `ensure_started`)."""
        if self.lazy is not None:
            self.lazy.start_in_background()

    def on_start(self, action: Callable[[Any], None]) -> None:
        """Run `action(spark)` once the engine runs (now, unless it starts lazily)."""
        if self.lazy is None:
            action(self.spark)
        elif self.lazy.started:
            action(self.spark)
        else:
            self.lazy.on_start.append(action)

    @property
    def description(self) -> str:
        if not self.embedded:
            return f"Spark Connect at {self.url}"
        mode = os.environ.get("SAIL_MODE", "local")
        return f"embedded Sail ({mode}) at {self.url}"

    def stop(self, *, abort: bool = False) -> None:
        """Stop the session, then the embedded server (in that order, or the client retries).

        `abort` (Ctrl-C twice) stops nothing: releasing the session and stopping Sail both wait
        for running operations. The caller then exits the process, which ends the embedded
        server; a remote server expires the session."""
        spark, self.spark = self.spark, None
        server, self.server = self.server, None
        if self.lazy is not None:  # started or not (closing the session asks it nothing then)
            server, self.lazy.server = self.lazy.server, None
            self.lazy.release_port()
        if abort:
            return
        try:
            if spark is not None:
                spark.stop()
        finally:
            if server is not None:
                server.stop()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.stop(abort=exc_type is not None and issubclass(exc_type, KeyboardInterrupt))


# Sail warns `aborting N task(s) for SessionManagerActor` whenever the server stops, after every
# update: shutdown as designed, not a problem, so not shown (an explicit RUST_LOG is kept as is).
SHUTDOWN_NOISE = "sail_common::actor=error"


def quiet_engine_logs(verbose: bool) -> None:
    """Keep Sail's and the Spark Connect client's logs out of the user's terminal unless -v."""
    os.environ.setdefault("RUST_LOG", f"{'info' if verbose else 'error'},{SHUTDOWN_NOISE}")
    if not verbose:
        warnings.filterwarnings("ignore", module=r"pyspark\..*")
        logging.getLogger("pyspark").setLevel(logging.ERROR)


def start_engine(remote: str | None = None, *, verbose: bool = False,
                 conf: Mapping[str, str] | None = None,
                 environment: Mapping[str, str] | None = None,
                 session_class: type | None = None, lazy: bool = False) -> Engine:
    """Connect a session to `remote` (or $SPARK_REMOTE), or start an embedded Sail server.
    `session_class` is a subclass of the Spark Connect session to make (the user's session).
    `lazy`: an embedded server starts on the first request that needs it, not now.

    `environment` holds object-store credentials and endpoints: the embedded engine reads them
    from the process environment only (Sail has no per-session storage configuration), so they
    are set there; a remote engine has its own."""
    quiet_engine_logs(verbose)
    skip_missing_ipython()
    remote = remote or os.environ.get(REMOTE_ENV)
    server = None
    if not remote:
        for key, value in (environment or {}).items():
            if os.environ.get(key) != value:
                os.environ[key] = value
    if remote:
        url = remote if remote.startswith("sc://") else f"sc://{remote}"
        _check_reachable(url)
    elif lazy and session_class is None:
        return _lazy_embedded_engine(conf or {})
    else:
        from pysail.spark import SparkConnectServer

        give_engine_spare_workers()
        try:
            server = SparkConnectServer(ip="127.0.0.1", port=0)
            start_keeping_sigint(lambda: server.start(background=True))
        except Exception as e:  # the native server reports startup failures as plain exceptions
            raise EngineError(f"Could not start the embedded Sail engine: {e}") from e
        host, port = server.listening_address
        url = f"sc://{host}:{port}"
    try:
        spark = _connect(url, conf or {}, session_class)
    except Exception as e:
        if server is not None:
            server.stop()
        raise EngineError(
            f"Could not connect to the Spark Connect endpoint {url}: {e}",
            hint="check that the server is running and reachable" if remote else None,
        ) from e
    if server is not None:
        mark_sail(spark)
    elif session_class is None:
        # Asked now, from the thread that connects, not by the first flow that needs a rewrite
        # (a batch is one engine request).
        is_apache_spark(spark)
    return Engine(spark=spark, url=url, server=server)


def _lazy_embedded_engine(conf: Mapping[str, str]) -> Engine:
    """A session to an embedded server that starts on the first request that needs it."""
    import pysail  # noqa: F401  (cheap; its engine, pysail.spark, loads when it starts)
    from pyspark.sql.connect.client.core import DefaultChannelBuilder
    from pyspark.sql.connect.session import SparkSession

    from lakesmith.engine.lazy_start import LazyServerStart, reserve_port

    lazy = LazyServerStart(reserve_port("127.0.0.1"), conf)
    channel = DefaultChannelBuilder(lazy.url)
    channel.add_interceptor(lazy)
    lazy.spark = SparkSession.builder.channelBuilder(channel).create()  # asks the server nothing
    mark_sail(lazy.spark)
    return Engine(spark=lazy.spark, url=lazy.url, lazy=lazy)


def _check_reachable(url: str, timeout: float = 5.0) -> None:
    """Fail fast with a clear message: the Spark Connect client would retry for minutes."""
    parsed = urlparse(url.split(";", 1)[0])
    host, port = parsed.hostname or "localhost", parsed.port or DEFAULT_PORT
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        raise EngineError(
            f"Could not connect to the Spark Connect endpoint {url}: {e.strerror or e}",
            hint="check that the server is running and reachable, or omit --remote (and unset "
            f"{REMOTE_ENV}) to use the embedded engine.",
        ) from e


def _connect(url: str, conf: Mapping[str, str], session_class: type | None = None) -> Any:
    from pyspark.sql.connect.session import SparkSession

    if session_class is not None:
        # The builder makes only its own class; made directly, then registered as it would.
        spark = session_class(connection=url)
        SparkSession._set_default_and_active_session(spark)
        if conf:
            spark.conf._set_all(configs=dict(conf), silent=True)
        _ = spark.version
        return spark
    builder = SparkSession.builder.remote(url)
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.create()
    if not conf:  # (setting the configuration was a round trip already)
        # A cheap round trip so an unreachable endpoint fails here with a clear message.
        _ = spark.version
    return spark
