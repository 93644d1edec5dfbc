"""A real S3 API for tests: moto in server mode, in its own process, on a free loopback port.

Verified with moto 5.2.5, obstore 0.12.1, deltalake 1.6.6, pysail 0.7.2, pyspark-client 4.2.0.

    moto_s3         session  starts moto, creates bucket "lake", yields MotoS3, stops moto
    s3_process_env  session  puts MotoS3.env into os.environ for the whole session (the embedded Sail
                             engine reads AWS_* from the process env when a Spark session first
                             touches a bucket; delta-rs and obstore read them too)
    s3_root         function a fresh s3://lake/<unique>/ prefix per test (state is shared per session)
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"  # moto's default; creating buckets elsewhere needs a LocationConstraint
BUCKET = "lake"       # S3 bucket names: 3-63 chars, lowercase


@dataclass(frozen=True)
class MotoS3:
    endpoint: str                 # http://127.0.0.1:PORT
    bucket: str
    env: dict[str, str]           # AWS_* for the process env (embedded Sail; also read by delta-rs/obstore)
    storage_options: dict[str, str]  # delta-rs storage_options (also obstore, via obstore_store())
    log_path: str = field(repr=False, default="")

    def url(self, *parts: str) -> str:
        return "/".join([f"s3://{self.bucket}", *(p.strip("/") for p in parts)])

    def obstore_store(self, url: str | None = None):
        """obstore store for s3://bucket[/prefix]. AWS_ALLOW_HTTP is NOT an S3Store config key in
        obstore 0.12 (passing it panics with pyo3 PanicException); it is client_options.allow_http."""
        from obstore.store import from_url

        config = {k: v for k, v in self.storage_options.items() if k != "AWS_ALLOW_HTTP"}
        return from_url(url or f"s3://{self.bucket}", config=config,
                        client_options={"allow_http": True})

    def boto3_client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def new_bucket(self, name: str | None = None) -> str:
        name = name or f"b-{uuid.uuid4().hex[:12]}"
        self.boto3_client().create_bucket(Bucket=name)
        return name


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # Linux: moto gets SIGTERM if the pytest process dies hard
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # not Linux glibc: moto is still stopped by the fixture's finally


def start_moto(timeout: float = 30.0, attempts: int = 3) -> tuple[subprocess.Popen, str, str]:
    """Start `python -m moto.server` on a free loopback port; retry if the port was taken."""
    last_error = ""
    for _ in range(attempts):
        port = _free_port()
        log = tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log", delete=False)
        proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1):
                    return proc, endpoint, log.name
            except OSError:
                time.sleep(0.05)
        stop_moto(proc)
        last_error = open(log.name, errors="replace").read()[-2000:]
    raise RuntimeError(f"moto server did not start:\n{last_error}")


def stop_moto(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    pytest.importorskip("moto.server")
    proc, endpoint, log_path = start_moto()
    try:
        creds = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                 "AWS_REGION": REGION}
        env = {
            **creds,
            # Sail (object_store's AmazonS3Builder::from_env) accepts AWS_ENDPOINT or AWS_ENDPOINT_URL.
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ALLOW_HTTP": "true",  # else: "URL scheme is not allowed"
            # AWS_REGION is required by Sail: without it Sail asks real AWS for the bucket region
            # ("failed to lookup address information"). Credentials are required everywhere: without
            # them the AWS chain falls back to EC2 instance metadata (169.254.169.254).
        }
        s3 = MotoS3(endpoint=endpoint, bucket=BUCKET, env=env,
                    storage_options={**creds, "AWS_ENDPOINT_URL": endpoint,
                                     "AWS_ALLOW_HTTP": "true"},
                    log_path=log_path)
        s3.new_bucket(BUCKET)
        yield s3
    finally:
        stop_moto(proc)


@pytest.fixture(scope="session")
def s3_process_env(moto_s3: MotoS3) -> Iterator[MotoS3]:
    """Sail caches one S3 store per (Spark session, bucket), built from the process env when that
    session first touches the bucket: set this before any session reads s3://, and never point a
    live session at another endpoint (make a new Spark session instead)."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in moto_s3.env.items():
            mp.setenv(key, value)
        mp.delenv("AWS_PROFILE", raising=False)
        mp.delenv("AWS_SESSION_TOKEN", raising=False)
        yield moto_s3


@pytest.fixture
def s3_root(moto_s3: MotoS3, request: pytest.FixtureRequest) -> str:
    """A unique s3://lake/<test>-<id> prefix (no trailing slash): moto state lives for the session."""
    safe = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40].strip("-")
    return moto_s3.url(f"{safe}-{uuid.uuid4().hex[:8]}")
