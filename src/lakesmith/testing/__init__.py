"""Unit tests of pipelines: run the user's own pipeline sources on small inputs and check the
tables, expectation counts and event log an update leaves.

With lakesmith installed, its pytest plugin (`lakesmith.testing.plugin`) gives every test a
`lakesmith_pipeline` fixture::

    def test_silver_drops_unpaid_orders(lakesmith_pipeline):
        p = lakesmith_pipeline.from_spec("spark-pipeline.yml")      # the project under test
        p.delta("data/orders", [{"order_id": 1, "status": "paid", "amount": 5.0},
                                {"order_id": 2, "status": None, "amount": 7.0}])
        p.file("data/customers.csv", "customer_id,country\\n1,NL\\n")
        p.table("ref.countries", [{"country": "NL", "region": "EU"}])   # read by name
        result = p.run(configuration={"shop.min_amount": "1"})
        assert result.rows("silver_orders", order_by="order_id") == [...]
        assert result.expectations()[("silver_orders", "paid")] == (1, 1)

Each test gets its own temporary project (a copy of the sources, fresh storage and warehouse);
all tests of a session share one embedded engine, so a small pipeline's test takes well under a
second after the first.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import yaml

from lakesmith.errors import UsageError
from lakesmith.project import SPEC_FILE_NAMES, load_spec

__all__ = ["PipelineResult", "TestEngine", "TestPipeline"]


class TestEngine:
    """One embedded Sail server for a test session; each pipeline run connects its own session
    to it, so runs share no catalog state."""

    __test__ = False  # not a test class, whatever pytest's name rules say

    def __init__(self) -> None:
        import os

        from pysail.spark import SparkConnectServer

        from lakesmith.engine.runtime_workers import give_engine_spare_workers

        os.environ.setdefault("RUST_LOG", "error")
        give_engine_spare_workers()
        self._server = SparkConnectServer(ip="127.0.0.1", port=0)
        self._server.start(background=True)
        host, port = self._server.listening_address
        self.url = f"sc://{host}:{port}"

    def stop(self) -> None:
        self._server.stop()


@dataclass
class PipelineResult:
    """What one update left: its state, every table (read back with delta-rs) and its events."""

    update: Any  # lakesmith.runtime.update.UpdateResult
    project: TestPipeline

    @property
    def state(self) -> str:
        return str(self.update.state.value)

    @property
    def completed(self) -> bool:
        return self.state == "COMPLETED"

    def arrow(self, table: str) -> pa.Table:
        """A pipeline table (or a quarantine table) as Arrow, as it is after the update."""
        from deltalake import DeltaTable

        location = self.project.table_location(table)
        if not (location / "_delta_log").is_dir():
            raise UsageError(f"Table '{table}' does not exist in the test project "
                             f"({location}).", hint="did the flow that writes it run?")
        return pa.table(DeltaTable(str(location)).to_pyarrow_table())

    def rows(self, table: str, *, order_by: str | Sequence[str] | None = None
             ) -> list[dict[str, Any]]:
        """The table's rows as dicts, sorted by `order_by` (NULLs last) when given."""
        rows: list[dict[str, Any]] = self.arrow(table).to_pylist()
        if order_by is not None:
            keys = [order_by] if isinstance(order_by, str) else list(order_by)
            rows.sort(key=lambda r: tuple((r[k] is None, r[k]) for k in keys))
        return rows

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """This update's event log entries (`details_json` holds the parsed details)."""
        from lakesmith.runtime.eventlog_queries import read_events

        events = [e for e in read_events(self.project.spec().storage)
                  if e["origin"]["update_id"] == self.update.update_id]
        return [e for e in events if event_type is None or e["event_type"] == event_type]

    def expectations(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(dataset, expectation) -> (passed, failed) records in this update."""
        from lakesmith.runtime.eventlog_queries import quality, read_events

        return {(q.dataset, q.expectation): (q.passed, q.failed) for q in quality(
            read_events(self.project.spec().storage), self.update.update_id)}

    def flow(self, name: str) -> Any:
        """The FlowResult of a flow (status, metrics, error)."""
        for result in self.update.flows:
            if result.planned.name.lower() == name.lower():
                return result
        raise KeyError(name)


@dataclass
class TestPipeline:
    """A pipeline project in a temporary folder, run on the session's engine."""

    __test__ = False

    root: Path
    engine_url: str
    configuration: dict[str, str] = field(default_factory=dict)

    # -- the project ------------------------------------------------------------------------

    @property
    def spec_path(self) -> Path:
        return self.root / "spark-pipeline.yml"

    def spec(self) -> Any:
        return load_spec(self.spec_path).with_configuration(self.configuration)

    def from_spec(self, spec: str | Path, *, name: str | None = None) -> TestPipeline:
        """Copy a project's sources (the files its `libraries` globs match, at the same relative
        paths) and its spec here, with storage and warehouse inside this test's folder."""
        source_spec = Path(spec)
        if source_spec.is_dir():
            source_spec = next((source_spec / n for n in SPEC_FILE_NAMES
                                if (source_spec / n).is_file()), source_spec / SPEC_FILE_NAMES[0])
        loaded = load_spec(source_spec)
        for file in loaded.library_files():
            try:
                relative = file.relative_to(loaded.root)
            except ValueError:  # an absolute glob outside the project: keep it where it is
                continue
            target = self.root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file, target)
        data = yaml.safe_load(source_spec.read_text())
        data["name"] = name or data["name"]
        data["storage"] = "storage"
        configuration = dict(data.get("configuration") or {})
        configuration.pop("spark.sql.warehouse.dir", None)  # the test's own warehouse
        data["configuration"] = configuration
        self.spec_path.write_text(yaml.safe_dump(data, sort_keys=False))
        return self

    def source(self, relative: str, text: str, *, name: str = "test_pipeline") -> TestPipeline:
        """Write a source file (Python or SQL) into the project; the first one also writes a spec
        that includes everything under `transformations/`, unless a spec exists."""
        import textwrap

        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        if not self.spec_path.exists():
            top = Path(relative).parts[0] if len(Path(relative).parts) > 1 else "."
            include = f"{top}/**" if top != "." else Path(relative).name
            self.spec_path.write_text(yaml.safe_dump({
                "name": name, "storage": "storage",
                "libraries": [{"glob": {"include": include}}]}, sort_keys=False))
        return self

    def configure(self, **configuration: str) -> TestPipeline:
        """Override configuration keys (`spark.conf.get` in sources) for the following runs."""
        self.configuration.update(configuration)
        return self

    # -- inputs -----------------------------------------------------------------------------

    def file(self, relative: str, content: str | bytes) -> Path:
        """A file the pipeline reads (CSV, JSON, ...), at a path relative to the project."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    def delta(self, relative: str, data: Any, *, schema: pa.Schema | None = None,
              mode: Literal["append", "overwrite"] = "append") -> Path:
        """A Delta table the pipeline reads by path, from rows (a list of dicts), a pandas
        DataFrame or an Arrow table; `mode="overwrite"` replaces it. Appending again adds a
        version, which streaming flows read as new data."""
        return _write_delta(self.root / relative, data, schema, mode)

    def table(self, name: str, data: Any, *, schema: pa.Schema | None = None,
              mode: Literal["append", "overwrite"] = "append") -> Path:
        """A table outside the pipeline that its sources read by name (`ext.customers`,
        `schema.table` or `catalog.schema.table`: `spark.read.table("ext.customers")`,
        `FROM ext.customers`, or a stream of it), stored in the test's warehouse; the data and
        modes are as for `delta`."""
        return _write_delta(self.table_location(name), data, schema, mode)

    def table_location(self, table: str) -> Path:
        """Where a pipeline table (`name`, `schema.name` or `catalog.schema.name`) is stored."""
        from lakesmith.graph.identifiers import NameResolver
        from lakesmith.locations import folder_name

        spec = self.spec()
        name = NameResolver(spec.catalog, spec.schema).qualify(table)
        return Path(spec.warehouse.local_path).joinpath(*(folder_name(p) for p in name.parts))

    # -- running ----------------------------------------------------------------------------

    def run(self, *, configuration: Mapping[str, str] | None = None,
            refresh: Sequence[str] = (), full_refresh: Sequence[str] = (),
            full_refresh_all: bool = False, expect_success: bool = True) -> PipelineResult:
        """Run one update. With `expect_success` (the default) an update that does not complete
        fails the test with its flows' errors; pass False to check a failure."""
        from lakesmith.pipeline import open_pipeline

        if not self.spec_path.exists():
            raise UsageError("The test project has no spec yet.",
                             hint="call from_spec(path) or source(relative, text) first.")
        overrides = {**self.configuration, **(configuration or {})}
        with open_pipeline(self.spec_path, remote=self.engine_url,
                           configuration=overrides) as pipeline:
            update = pipeline.run(pipeline.plan(refresh=refresh, full_refresh=full_refresh,
                                                full_refresh_all=full_refresh_all))
        result = PipelineResult(update, self)
        if expect_success and not result.completed:
            errors = "\n".join(f"  {r.planned.name}: {r.error}" for r in update.failed_flows)
            raise AssertionError(f"The update ended {result.state}:\n{errors}")
        return result

    def dry_run(self, *, configuration: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Analyse the graph (raising GraphValidationError with every problem) and return each
        flow's output schema, writing nothing."""
        from lakesmith.pipeline import open_pipeline

        overrides = {**self.configuration, **(configuration or {})}
        with open_pipeline(self.spec_path, remote=self.engine_url, configuration=overrides,
                           analyze_invalid=True) as pipeline:
            return pipeline.analyze()


def _write_delta(path: Path, data: Any, schema: pa.Schema | None,
                 mode: Literal["append", "overwrite"]) -> Path:
    from deltalake import write_deltalake

    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "overwrite":
        write_deltalake(str(path), _arrow(data, schema), mode="overwrite", schema_mode="overwrite")
    else:
        write_deltalake(str(path), _arrow(data, schema), mode="append")
    return path


def _arrow(data: Any, schema: pa.Schema | None) -> pa.Table:
    if isinstance(data, pa.Table):
        return data if schema is None else data.cast(schema)
    if isinstance(data, list):
        if not data and schema is None:
            raise UsageError("An empty list of rows needs a schema (pass schema=pa.schema(...)).")
        return pa.Table.from_pylist(data, schema=schema)
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, schema=schema, preserve_index=False)
    raise UsageError(f"Input data must be a list of dicts, a pandas DataFrame or an Arrow "
                     f"table, not {type(data).__name__}.")
