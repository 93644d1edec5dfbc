"""A local Apache Spark Connect server (JVM) for `check --against spark`: found from `SPARK_HOME`
or the `pyspark` package of the `lakesmith[spark]` extra (`pyspark[connect]==4.3.*`, which ships
Spark's jars), started on a free loopback port, stopped by its process id when the check ends."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lakesmith.errors import LakesmithError

CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
INSTALL_HINT = ("install Apache Spark 4.3 with Spark Connect (`pip install 'lakesmith[spark]'`, "
                "i.e. pyspark[connect]==4.3.*, in an environment of its own if you like, then set "
                "SPARK_HOME to its pyspark folder) and Java 17 (`java` on PATH or JAVA_HOME)")
STARTUP_SECONDS = 240
# Spark writes Parquet timestamps as INT96 by default; both engines read microseconds alike.
SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.shuffle.partitions": "4",
    # no Hive metastore (a metastore_db folder) in the user's project, whatever spark-defaults say
    "spark.sql.catalogImplementation": "in-memory",
}


class SparkUnavailable(LakesmithError):
    """Java or Apache Spark is not installed: the check cannot run (and is skipped)."""


def find_spark_home() -> Path:
    """SPARK_HOME, else the installed `pyspark` package when it carries Spark's jars."""
    candidates = []
    if os.environ.get("SPARK_HOME"):
        candidates.append(Path(os.environ["SPARK_HOME"]))
    try:
        import pyspark

        candidates.append(Path(pyspark.__file__).parent)
    except ImportError:
        pass
    for home in candidates:
        if (home / "bin" / "spark-submit").exists() and list(home.glob("jars/spark-connect_*.jar")):
            return home
    raise SparkUnavailable("Apache Spark with Spark Connect was not found (SPARK_HOME is "
                           f"{os.environ.get('SPARK_HOME') or 'not set'}, and the installed "
                           "pyspark has no Spark jars).", hint=INSTALL_HINT)


def find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise SparkUnavailable("Java was not found (no JAVA_HOME, no java on PATH).",
                               hint=INSTALL_HINT)
    return java


@dataclass
class LocalSparkConnect:
    """A Spark Connect server this process started; `url` to connect to it."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(cls, log: Path, *, home: Path | None = None) -> LocalSparkConnect:
        home = home or find_spark_home()
        find_java()
        port = _free_port()
        command = [str(home / "bin" / "spark-submit"), "--class", CONNECT_SERVER_CLASS,
                   "--master", "local[*]", "--conf", f"spark.connect.grpc.binding.port={port}"]
        for key, value in SPARK_CONF.items():
            command += ["--conf", f"{key}={value}"]
        command.append("spark-internal")
        env = {**os.environ, "SPARK_HOME": str(home)}
        with open(log, "wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                       cwd=log.parent, start_new_session=True)
        server = cls(process, f"sc://127.0.0.1:{port}", log)
        server._wait_until_listening(port)
        return server

    def _wait_until_listening(self, port: int) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(1)
        tail = self.log.read_text(errors="replace").splitlines()[-15:]
        self.stop()
        raise SparkUnavailable("the local Apache Spark Connect server did not start:\n  "
                               + "\n  ".join(tail), hint=f"see {self.log}")

    def stop(self) -> None:
        """Stop the server (its whole process group: spark-submit runs the JVM as a child)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
