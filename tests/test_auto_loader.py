"""Auto Loader: bronze tables fed from landing folders, run after run, exactly once."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from lakesmith.errors import LakesmithError
from lakesmith.locations import Location
from lakesmith.runtime.eventlog_queries import read_events
from lakesmith.runtime.events import UpdateState

BRONZE = """
import dlt
from pyspark.sql.functions import input_file_name

@dlt.table(comment="Raw orders from cloud storage")
def bronze_orders():
    return (spark.readStream.format("cloudFiles")
            .option("cloudFiles.format", "json"){options}
            .load("{landing}")
            .withColumn("_source_file", input_file_name()))
"""


def landing_file(folder: Path, name: str, rows: list[dict] | str, mtime: int) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = rows if isinstance(rows, str) else "".join(json.dumps(r) + "\n" for r in rows)
    path.write_text(text)
    os.utime(path, (mtime, mtime))
    return path


def bronze(project, landing: Path, **options: str) -> None:
    project.write_spec()
    reader = "".join(f'\n            .option("{k}", "{v}")' for k, v in options.items())
    project.write("transformations/bronze.py",
                  BRONZE.format(landing=landing, options=reader))


def completed(result) -> None:  # type: ignore[no-untyped-def]
    assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]


def failure(result) -> str:  # type: ignore[no-untyped-def]
    assert result.state == UpdateState.FAILED
    return " ".join(str(r.error) for r in result.failed_flows)


def uri(path: Path) -> str:
    return Location.local(path).uri


def test_files_are_ingested_once_as_they_arrive(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    a = landing_file(landing, "a.json", [{"id": 1, "item": "pen", "qty": 2},
                                         {"id": 2, "item": "ink", "qty": 1}], 1_700_000_000)
    bronze(project, landing)
    completed(project.run())
    # Inferred from the files: JSON columns are strings (cloudFiles.inferColumnTypes is false),
    # sorted by name, then the rescued-data column; input_file_name() is the file's URI.
    assert project.rows("bronze_orders", order_by="id") == [
        {"id": "1", "item": "pen", "qty": "2", "_rescued_data": None, "_source_file": uri(a)},
        {"id": "2", "item": "ink", "qty": "1", "_rescued_data": None, "_source_file": uri(a)},
    ]
    b = landing_file(landing, "more/b.json", [{"id": 3, "item": "cap", "qty": 5}],
                     1_700_000_100)
    second = project.run()
    completed(second)
    (flow,) = second.flows
    assert flow.metrics.num_output_rows == 1 and flow.metrics.batches == 1
    assert flow.metrics.details["num_input_rows"] is None  # files are not counted by rows
    assert flow.metrics.details["sources"] == {str(Location.local(landing)): {
        "numFilesRead": 1, "numBytesRead": b.stat().st_size,
        "numFilesOutstanding": 0, "numBytesOutstanding": 0}}
    rows = project.rows("bronze_orders", order_by="id")
    assert [(r["id"], r["_source_file"]) for r in rows] == [
        ("1", uri(a)), ("2", uri(a)), ("3", uri(b))]
    nothing_new = project.run()
    completed(nothing_new)
    assert nothing_new.flows[0].metrics.batches == 0
    assert len(project.rows("bronze_orders")) == 3


def test_batches_follow_max_files_per_trigger_and_report_the_backlog(project,
                                                                     tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    sizes = []
    for i in range(5):
        sizes.append(landing_file(landing, f"f{i}.json", [{"id": i}], 1_700_000_000 + i)
                     .stat().st_size)
    bronze(project, landing, **{"cloudFiles.maxFilesPerTrigger": "2"})
    result = project.run()
    completed(result)
    assert result.flows[0].metrics.batches == 3
    assert sorted(r["id"] for r in project.rows("bronze_orders")) == ["0", "1", "2", "3", "4"]
    events = read_events(Location.local(project.root / "storage"))
    details = [json.loads(e["details"]) for e in events if e["event_type"] == "flow_progress"]
    progress = [d["flow_progress"]["metrics"] for d in details
                if d["flow_progress"].get("metrics", {}).get("sources")]
    # Per-batch progress is summed into the flow's final event.
    (final,) = progress
    assert (final["backlog_files"], final["backlog_bytes"], final["num_batches"]) == (0, 0, 3)
    assert final["sources"] == {str(Location.local(landing)): {
        "numFilesRead": 5, "numBytesRead": sum(sizes), "numFilesOutstanding": 0,
        "numBytesOutstanding": 0}}


def test_schema_evolution_add_new_columns_stops_then_the_rerun_adds_them(project,
                                                                         tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1, "name": "x"}], 1_700_000_000)
    bronze(project, landing)
    completed(project.run())
    landing_file(landing, "b.json", [{"id": 2, "name": "y", "color": "red"}], 1_700_000_100)
    stopped = project.run()
    message = failure(stopped)
    assert "color" in message and "Run the pipeline again" in message
    assert [r["id"] for r in project.rows("bronze_orders")] == ["1"]  # nothing committed
    completed(project.run())
    rows = project.rows("bronze_orders", order_by="id")
    assert [(r["id"], r["name"], r.get("color"), r["_rescued_data"]) for r in rows] == [
        ("1", "x", None, None), ("2", "y", "red", None)]


@pytest.mark.parametrize("option", ["numFiles", "numBytes"])
def test_inference_samples_the_first_files_as_sample_size_says(project, tmp_path: Path,
                                                               option: str) -> None:
    """Databricks infers from the first files discovered, up to
    `cloudFiles.schemaInference.sampleSize.numFiles` / `.numBytes`: a column found only past
    the sample is a new column of the first batch (addNewColumns: stop, then the rerun reads
    it)."""
    landing = tmp_path / "landing"
    first = landing_file(landing, "a.json", [{"id": 1}], 1_700_000_000)
    landing_file(landing, "b.json", [{"id": 2, "late": "x"}], 1_700_000_100)
    limit = "1" if option == "numFiles" else str(first.stat().st_size)
    bronze(project, landing, **{f"cloudFiles.schemaInference.sampleSize.{option}": limit})
    message = failure(project.run())
    assert "late" in message and "Run the pipeline again" in message
    assert project.rows("bronze_orders") == []  # nothing committed
    completed(project.run())
    rows = project.rows("bronze_orders", order_by="id")
    assert [(r["id"], r["late"]) for r in rows] == [("1", None), ("2", "x")]


def test_schema_evolution_modes(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1}], 1_700_000_000)
    bronze(project, landing, **{"cloudFiles.schemaEvolutionMode": "failOnNewColumns"})
    completed(project.run())
    landing_file(landing, "b.json", [{"id": 2, "extra": "e"}], 1_700_000_100)
    assert "extra" in failure(project.run())
    assert "extra" in failure(project.run())  # the schema did not change: it fails again
    bronze(project, landing, **{"cloudFiles.schemaEvolutionMode": "rescue"})
    completed(project.run())
    rows = project.rows("bronze_orders", order_by="id")
    assert "extra" not in rows[0]
    rescued = json.loads(rows[1]["_rescued_data"])
    assert rescued["extra"] == "e" and rescued["_file_path"] == f"file:{landing / 'b.json'}"


def test_a_corrupt_file_fails_the_batch_naming_it_then_ignore_corrupt_files(
        project, tmp_path: Path, spark) -> None:
    landing = tmp_path / "landing"
    good = tmp_path / "good"
    spark.createDataFrame([(1, "a")], "id BIGINT, v STRING").write.parquet(str(good))
    part = next(good.glob("*.parquet"))
    (landing).mkdir()
    (landing / "a.parquet").write_bytes(part.read_bytes())
    os.utime(landing / "a.parquet", (1_700_000_000, 1_700_000_000))
    truncated = landing / "b.parquet"
    truncated.write_bytes(part.read_bytes()[:-20])
    os.utime(truncated, (1_700_000_100, 1_700_000_100))
    project.write_spec()

    def raw(extra: str) -> None:
        project.write("transformations/b.py", f"""
            import dlt

            @dlt.table
            def raw():
                return (spark.readStream.format("cloudFiles")
                        .option("cloudFiles.format", "parquet"){extra}
                        .schema("id BIGINT, v STRING").load("{landing}"))
        """)

    raw("")
    message = failure(project.run())
    assert str(truncated) in message and "Nothing of the batch was committed" in message
    assert not project.table_path("raw").exists() or project.rows("raw") == []
    raw('.option("ignoreCorruptFiles", "true")')
    result = project.run()
    completed(result)
    assert project.rows("raw") == [{"id": 1, "v": "a"}]
    (ignored,) = result.flows[0].metrics.details["sources"][str(Location.local(landing))][
        "corruptFilesIgnored"]
    assert ignored["path"] == uri(truncated) and "parquet" in ignored["reason"].lower()
    events = read_events(Location.local(project.root / "storage"))
    assert uri(truncated) in " ".join(e["details"] for e in events
                                      if e["event_type"] == "flow_progress")


def test_dry_run_shows_the_inferred_schema_and_writes_nothing(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1, "nested": {"k": 1}}], 1_700_000_000)
    bronze(project, landing, **{"cloudFiles.inferColumnTypes": "true"})
    with project.open() as pipeline:
        schemas = pipeline.analyze()
        work = pipeline.plan_work(pipeline.plan())
    fields = [(f.name, f.dataType.simpleString()) for f in schemas["bronze_orders"].fields]
    assert fields == [("id", "bigint"), ("nested", "struct<k:bigint>"),
                      ("_rescued_data", "string"), ("_source_file", "string")]
    (flow_work,) = [w for w in (p.work for p in work.flows) if w is not None]
    assert flow_work.sources[0].backlog.files == 1
    assert not (project.root / "storage" / "checkpoints").exists()


def test_an_empty_landing_folder_without_a_schema_says_what_to_do(project,
                                                                  tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    bronze(project, landing)
    with pytest.raises(LakesmithError, match="cannot infer the schema of json files"):
        project.run()


CRASH_POINTS = ("before_offsets", "after_offsets", "after_output", "after_commit")


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_a_crash_mid_ingestion_then_rerun_is_exactly_once(project, tmp_path: Path,
                                                          point: str) -> None:
    import subprocess
    import sys

    from lakesmith.runtime.checkpoint.crash import CRASH_ENV

    landing = tmp_path / "landing"
    for i in range(3):
        landing_file(landing, f"f{i}.json", [{"id": i, "v": f"r{i}"}, {"id": i + 10}],
                     1_700_000_000 + i)
    bronze(project, landing, **{"cloudFiles.maxFilesPerTrigger": "1"})

    def run(crash_at: str | None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
        if crash_at:
            env[CRASH_ENV] = crash_at
        return subprocess.run([sys.executable, "-m", "lakesmith", "run", "--spec",
                               str(project.spec_path)], cwd=project.root, env=env,
                              capture_output=True, text=True, timeout=180)

    crashed = run(f"{point}:bronze_orders:1")
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    finished = run(None)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    expected = sorted([(str(i), f"r{i}") for i in range(3)] + [(str(i + 10), None)
                                                              for i in range(3)])
    rows = project.rows("bronze_orders")
    assert sorted((r["id"], r["v"]) for r in rows) == expected
    landing_file(landing, "f9.json", [{"id": 9, "v": "r9"}], 1_700_000_009)
    assert run(None).returncode == 0
    rows = project.rows("bronze_orders")
    assert sorted((r["id"], r["v"]) for r in rows) == sorted(expected + [("9", "r9")])
    checkpoint = next((project.root / "storage" / "checkpoints").glob("*/bronze_orders"))
    assert sorted(int(p.name) for p in (checkpoint / "commits").glob("[0-9]*")) == [0, 1, 2, 3]


def test_ten_thousand_small_files(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    for i in range(10_000):
        path = landing / f"part-{i:05d}.json"
        path.write_text(json.dumps({"id": i}) + "\n")
    bronze(project, landing)
    result = project.run()
    completed(result)
    assert result.flows[0].metrics.batches == 10  # maxFilesPerTrigger's default is 1000
    ids = sorted(int(r["id"]) for r in project.rows("bronze_orders"))
    assert ids == list(range(10_000))
    landing_file(landing, "late.json", [{"id": 10_000}], 1_900_000_000)
    again = project.run()
    completed(again)
    assert again.flows[0].metrics.num_output_rows == 1


def test_rescued_data_keeps_what_the_schema_cannot_hold(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1, "amount": 2.5, "name": "a"}], 1_700_000_000)
    bronze(project, landing, **{"cloudFiles.inferColumnTypes": "true",
                                "cloudFiles.schemaEvolutionMode": "rescue"})
    completed(project.run())
    b = landing_file(landing, "b.json", "\n".join([
        '{"id": 2, "amount": "oops", "name": "b"}',     # a value of the wrong type
        '{"id": 3, "Name": "c", "amount": 1.0}',        # a name whose case differs
        '{"id": 4, "amount": 1, "name": "d", "extra": {"x": [1, 2]}}',  # a field not in the schema
        'not json at all',                              # a malformed line
    ]) + "\n", 1_700_000_100)
    completed(project.run())
    path = f"file:{b}"
    rows = {r["id"]: r for r in project.rows("bronze_orders")}
    assert set(rows) == {1, 2, 3, 4, None}

    def rescued(key):  # type: ignore[no-untyped-def]
        text = rows[key]["_rescued_data"]
        return None if text is None else json.loads(text)

    assert (rows[1]["amount"], rows[1]["name"], rescued(1)) == (2.5, "a", None)
    assert (rows[2]["amount"], rows[2]["name"], rescued(2)) == (
        None, "b", {"amount": "oops", "_file_path": path})
    assert (rows[3]["amount"], rows[3]["name"], rescued(3)) == (
        1.0, None, {"Name": "c", "_file_path": path})
    assert (rows[4]["amount"], rows[4]["name"], rescued(4)) == (
        1.0, "d", {"extra": '{"x": [1, 2]}', "_file_path": path})  # as written
    assert (rows[None]["amount"], rescued(None)) == (
        None, {"_corrupt_record": "not json at all", "_file_path": path})


def test_sql_forms_stream_and_batch_read_files(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    a = landing_file(landing, "a.json", [{"id": 1, "item": "pen"}, {"id": 2, "item": "ink"}],
                     1_700_000_000)
    csv_folder = tmp_path / "csv"
    csv_folder.mkdir()
    (csv_folder / "p.csv").write_text('sku,price\npen,"1,5"\nink,2\n')
    project.write_spec()
    project.write("transformations/bronze.sql", f"""
        CREATE OR REFRESH STREAMING TABLE bronze_orders
        AS SELECT *, _metadata.file_path AS source_file, _metadata.file_size AS size
        FROM STREAM read_files('{landing}', format => 'json');

        CREATE OR REFRESH STREAMING LIVE TABLE legacy
        AS SELECT id FROM cloud_files('{landing}', 'json', map('cloudFiles.inferColumnTypes', 'true'));

        CREATE OR REFRESH MATERIALIZED VIEW prices
        AS SELECT sku, price FROM read_files('{csv_folder}', format => 'csv', header => true);
    """)
    completed(project.run())
    assert project.rows("bronze_orders", order_by="id") == [
        {"id": "1", "item": "pen", "_rescued_data": None, "source_file": f"file:{a}",
         "size": a.stat().st_size},
        {"id": "2", "item": "ink", "_rescued_data": None, "source_file": f"file:{a}",
         "size": a.stat().st_size}]
    assert project.rows("legacy", order_by="id") == [{"id": 1}, {"id": 2}]
    assert project.rows("prices", order_by="sku") == [{"sku": "ink", "price": "2"},
                                                      {"sku": "pen", "price": "1,5"}]
    landing_file(landing, "b.json", [{"id": 3, "item": "cap"}], 1_700_000_100)
    completed(project.run())
    assert [r["id"] for r in project.rows("bronze_orders", order_by="id")] == ["1", "2", "3"]
    assert [r["id"] for r in project.rows("legacy", order_by="id")] == [1, 2, 3]


def test_full_refresh_reads_every_file_again_with_a_new_schema(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1}], 1_700_000_000)
    bronze(project, landing)
    completed(project.run())
    landing_file(landing, "b.json", [{"id": 2, "extra": "x"}], 1_700_000_100)
    assert "extra" in failure(project.run())  # addNewColumns: stop, schema evolved
    refreshed = project.run(full_refresh_all=True)
    completed(refreshed)
    rows = project.rows("bronze_orders", order_by="id")
    # Inferred again from both files (extra is a column from the start), each file read once.
    assert [(r["id"], r["extra"], r["_rescued_data"]) for r in rows] == [
        ("1", None, None), ("2", "x", None)]
    completed(project.run())
    assert len(project.rows("bronze_orders")) == 2


def test_query_functions_may_look_at_the_columns_of_a_file_stream(project,
                                                                  tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"ID": 1, "Item Name": "pen"}], 1_700_000_000)
    project.write_spec()
    project.write("transformations/bronze.py", f"""
        import dlt

        @dlt.table
        def clean():
            df = spark.readStream.format("cloudFiles").option("cloudFiles.format", "json") \\
                .load("{landing}")
            # A common Databricks idiom: normalise column names seen while the graph is built.
            for name in df.columns:
                df = df.withColumnRenamed(name, name.lower().replace(" ", "_"))
            return df
    """)
    completed(project.run())
    assert project.rows("clean") == [{"id": "1", "item_name": "pen", "_rescued_data": None}]


def test_csv_files_with_header_and_schema_hints(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "a.csv").write_text('id,name,amount\n1,"Smith, J",2.50\n2,Lee\n3,Kim,x\n')
    project.write_spec()
    project.write("transformations/bronze.py", f"""
        import dlt

        @dlt.table
        def people():
            return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "csv")
                    .option("header", "true")
                    .option("cloudFiles.schemaHints", "id INT, amount DOUBLE")
                    .load("{landing}"))
    """)
    completed(project.run())
    rows = project.rows("people", order_by="id")
    assert [(r["id"], r["name"], r["amount"]) for r in rows] == [
        (1, "Smith, J", 2.5), (2, "Lee", None), (3, "Kim", None)]
    assert rows[0]["_rescued_data"] is None and rows[1]["_rescued_data"] is None
    assert json.loads(rows[2]["_rescued_data"]) == {
        "amount": "x", "_file_path": f"file:{landing / 'a.csv'}"}


def test_a_new_nested_field_evolves_the_struct(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1, "customer": {"name": "ann"}}], 1_700_000_000)
    bronze(project, landing)
    completed(project.run())
    landing_file(landing, "b.json", [{"id": 2, "customer": {"name": "bob", "tier": "gold"}}],
                 1_700_000_100)
    assert "customer.tier" in failure(project.run())
    completed(project.run())
    rows = project.rows("bronze_orders", order_by="id")
    assert [(r["id"], r["customer"]) for r in rows] == [
        ("1", {"name": "ann", "tier": None}), ("2", {"name": "bob", "tier": "gold"})]


def test_rescue_mode_refuses_to_drop_a_new_nested_field(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1, "customer": {"name": "ann"}}], 1_700_000_000)
    bronze(project, landing, **{"cloudFiles.schemaEvolutionMode": "rescue"})
    completed(project.run())
    landing_file(landing, "b.json", [{"id": 2, "customer": {"name": "bob", "tier": "gold"}},
                                     {"id": 3, "note": "top-level: rescued"}], 1_700_000_100)
    message = failure(project.run())
    assert "customer.tier" in message and "will not drop them silently" in message
    assert [r["id"] for r in project.rows("bronze_orders")] == ["1"]


def test_a_large_file_is_read_once(project, tmp_path: Path) -> None:
    """The engine splits a large file into ranges for its readers; each record is still read
    once (Sail's binaryFile returned such a file once per range)."""
    landing = tmp_path / "landing"
    landing.mkdir()
    line = json.dumps({"id": 0, "pad": "x" * 200}) + "\n"
    count = 60_000  # about 13 MB
    (landing / "big.json").write_text(line * count)
    bronze(project, landing, **{"cloudFiles.schemaEvolutionMode": "none"})
    result = project.run()
    completed(result)
    assert result.flows[0].metrics.num_output_rows == count


def test_a_batch_of_many_large_files_writes_at_most_one_file_per_core(project,
                                                                      tmp_path: Path) -> None:
    """Each large file is its own text scan; the engine runs every partition of their union at
    once, one Parquet writer each, so memory grew with the files of a batch. The union is
    coalesced to the local engine's cores: as many data files at most, every record once."""
    import os

    from deltalake import DeltaTable

    landing = tmp_path / "landing"
    landing.mkdir()
    per_file = 40_000  # about 9 MB each: the large-file route
    for n in range(3):  # 6 partitions: more than the cores of a small machine
        (landing / f"part-{n}.json").write_text("".join(
            json.dumps({"id": n * per_file + i, "pad": "x" * 200}) + "\n"
            for i in range(per_file)))
    bronze(project, landing, **{"cloudFiles.schemaEvolutionMode": "none"})
    result = project.run()
    completed(result)
    assert result.flows[0].metrics.num_output_rows == 3 * per_file
    table = project.root / "warehouse/spark_catalog/default/bronze_orders"
    assert len(DeltaTable(str(table)).file_uris()) <= (os.cpu_count() or 1)
    ids = sorted(int(r["id"]) for r in project.rows("bronze_orders"))
    assert ids == list(range(3 * per_file))


def test_large_and_small_files_and_invalid_utf8_in_one_batch(project, tmp_path: Path) -> None:
    """Large files are read by the engine's line reader, small ones whole; a large file with
    bytes that are not UTF-8 is read whole, its bad bytes shown as U+FFFD (as Spark does)."""
    landing = tmp_path / "landing"
    landing.mkdir()
    lines = 50_000
    (landing / "big.txt").write_text("".join(f"line {i:06d} {'x' * 200}\n" for i in range(lines)))
    (landing / "bad.txt").write_bytes(b"ok\n" + b"caf\xe9\n" + b"y" * (9 * 1024 * 1024) + b"\n")
    (landing / "small.txt").write_text("a\r\nb\n\nc")
    project.write_spec()
    project.write("transformations/t.py", f"""
        import dlt

        @dlt.table
        def lines():
            return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "text")
                    .load("{landing}").selectExpr("value", "_metadata.file_name AS file"))
    """)
    completed(project.run())
    rows = project.rows("lines")
    by_file: dict[str, list[str]] = {}
    for r in rows:
        by_file.setdefault(r["file"], []).append(r["value"])
    assert sorted(by_file["small.txt"]) == ["", "a", "b", "c"]
    assert sorted(by_file["big.txt"]) == [f"line {i:06d} {'x' * 200}" for i in range(lines)]
    assert sorted(v[:5] for v in by_file["bad.txt"]) == ["caf\ufffd", "ok", "yyyyy"]


def test_single_quoted_json_is_refused_naming_the_file(project, tmp_path: Path) -> None:
    """Spark reads `{'a': 1}`; the engine cannot: the batch fails instead of giving NULLs."""
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", '{"id": 1}\n', 1_700_000_000)
    bronze(project, landing)
    completed(project.run())
    bad = landing_file(landing, "b.json", "{'id': 2}\n", 1_700_000_100)
    message = failure(project.run())
    assert f"file:{bad}" in message and "single quotes" in message
    assert [r["id"] for r in project.rows("bronze_orders")] == ["1"]


def test_single_quoted_json_is_refused_with_a_given_schema_too(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    bad = landing_file(landing, "b.json", "{'id': 2}\n", 1_700_000_100)
    project.write_spec()
    project.write("transformations/b.py", f"""
        import dlt

        @dlt.table
        def typed():
            return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
                    .schema("id BIGINT").load("{landing}"))
    """)
    message = failure(project.run())
    assert f"file:{bad}" in message and "single quotes" in message


def test_a_recorded_file_that_disappears_fails_the_batch_naming_it(project,
                                                                   tmp_path: Path) -> None:
    import subprocess
    import sys

    from lakesmith.runtime.checkpoint.crash import CRASH_ENV

    landing = tmp_path / "landing"
    gone = landing_file(landing, "a.json", [{"id": 1}], 1_700_000_000)
    bronze(project, landing)
    env = {**os.environ, CRASH_ENV: "after_offsets:bronze_orders:0"}
    command = [sys.executable, "-m", "lakesmith", "run", "--spec", str(project.spec_path)]
    crashed = subprocess.run(command, cwd=project.root, env=env, capture_output=True, text=True,
                             timeout=180)
    assert crashed.returncode == 137, crashed.stdout + crashed.stderr
    gone.unlink()  # batch 0 names it in its offsets
    rerun = project.run()
    message = failure(rerun)
    assert "FILE_NOT_EXIST" in message and str(gone) in message


def test_continuous_mode_ingests_files_as_they_land(project, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    from conftest import read_rows

    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1}], 1_700_000_000)
    bronze(project, landing)
    process = subprocess.Popen(
        [sys.executable, "-m", "lakesmith", "run", "--continuous", "--trigger-interval", "200ms"],
        cwd=project.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    table = project.table_path("bronze_orders")

    def wait_for(ids: list[str]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if table.exists() and sorted(r["id"] for r in read_rows(table)) == ids:
                return
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        raise AssertionError(f"bronze_orders never reached {ids}")

    try:
        wait_for(["1"])
        landing_file(landing, "b.json", [{"id": 2}], 1_700_000_100)
        wait_for(["1", "2"])
        landing_file(landing, "sub/c.json", [{"id": 3}], 1_700_000_200)
        wait_for(["1", "2", "3"])
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert sorted(r["id"] for r in project.rows("bronze_orders")) == ["1", "2", "3"]
    files = next((project.root / "storage" / "checkpoints").glob("*/bronze_orders/sources/*/files"))
    assert sorted(p.name for p in files.iterdir()) == ["0", "1", "2"]  # one entry per listing


def test_a_bronze_batch_is_one_engine_request(project, tmp_path: Path, monkeypatch) -> None:
    """The medallion's bronze flow (`*`, `_metadata.file_path`, `current_timestamp()`): its
    batch's columns are known from the read (no schema asked), its slice is inline (no view):
    the batch is its write alone; every column lands nullable, as Spark's pipelines write it."""
    import threading

    from deltalake import DeltaTable
    from pyspark.sql.connect.client.core import SparkConnectClient

    landing = tmp_path / "landing"
    first = landing_file(landing, "0.json", [{"id": 0, "item": "pen"}], 1_700_000_000)
    project.write_spec()
    project.write("transformations/bronze.py", f'''
import dlt
from pyspark.sql.functions import col, current_timestamp

@dlt.table
def bronze():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            .load("{landing}")
            .select("*", col("_metadata.file_path").alias("_source_file"),
                    current_timestamp().alias("_ingested_at")))
''')
    completed(project.run())
    second = landing_file(landing, "1.json", [{"id": 1, "item": "ink"}, {"id": 2}],
                          1_700_000_001)
    requests: list[str] = []
    analyze = SparkConnectClient._analyze
    execute = SparkConnectClient._execute_and_fetch_as_iterator

    def analyzed(self: Any, method: str, **kwargs: Any) -> Any:
        requests.append(f"analyze {threading.current_thread().name}")
        return analyze(self, method, **kwargs)

    def executed(self: Any, *args: Any, **kwargs: Any) -> Any:
        requests.append(f"execute {threading.current_thread().name}")
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(SparkConnectClient, "_analyze", analyzed)
    monkeypatch.setattr(SparkConnectClient, "_execute_and_fetch_as_iterator", executed)
    completed(project.run())
    assert [r for r in requests if r.split()[1].startswith("flow")] == ["execute flow_0"]
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["item"], r["_rescued_data"], r["_source_file"]) for r in rows] == [
        ("0", "pen", None, f"file:{first}"), ("1", "ink", None, f"file:{second}"),
        ("2", None, None, f"file:{second}")]
    assert len({r["_ingested_at"] for r in rows}) == 2
    schema = DeltaTable(str(project.table_path("bronze"))).schema()
    assert [(f.name, f.nullable) for f in schema.fields] == [
        ("id", True), ("item", True), ("_rescued_data", True), ("_source_file", True),
        ("_ingested_at", True)]


def test_a_slice_read_by_a_stateful_operator_or_sql_text_is_a_view(project, tmp_path: Path,
                                                                    monkeypatch) -> None:
    """A stateful operator runs queries over the batch's slice while the flow's plan is
    rewritten, and SQL text names it: for them the slice is a temporary view, created for each
    batch (replacing the flow's previous one) and never dropped by a batch; rows as Spark's."""
    from pyspark.sql.connect.dataframe import DataFrame

    landing = tmp_path / "landing"
    for n, (i, item) in enumerate(((1, "pen"), (1, "pen"), (2, "ink"))):
        landing_file(landing, f"{n}.json", [{"id": i, "item": item}], 1_700_000_000 + n)
    project.write_spec()
    project.write("transformations/bronze.py", f'''
import dlt

@dlt.table
def unique_items():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            .option("cloudFiles.maxFilesPerTrigger", "1").load("{landing}")
            .dropDuplicates(["id"]))
''')
    project.write("transformations/bronze.sql", f"""
CREATE OR REFRESH STREAMING TABLE sql_items
AS SELECT id, item, _metadata.file_name AS file
FROM STREAM read_files('{landing}', format => 'json', maxFilesPerTrigger => 1);
""")
    created: list[str] = []
    create = DataFrame.createOrReplaceTempView

    def record_create(self: DataFrame, name: str) -> None:
        created.append(name)
        create(self, name)

    monkeypatch.setattr(DataFrame, "createOrReplaceTempView", record_create)
    completed(project.run())
    slices = [name for name in created if "_slice_" in name]
    assert len(slices) == 6 and len(set(slices)) == 2  # one name per flow, three batches each
    assert [(r["id"], r["item"]) for r in project.rows("unique_items", order_by="id")] == [
        ("1", "pen"), ("2", "ink")]
    assert [(r["id"], r["item"], r["file"]) for r in project.rows("sql_items", order_by="file")
            ] == [("1", "pen", "0.json"), ("1", "pen", "1.json"), ("2", "ink", "2.json")]


def test_a_batchs_slice_is_read_inline_without_a_view(project, tmp_path: Path,
                                                      monkeypatch) -> None:
    """A bronze batch's files are read through a temporary view's name while Spark's semantics
    rewrite the flow's plan; with nothing run against the view before the plan is final (no
    stateful operator, no SQL text), the view is never created: the slice takes its place in
    the batch's plan, one round trip less per batch, and none to drop it."""
    from pyspark.sql.connect.catalog import Catalog
    from pyspark.sql.connect.dataframe import DataFrame

    landing = tmp_path / "landing"
    files = [landing_file(landing, f"{n}.json", [{"id": n, "item": item}], 1_700_000_000 + n)
             for n, item in ((1, "pen"), (2, "ink"), (3, "cap"))]
    project.write_spec()
    project.write("transformations/bronze.py", f'''
import dlt

def landing():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            .option("cloudFiles.maxFilesPerTrigger", "1").load("{landing}")
            .selectExpr("*", "_metadata.file_path AS _source_file"))

@dlt.table
def bronze_a():
    return landing()

@dlt.table
def bronze_b():
    return landing()
''')
    created: list[str] = []
    dropped: list[str] = []
    create = DataFrame.createOrReplaceTempView
    drop = Catalog.dropTempView

    def record_create(self: DataFrame, name: str) -> None:
        created.append(name)
        create(self, name)

    def record_drop(self: Catalog, name: str) -> bool:
        dropped.append(name)
        return drop(self, name)

    monkeypatch.setattr(DataFrame, "createOrReplaceTempView", record_create)
    monkeypatch.setattr(Catalog, "dropTempView", record_drop)
    result = project.run()
    completed(result)
    assert sorted(f.metrics.batches for f in result.flows) == [3, 3]
    assert not [name for name in created + dropped if "_slice_" in name]
    for table in ("bronze_a", "bronze_b"):
        assert project.rows(table, order_by="id") == [
            {"id": str(n), "item": item, "_rescued_data": None, "_source_file": f"file:{f}"}
            for (n, item), f in zip(((1, "pen"), (2, "ink"), (3, "cap")), files, strict=True)]
