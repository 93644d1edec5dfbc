"""SQL pipelines that read landing files (`STREAM read_files(...)`, `cloud_files(...)`): the graph
sees each call as a source, not a dataset, streaming or batch as written, and validates it like any
other read; a dry run names it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from lakesmith.engine.plans import PlanRead
from lakesmith.errors import GraphValidationError
from lakesmith.graph.graph import FlowInput
from lakesmith.runtime.display import print_graph
from lakesmith.sources import registry

BRONZE = """
    CREATE OR REFRESH STREAMING TABLE bronze_orders
    AS SELECT *, _metadata.file_path AS source_file
    FROM STREAM read_files('data/orders/', format => 'json', schemaHints => 'id INT');

    CREATE OR REFRESH MATERIALIZED VIEW order_count AS SELECT count(*) AS n FROM bronze_orders;
"""
ORDERS = PlanRead(name=None, streaming=True, format="cloudFiles", paths=("data/orders/",),
                  options={"cloudFiles.format": "json", "cloudFiles.schemaHints": "id INT"},
                  in_sql=True)


@pytest.fixture
def cloud_files_streams(monkeypatch):
    """`cloudFiles` registered as a stream format, as the Auto Loader source registers it; graph
    validation only asks whether the format streams, so the factory is never called here."""
    registry.stream_formats()  # the built-in formats first

    def unused(request):
        raise AssertionError("graph validation must not create sources")

    monkeypatch.setitem(registry._FORMATS, "cloudfiles", unused)


@pytest.fixture
def cloud_files_does_not_stream(monkeypatch):
    registry.stream_formats()
    monkeypatch.delitem(registry._FORMATS, "cloudfiles", raising=False)


def problems(project) -> list[str]:
    with pytest.raises(GraphValidationError) as info:
        with project.open():
            pass
    return [str(p).replace(f"{project.root}/", "") for p in info.value.problems]


def test_a_streaming_table_over_stream_read_files_reads_a_source(project,
                                                                  cloud_files_streams) -> None:
    project.write_spec()
    project.write("transformations/bronze.sql", BRONZE)
    with project.open() as pipeline:
        graph = pipeline.graph
        bronze, count = graph.topological_flows()
        assert (bronze.name, bronze.streaming, bronze.inputs) == \
            ("bronze_orders", True, (FlowInput(ORDERS, None),))
        assert bronze.upstream == frozenset()  # a source, not a dataset edge
        assert (count.name, count.streaming, count.upstream) == \
            ("order_count", False, frozenset({bronze.target}))
        console = Console(file=io.StringIO(), width=200)
        print_graph(console, pipeline, {})
        shown = console.file.getvalue()
    [bronze_row] = [line for line in shown.splitlines() if line.startswith("bronze_orders")]
    assert "stream cloudFiles:data/orders/ (external)" in bronze_row


def test_legacy_cloud_files_in_a_streaming_live_table_streams(project, cloud_files_streams) -> None:
    project.write_spec()
    project.write("transformations/bronze.sql", """
        CREATE OR REFRESH STREAMING LIVE TABLE b3
        AS SELECT * FROM cloud_files('/data/x', 'json', map('cloudFiles.inferColumnTypes', 'true'))
    """)
    with project.open() as pipeline:
        [flow] = pipeline.graph.flows
        assert flow.streaming
        assert [i.read for i in flow.inputs] == [PlanRead(
            name=None, streaming=True, format="cloudFiles", paths=("/data/x",),
            options={"cloudFiles.format": "json", "cloudFiles.inferColumnTypes": "true"},
            in_sql=True)]


def test_batch_and_stream_mismatches_are_reported_like_any_other_read(project,
                                                                       cloud_files_streams) -> None:
    project.write_spec()
    project.write("transformations/t.sql", """
        CREATE OR REFRESH STREAMING TABLE batch_files
        AS SELECT * FROM read_files('data/x', format => 'parquet');

        CREATE OR REFRESH MATERIALIZED VIEW streamed_files
        AS SELECT * FROM STREAM(read_files('data/x', format => 'csv', header => true));

        CREATE OR REFRESH MATERIALIZED VIEW legacy AS SELECT * FROM cloud_files('data/x', 'json');
    """)
    assert problems(project) == [
        "transformations/t.sql:1: [INVALID_FLOW_QUERY_TYPE.BATCH_RELATION_FOR_STREAMING_TABLE] "
        "streaming table 'batch_files' is written by flow 'batch_files', whose query is a batch "
        "query; a streaming table's flows must read a stream (spark.readStream..., STREAM(...), "
        "STREAM read_files(...)). Use a materialized view for a batch query.",
        "transformations/t.sql:4: [INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW] "
        "materialized view 'streamed_files' reads a stream (streaming Auto Loader read of csv files "
        "in data/x); a materialized view must be defined by a batch query. Use a streaming table, "
        "or read the source as a batch (in SQL, without STREAM; for files, read_files(...) instead "
        "of cloud_files(...), which always streams).",
        "transformations/t.sql:7: [INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED_VIEW] "
        "materialized view 'legacy' reads a stream (streaming Auto Loader read of json files in "
        "data/x); a materialized view must be defined by a batch query. Use a streaming table, or "
        "read the source as a batch (in SQL, without STREAM; for files, read_files(...) instead of "
        "cloud_files(...), which always streams).",
    ]


def test_a_stream_of_a_format_no_source_streams_is_refused_naming_the_files(
        project, cloud_files_does_not_stream) -> None:
    project.write_spec()
    project.write("transformations/bronze.sql", BRONZE)
    assert problems(project) == [
        "transformations/bronze.sql:1: flow 'bronze_orders' reads a stream of format 'cloudFiles' "
        "(streaming Auto Loader read of json files in data/orders/): streaming reads of this "
        "format are not supported yet; lakesmith streams from pipeline datasets and, so far, "
        "from sources of format csv, delta, json, parquet, text only."]


def test_a_call_with_a_non_literal_option_is_a_problem_of_its_flow(project,
                                                                   cloud_files_streams) -> None:
    project.write_spec()
    project.write("transformations/t.sql", """
        CREATE OR REFRESH STREAMING TABLE ok AS SELECT * FROM STREAM read_files('a', format => 'json');

        CREATE OR REFRESH STREAMING TABLE bad
        AS SELECT * FROM STREAM read_files('b', format => 'csv', sep => current_user());
    """)
    assert problems(project) == [
        "transformations/t.sql:3: flow 'bad': read_files('b', format => 'csv', sep => "
        "current_user()): option 'sep' is CURRENT_USER(), which is not a literal; lakesmith reads "
        "read_files options without running the query, so each must be a string, number or boolean "
        "literal. Write the value itself (a pipeline configuration value can be substituted with "
        "${key})."]


def test_dry_run_shows_a_sql_stream_of_files_with_its_inferred_schema(tmp_path: Path) -> None:
    (tmp_path / "spark-pipeline.yml").write_text(
        "name: p\nstorage: storage\nlibraries:\n  - glob:\n      include: transformations/**\n")
    (tmp_path / "transformations").mkdir()
    (tmp_path / "transformations" / "bronze.sql").write_text(
        "CREATE OR REFRESH STREAMING TABLE bronze_orders\n"
        "AS SELECT *, _metadata.file_path AS source_file\n"
        "FROM STREAM read_files('data/orders/', format => 'json');\n")
    orders = tmp_path / "data" / "orders"
    orders.mkdir(parents=True)
    (orders / "a.json").write_text('{"order_id": 1, "item": "pen"}\n')
    result = subprocess.run([sys.executable, "-m", "lakesmith", "dry-run"], cwd=tmp_path, text=True,
                            capture_output=True, env={**os.environ, "COLUMNS": "300"}, timeout=120)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "bronze_orders" in out and "cloudFiles:data/orders/" in out
    # The inferred columns (strings, sorted by name), the rescued data, then the query's own.
    assert "item, order_id, _rescued_data, transformations/bronze.sql:1 source_file" in out, out
    assert "1 new file(s)" in out
    assert not (tmp_path / "storage" / "checkpoints").exists()  # a dry run records nothing
