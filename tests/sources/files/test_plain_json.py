"""A streaming batch of JSON lines whose schema is all STRING columns is read plainly
(`formats/plain_json.py`): each field's text, one test per record. A plain read either gives the
full read's rows (Spark's, `json_format.py`) or fails with its source's tag; then nothing of the
batch was committed, and the batch is read again the full way and lands once, with its counts."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from pyspark.sql.types import StringType, StructField, StructType

from lakesmith.locations import Location
from lakesmith.runtime.checkpoint import crash
from lakesmith.runtime.events import UpdateState
from lakesmith.sources.files.formats import ReadSpec, read_files
from lakesmith.sources.files.formats.plain_json import reads_plainly
from lakesmith.sources.files.formats.spec import NewFieldGuard, PlainRecords
from lakesmith.sources.files.inputs import InputFile
from lakesmith.sources.files.source import FileStreamSource

FIELDS = ("id", "name", "amount", "nested")
SCHEMA = StructType([StructField(n, StringType()) for n in FIELDS])
PLAIN = PlainRecords.for_source("test")
GUARD = NewFieldGuard.for_source("test")

# Values as written in a landing file: texts with escapes, numbers kept as written, nulls,
# objects and arrays (a STRING column holds their text).
VALUES = ['"a"', '"caf\\u00e9 \\"q\\""', '127.50', '1e3', '-0.0', 'null', 'true',
          '{"k": [1, 2]}', '[1, {"x": null}]', '""', '"{not json}"']
# Records a plain read must refuse (each one line), or may read when the full read agrees.
ODD = ['{"id": "1", "id": "2", "name": "r"}', '{"id": "3", "extra": "x"}',
       '{"ID": "4", "name": "c"}', '[{"id": "5"}, {"id": "6"}]', '{"id": "7", "name": ',
       '"just a string"', '  {"id": "8"}', "{'id': '9'}", '{"id": "10"} {"id": "11"}',
       '{"id": "12", "extra": null}', '[]', '{"name": "n", "nested": {"a": 1}, "nested": 2}']


def plain_line(rng: random.Random) -> str:
    """A plain record: an object of some of the schema's fields, each once, any order."""
    fields = rng.sample(FIELDS, rng.randint(1, len(FIELDS)))
    sep = rng.choice([", ", ",", " ,  "])
    return "{" + sep.join(f'"{f}"{rng.choice([": ", ":"])}{rng.choice(VALUES)}'
                          for f in fields) + rng.choice(["}", " }"])


def land(path: Path, lines: list[str]) -> InputFile:
    path.write_text("".join(line + "\n" for line in lines))
    stat = path.stat()
    return InputFile(Location.local(path), stat.st_size, stat.st_mtime_ns // 10**6)


def collected(spark: Any, files: list[InputFile], spec: ReadSpec) -> list[tuple[Any, ...]] | str:
    """The read's rows, sorted; or the error's first line when the read failed."""
    try:
        rows = read_files(spark, files, spec).collect()
    except Exception as e:  # the engine's error, compared below by its tag
        return str(e).splitlines()[0]
    return sorted((tuple(r) for r in rows), key=repr)


SPECS = {
    "rescued and guard": ReadSpec("json", {}, SCHEMA, rescued_data_column="_rescued_data",
                                  with_metadata=True, new_field_guard=GUARD),
    "rescued": ReadSpec("json", {}, SCHEMA, rescued_data_column="_rescued_data"),
    "guard": ReadSpec("json", {}, SCHEMA, new_field_guard=GUARD),
    "nested guard and rescued": ReadSpec("json", {}, SCHEMA, rescued_data_column="_rescued_data",
                                         new_field_guard=replace(GUARD, nested_only=True)),
    "neither": ReadSpec("json", {}, SCHEMA),
}


@pytest.mark.parametrize("variant", sorted(SPECS))
def test_a_plain_read_gives_the_full_reads_rows_or_stops(spark, tmp_path: Path,
                                                         variant: str) -> None:
    spec = SPECS[variant]
    rng = random.Random(variant)
    clean = [plain_line(rng) for _ in range(60)]
    clean[10:10] = ["", "   "]  # blank lines are no records, in either read
    files = [land(tmp_path / "plain.json", clean)]
    full = collected(spark, files, spec)
    assert isinstance(full, list) and len(full) == 60
    # Plain records only: never stopped (a JSON null or a missing field included).
    assert collected(spark, files, replace(spec, plain_records=PLAIN)) == full
    stopped = 0
    for index, odd in enumerate(ODD):
        lines = [plain_line(rng) for _ in range(20)]
        lines.insert(rng.randint(0, 20), odd)
        files = [land(tmp_path / f"odd{index}.json", lines)]
        full = collected(spark, files, spec)
        plain = collected(spark, files, replace(spec, plain_records=PLAIN))
        if isinstance(plain, str):
            assert PLAIN.error_prefix in plain, (odd, plain)
            stopped += 1
        else:
            assert plain == full, odd
    # Arrays, malformed lines, scalars, leading blanks and single quotes are never plain.
    assert stopped >= 7


def test_a_plain_read_of_several_files_keeps_partitions_and_metadata(spark,
                                                                     tmp_path: Path) -> None:
    """Partition values and `_metadata` come after the data columns as in the full read, over
    the line reader (a streaming batch of a few files) and over the small files' route."""
    from pyspark.sql.types import IntegerType

    rng = random.Random(3)
    files = []
    for n in range(6):
        folder = tmp_path / f"k={n % 2}"
        folder.mkdir(exist_ok=True)
        plain = land(folder / f"f{n}.json", [plain_line(rng) for _ in range(5)])
        files.append(replace(plain, partition_values=(("k", str(n % 2)),)))
    spec = replace(SPECS["rescued and guard"],
                   partition_schema=StructType([StructField("k", IntegerType())]))
    for batch, unchecked in ((files[:3], True), (files, False)):
        read = replace(spec, unchecked_utf8=unchecked)
        full = collected(spark, batch, read)
        assert isinstance(full, list) and len(full) == 5 * len(batch)
        assert collected(spark, batch, replace(read, plain_records=PLAIN)) == full


def test_only_all_string_json_lines_are_read_plainly() -> None:
    spec = replace(SPECS["rescued and guard"], plain_records=PLAIN)
    assert reads_plainly(spec)
    assert not reads_plainly(replace(spec, plain_records=None))
    assert not reads_plainly(replace(spec, options={"multiline": "true"}))
    assert not reads_plainly(replace(spec, schema=StructType(
        [*SCHEMA.fields, StructField("_corrupt_record", StringType())])))
    assert not reads_plainly(replace(spec, schema=StructType.fromJson(
        {"type": "struct", "fields": [{"name": "n", "type": "long", "nullable": True,
                                       "metadata": {}}]})))
    assert not reads_plainly(replace(spec, format="csv"))


# -- pipelines ------------------------------------------------------------------------------

BRONZE = """
import dlt
from pyspark.sql.functions import col, current_timestamp

@dlt.table
{expectation}
def bronze():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json")
            {options}.load("{landing}")
            .select("*", col("_metadata.file_name").alias("file"),
                    current_timestamp().alias("_ingested_at")))
"""


@pytest.fixture
def stops(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each time a failed batch was looked at by a file source: whether its plain read had
    stopped it (the batch is then read again the full way)."""
    calls: list[bool] = []
    original = FileStreamSource.read_again_after

    def looked_at(self: FileStreamSource, spark: Any, data: Any, error: BaseException) -> bool:
        calls.append(self._plain_records().fired_in(error))
        result: bool = original(self, spark, data, error)
        return result

    monkeypatch.setattr(FileStreamSource, "read_again_after", looked_at)
    return calls


def write_pipeline(project: Any, landing: Path, *, expectation: str = "",
                   options: str = "") -> None:
    project.write_spec()
    project.write("transformations/bronze.py", BRONZE.format(
        landing=landing, expectation=expectation, options=options))


def land_lines(landing: Path, name: str, lines: list[str]) -> str:
    landing.mkdir(exist_ok=True)
    path = landing / name
    path.write_text("".join(line + "\n" for line in lines))
    return f"file:{path}"


def table_rows(project: Any) -> list[tuple[Any, ...]]:
    return sorted(((r["id"], r["name"], r["amount"], r["_rescued_data"], r["file"])
                   for r in project.rows("bronze")), key=repr)


def batch_commits(project: Any) -> list[int]:
    history = DeltaTable(str(project.table_path("bronze"))).history()
    markers = [json.loads(c["userMetadata"]).get("lakesmith", {})
               for c in reversed(history) if "userMetadata" in c]
    return [m["batch"] for m in markers if "batch" in m]


def checkpoint_logs(project: Any) -> tuple[list[str], list[str]]:
    (flow,) = (project.root / "storage" / "checkpoints").glob("*/*")
    return (sorted(p.name for p in (flow / "offsets").glob("*")),
            sorted(p.name for p in (flow / "commits").glob("*")))


FIRST = ['{"id": "0", "name": "a", "amount": "1"}']


def test_a_plain_batch_lands_without_a_second_read(project, tmp_path: Path,
                                                   stops: list[bool]) -> None:
    landing = tmp_path / "landing"
    land_lines(landing, "a.json", FIRST)
    write_pipeline(project, landing)
    assert project.run().state == UpdateState.COMPLETED
    land_lines(landing, "b.json", ['{"id": "1", "name": "b", "amount": 127.50}',
                                   '{"id": "2", "name": null, "amount": 1e3}', '',
                                   '{"amount": "3", "id": 3}'])
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert stops == []
    assert table_rows(project) == [
        ("0", "a", "1", None, "a.json"), ("1", "b", "127.50", None, "b.json"),
        ("2", None, "1e3", None, "b.json"), ("3", None, "3", None, "b.json")]
    (flow,) = result.flows
    assert flow.metrics.num_output_rows == 3
    assert batch_commits(project) == [0, 1]


def test_a_batch_with_a_record_that_is_not_plain_is_read_again_and_lands_once(
        project, tmp_path: Path, stops: list[bool]) -> None:
    """A repeated key (Spark keeps the last value), a case variant (rescued) and a top-level
    array (one row per object): the plain read stops, the full read lands the batch once, with
    its counts, and the update's next batch is read the full way at once."""
    landing = tmp_path / "landing"
    land_lines(landing, "a.json", FIRST)
    write_pipeline(project, landing, expectation='@dlt.expect_or_drop("named", "name IS NOT NULL")',
                   options='.option("cloudFiles.maxFilesPerTrigger", 1)')
    assert project.run().state == UpdateState.COMPLETED
    path = land_lines(landing, "b.json", [
        '{"id": "1", "name": "x", "name": "b"}', '{"id": "2", "name": "c", "NAME": "z"}',
        '[{"id": "3", "name": "d"}, {"id": "4", "name": "e"}]', '{"id": "6"}'])
    land_lines(landing, "c.json", ['{"id": "5", "name": "f"}'])
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert stops == [True]  # one plain read stopped; c.json was read the full way
    rescued = json.dumps({"NAME": "z", "_file_path": path}, separators=(",", ":"))
    assert table_rows(project) == [
        ("0", "a", "1", None, "a.json"), ("1", "b", None, None, "b.json"),
        ("2", "c", None, rescued, "b.json"), ("3", "d", None, None, "b.json"),
        ("4", "e", None, None, "b.json"), ("5", "f", None, None, "c.json")]
    (flow,) = result.flows
    assert flow.metrics.num_output_rows == 5
    assert flow.metrics.details["data_quality"].passed == {("bronze", "named"): 5}
    assert flow.metrics.details["data_quality"].failed == {("bronze", "named"): 1}
    assert batch_commits(project) == [0, 1, 2]
    assert checkpoint_logs(project) == (["0", "1", "2"], ["0", "1", "2"])
    assert project.run().state == UpdateState.COMPLETED  # nothing new: nothing twice
    assert batch_commits(project) == [0, 1, 2]


def test_a_new_field_still_stops_the_stream_after_the_plain_read(
        project, tmp_path: Path, stops: list[bool]) -> None:
    """The plain read stops at the unknown field; the full read's guard then stops the stream
    as addNewColumns does, and the next run lands the batch with the new column."""
    landing = tmp_path / "landing"
    land_lines(landing, "a.json", FIRST)
    write_pipeline(project, landing)
    assert project.run().state == UpdateState.COMPLETED
    land_lines(landing, "b.json", ['{"id": "1", "name": "b"}', '{"id": "2", "extra": "e"}'])
    stopped = project.run()
    assert stopped.state == UpdateState.FAILED
    assert "NEW_FIELDS_IN_RECORD_WITH_FILE_PATH" in str(stopped.failed_flows[0].error)
    assert stops == [True, False]
    assert batch_commits(project) == [0]
    assert project.run().state == UpdateState.COMPLETED
    rows = project.rows("bronze", order_by="id")
    assert [(r["id"], r["name"], r["extra"]) for r in rows] == [
        ("0", "a", None), ("1", "b", None), ("2", None, "e")]
    assert batch_commits(project) == [0, 1]


def test_a_crash_after_the_second_read_landed_reruns_nothing_twice(
        project, tmp_path: Path, stops: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch stopped in its plain read, was read again and written, and the process died
    before its commit record: the next run finds the output landed and writes nothing twice."""
    landing = tmp_path / "landing"
    land_lines(landing, "a.json", FIRST)
    write_pipeline(project, landing)
    assert project.run().state == UpdateState.COMPLETED
    land_lines(landing, "b.json", ['{"id": "1", "name": "b", "name": "c"}'])

    def stop_after_output(point: str, flow: str = "", batch: int | None = None) -> None:
        if point == crash.AFTER_OUTPUT:
            raise RuntimeError("stopped after the output landed")

    with monkeypatch.context() as patch:
        patch.setattr(crash, "crash_point", stop_after_output)
        assert project.run().state == UpdateState.FAILED
    assert stops == [True, False]
    assert checkpoint_logs(project) == (["0", "1"], ["0"])
    assert project.run().state == UpdateState.COMPLETED
    assert table_rows(project) == [("0", "a", "1", None, "a.json"),
                                   ("1", "c", None, None, "b.json")]
    assert batch_commits(project) == [0, 1]
    assert checkpoint_logs(project) == (["0", "1"], ["0", "1"])


def test_a_file_that_is_not_utf8_is_read_whole_and_then_plainly(
        project, tmp_path: Path, stops: list[bool]) -> None:
    """The line reader fails on bytes that are not UTF-8 (not the plain read's stop): the file
    is read whole, its bad bytes U+FFFD as Spark shows them, and that read is plain."""
    landing = tmp_path / "landing"
    land_lines(landing, "a.json", FIRST)
    write_pipeline(project, landing)
    assert project.run().state == UpdateState.COMPLETED
    (landing / "b.json").write_bytes(b'{"id": "1", "name": "caf\xe9"}\n{"id": "2", "name": "b"}\n')
    result = project.run()
    assert result.state == UpdateState.COMPLETED
    assert stops == [False]
    assert table_rows(project) == [("0", "a", "1", None, "a.json"),
                                   ("1", "caf\ufffd", None, None, "b.json"),
                                   ("2", "b", None, None, "b.json")]
    assert batch_commits(project) == [0, 1]
