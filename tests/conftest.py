"""Shared fixtures: one embedded Sail server for the test session (each pipeline run connects its
own Spark session to it, so runs do not share catalog state), and helpers to write small pipeline
projects and read the Delta tables they produce."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable

os.environ.setdefault("RUST_LOG", "error")
pytest.register_assert_rewrite("crash_pipeline")


def pytest_configure(config: pytest.Config) -> None:
    """lakesmith's pytest plugin, also when lakesmith is installed without its entry points."""
    import lakesmith.testing.plugin as plugin

    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, "lakesmith")


@pytest.fixture(scope="session")
def sail_url(lakesmith_engine: Any) -> str:
    """The engine of lakesmith's pytest plugin (`lakesmith.testing`), which users' tests get too."""
    return str(lakesmith_engine.url)


@pytest.fixture
def spark(sail_url: str) -> Iterator[Any]:
    from pyspark.sql.connect.session import SparkSession

    session = SparkSession.builder.remote(sail_url).create()
    yield session
    session.stop()


class Project:
    """A pipeline project in a temporary directory."""

    def __init__(self, root: Path, sail_url: str) -> None:
        self.root = root
        self.sail_url = sail_url
        self.spec_path = root / "spark-pipeline.yml"

    def write_spec(self, text: str | None = None, **fields: Any) -> Project:
        if text is None:
            lines = [f"name: {fields.pop('name', 'test_pipeline')}",
                     f"storage: {fields.pop('storage', 'storage')}"]
            for key, value in fields.items():
                if key == "configuration":
                    lines.append("configuration:")
                    lines += [f"  {k}: {v!r}" if not isinstance(v, str) else f'  {k}: "{v}"'
                              for k, v in value.items()]
                else:
                    lines.append(f"{key}: {value}")
            lines += ["libraries:", "  - glob:", "      include: transformations/**"]
            text = "\n".join(lines) + "\n"
        self.spec_path.write_text(textwrap.dedent(text))
        return self

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    def table_path(self, table: str, schema: str = "default", catalog: str = "spark_catalog") -> Path:
        return self.root / "warehouse" / catalog / schema / table

    def rows(self, table: str, *, order_by: str | list[str] | None = None, **where: Any) -> list[dict]:
        return read_rows(self.table_path(table, **where), order_by=order_by)

    def open(self, **kwargs: Any) -> Any:
        from lakesmith.pipeline import open_pipeline

        return open_pipeline(self.spec_path, remote=self.sail_url, **kwargs)

    def run(self, **plan_options: Any) -> Any:
        """Run one update in-process; returns the UpdateResult."""
        with self.open() as pipeline:
            return pipeline.run(pipeline.plan(**plan_options))


def read_rows(path: Path, *, order_by: str | list[str] | None = None) -> list[dict]:
    table = pa.table(DeltaTable(str(path)).to_pyarrow_table())
    rows = table.to_pylist()
    if order_by:
        keys = [order_by] if isinstance(order_by, str) else order_by
        rows.sort(key=lambda r: tuple((r[k] is None, r[k]) for k in keys))
    return rows


@pytest.fixture
def project(tmp_path: Path, sail_url: str) -> Project:
    root = tmp_path / "project"
    root.mkdir()
    return Project(root, sail_url)


from s3_fixture import moto_s3, s3_process_env, s3_root  # noqa: E402,F401  (fixtures)


@pytest.fixture
def schema_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The analysis (schema) requests the Spark Connect client sends, in order: for tests that
    pin how many round trips an operation makes."""
    from pyspark.sql.connect.client.core import SparkConnectClient

    sent: list[str] = []
    analyze = SparkConnectClient._analyze

    def counted(self: Any, method: str, **kwargs: Any) -> Any:
        sent.append(method)
        return analyze(self, method, **kwargs)

    monkeypatch.setattr(SparkConnectClient, "_analyze", counted)
    return sent
