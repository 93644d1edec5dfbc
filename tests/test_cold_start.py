"""The import budget of a cold command (docs/benchmarks.md, "a run with nothing new"): what
`import lakesmith.cli`, `lakesmith --help` / `--version` and an update of a Python pipeline must
not load. Checked with the list of modules `python -X importtime` prints for a fresh process,
never with a time, so the test means the same on a loaded machine."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import read_rows
from lakesmith.startup_gc import pause_collection, resume_collection

# What the command line must start without: the Spark Connect client (and pandas, numpy and
# pyarrow, which it imports), delta-rs, the SQL parser, and pydantic (typer 0.29 converts option
# values with it: only values given, `cli_help._ConvertedWhenGiven`).
HEAVY = {"pyspark", "pandas", "numpy", "pyarrow", "deltalake", "sqlglot", "pydantic"}


def imported(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run `python -X importtime ARGS` in a fresh process; its result and the top-level names of
    every module it imported."""
    result = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=cwd, text=True,
                            capture_output=True, timeout=180,
                            env={**os.environ, "RUST_LOG": "error"})
    names = {line.rsplit("|", 1)[1].strip().split(".")[0]
             for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "lakesmith" in names, result.stderr[-2000:]  # the list was read
    return result, names


def test_importing_the_command_line_loads_nothing_heavy(tmp_path: Path) -> None:
    result, names = imported(["-c", "import lakesmith.cli"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert not names & HEAVY


def test_version_is_answered_before_the_command_line_loads(tmp_path: Path) -> None:
    for args in (["--version"], ["version"]):
        result, names = imported(["-m", "lakesmith", *args], tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.startswith("lakesmith ")
        assert not names & (HEAVY | {"typer", "rich", "yaml"}), args


def test_help_and_version_load_nothing_heavy(tmp_path: Path) -> None:
    for args in (["--help"], ["--version"], ["run", "--help"]):
        result, names = imported(["-m", "lakesmith", *args], tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip(), args
        assert not names & HEAVY, args


def _python_project(root: Path) -> None:
    (root / "transformations").mkdir(parents=True)
    (root / "spark-pipeline.yml").write_text(
        "name: cold\nstorage: storage\nlibraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "numbers.py").write_text(
        "from pyspark import pipelines as dp\n"
        "from pyspark.sql import functions as F\n\n\n"
        "@dp.materialized_view\n"
        "def numbers():\n"
        "    return spark.range(5).withColumn('twice', F.col('id') * 2)\n\n\n"
        "@dp.materialized_view\n"
        "def evens():\n"
        "    return spark.read.table('numbers').where('twice % 4 = 0').select('id')\n")


def test_an_update_of_a_python_pipeline_does_not_load_the_sql_parser(tmp_path: Path) -> None:
    root = tmp_path / "python"
    _python_project(root)
    for _ in range(2):  # the first update, then one with nothing new
        result, names = imported(["-m", "lakesmith", "run"], root)
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        assert not names & {"sqlglot", "pydantic"}
    warehouse = root / "warehouse" / "spark_catalog" / "default"
    assert read_rows(warehouse / "numbers", order_by="id") == [
        {"id": i, "twice": 2 * i} for i in range(5)]
    assert read_rows(warehouse / "evens", order_by="id") == [{"id": 0}, {"id": 2}, {"id": 4}]


def test_an_update_of_a_sql_pipeline_loads_it(tmp_path: Path) -> None:
    """The same check on a pipeline that needs the parser: the list above is not empty by
    accident."""
    root = tmp_path / "sql"
    (root / "transformations").mkdir(parents=True)
    (root / "spark-pipeline.yml").write_text(
        "name: cold\nstorage: storage\nlibraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "numbers.sql").write_text(
        "CREATE MATERIALIZED VIEW numbers AS SELECT id, id * 2 AS twice FROM range(3);\n")
    result, names = imported(["-m", "lakesmith", "run"], root)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "sqlglot" in names
    assert read_rows(root / "warehouse" / "spark_catalog" / "default" / "numbers",
                     order_by="id") == [{"id": i, "twice": 2 * i} for i in range(3)]


def test_a_streaming_update_that_joins_nothing_does_not_load_the_sql_parser(
        tmp_path: Path) -> None:
    """Stateful operators are imported by the plan nodes a batch has: the join operator (which
    parses join conditions with sqlglot) stays out of an Auto Loader batch and a deduplication."""
    root = tmp_path / "stream"
    (root / "transformations").mkdir(parents=True)
    (root / "landing").mkdir()
    (root / "landing" / "a.json").write_text('{"id": 1}\n{"id": 1}\n{"id": 2}\n')
    (root / "spark-pipeline.yml").write_text(
        "name: cold\nstorage: storage\nlibraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "bronze.py").write_text(
        "from pyspark import pipelines as dp\n\n\n"
        "@dp.table\n"
        "def bronze():\n"
        "    return spark.readStream.format('cloudFiles').option('cloudFiles.format', 'json')"
        f".load('{root / 'landing'}')\n\n\n"
        "@dp.table\n"
        "def unique():\n"
        "    return spark.readStream.table('bronze').dropDuplicates(['id'])\n")
    result, names = imported(["-m", "lakesmith", "run"], root)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "sqlglot" not in names
    assert read_rows(root / "warehouse" / "spark_catalog" / "default" / "unique",
                     order_by="id") == [{"id": "1", "_rescued_data": None},
                                        {"id": "2", "_rescued_data": None}]


# Runs the command line in a fresh process and, as it exits, reports what its start-up left: the
# collector's state (`startup_gc.py`) and whether modules an update with nothing new must not
# need were loaded.
_REPORT_AT_EXIT = '''
import gc, json, os, sys, threading
import deltalake
_exit = os._exit
_init = deltalake.DeltaTable.__init__
LOADS = []  # (thread, table folder) of each Delta log load
def counted(self, uri, *args, **kwargs):
    LOADS.append((threading.current_thread().name, str(uri).rstrip("/").rsplit("/", 1)[-1]))
    _init(self, uri, *args, **kwargs)
deltalake.DeltaTable.__init__ = counted
def report(code):
    print("STARTUP " + json.dumps({
        "enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
        "collections": [g["collections"] for g in gc.get_stats()],
        "modules": sorted(m for m in sys.modules if m in WATCHED), "loads": LOADS}),
        file=sys.stderr)
    _exit(code)
os._exit = report
WATCHED = set(sys.argv[1].split(","))
sys.argv = ["lakesmith", *sys.argv[2:]]
from lakesmith.entry import main
main()
'''

# Loaded only when an update has something to do: the engine itself, Spark's answers (the
# plan rewrite rules, some forty modules).
NOT_FOR_NOTHING_NEW = ("pysail.spark", "lakesmith.engine.semantics.plan_rewrite",
                       "rich.live")  # (the live table: a terminal's only)


def _startup(root: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    # A script file, not `-c`: pyspark's Connect client takes a `__main__` without a file for
    # its doctests and exits.
    script = root.parent / "report_at_exit.py"
    script.write_text(_REPORT_AT_EXIT)
    result = subprocess.run(
        [sys.executable, str(script), ",".join(NOT_FOR_NOTHING_NEW), *args],
        cwd=root, text=True, capture_output=True, timeout=180,
        env={**os.environ, "RUST_LOG": "error"})
    lines = [line for line in result.stderr.splitlines() if line.startswith("STARTUP ")]
    assert lines, result.stdout + result.stderr[-3000:]
    return result, json.loads(lines[-1].removeprefix("STARTUP "))


def test_an_update_with_nothing_new_needs_no_full_garbage_collection(tmp_path: Path) -> None:
    """The command's imports (some 200,000 objects) are made with the collector paused, then
    frozen: an update with nothing new makes no full collection (two before, each walking them), and
    the collector runs again for the update and whatever follows."""
    root = tmp_path / "python"
    _python_project(root)
    first, started = _startup(root, "run")
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    assert "pysail.spark" in started["modules"]  # (the list is not empty by accident)
    result, report = _startup(root, "run")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "is COMPLETED" in result.stdout
    assert report["enabled"] is True
    assert report["frozen"] > 50_000
    assert report["collections"][2] == 0, report
    assert report["modules"] == [], report  # nothing new: no engine, no plan rewritten
    warehouse = root / "warehouse" / "spark_catalog" / "default"
    assert read_rows(warehouse / "evens", order_by="id") == [{"id": 0}, {"id": 2}, {"id": 4}]


def test_an_update_with_nothing_new_finds_its_logs_loaded_and_commits_the_log_once(
        tmp_path: Path) -> None:
    """The logs the last update read are loaded on threads while the command starts
    (`tables/logs_ahead.py`): the update with nothing new loads none on its own path; its
    events are one commit of the event log (`runtime/eventlog.py`)."""
    root = tmp_path / "python"
    _python_project(root)
    first, _ = _startup(root, "run")
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    recorded = json.loads((root / "storage" / "delta_logs.json").read_text())
    assert sorted(uri.rsplit("/", 1)[-1] for uri in recorded) == ["evens", "events", "numbers"]
    commits = root / "storage" / "system" / "events" / "_delta_log"
    before = len(list(commits.glob("*.json")))

    result, report = _startup(root, "run")

    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "is COMPLETED" in result.stdout
    assert sorted(folder for _, folder in report["loads"]) == ["evens", "events", "numbers"]
    assert {thread.rsplit("_", 1)[0] for thread, _ in report["loads"]} == {"delta-log-ahead"}
    assert len(list(commits.glob("*.json"))) == before + 1
    assert report["modules"] == [], report


def test_a_command_that_fails_before_the_engine_collects_again_too(tmp_path: Path) -> None:
    """No spec: the command stops before any engine, with its error, and the collector was
    resumed as the command began (after its imports), as for one that succeeds."""
    result, report = _startup(tmp_path, "run")
    assert result.returncode != 0
    assert "spark-pipeline.yml" in result.stdout + result.stderr
    assert report["enabled"] is True and report["frozen"] > 50_000
    assert report["modules"] == []


def test_the_collector_is_paused_only_by_the_command_line() -> None:
    """As a library (a test, `lakesmith.session()`) lakesmith leaves the collector as it is:
    resuming what it did not pause freezes nothing."""
    frozen = gc.get_freeze_count()
    resume_collection()
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    pause_collection()
    try:
        assert not gc.isenabled()
    finally:
        resume_collection()
    try:
        assert gc.isenabled() and gc.get_freeze_count() >= frozen
        resume_collection()  # once only
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_command_built_alone_answers_as_with_every_command_built(capsys) -> None:
    """The command line builds only the command it names (`cli_help.LakesmithTyper`): each
    command's help is the same as with every command built, and a misspelled command is still
    answered with every command known."""
    from typer.main import get_command

    from lakesmith import cli

    every = get_command(cli.app)  # what typer runs when it builds every command
    names = sorted(every.commands)  # type: ignore[attr-defined]
    assert {"run", "dry-run", "sql", "tables"} <= set(names)
    for name in names:
        assert every.main([name, "--help"], prog_name="lakesmith", standalone_mode=False) == 0
        expected = capsys.readouterr().out
        assert cli.app(args=[name, "--help"], prog_name="lakesmith", standalone_mode=False) == 0
        assert capsys.readouterr().out == expected, name
        assert f"Usage: lakesmith {name} " in expected
    with pytest.raises(Exception, match="No such command 'rnu'"):
        cli.app(args=["rnu"], prog_name="lakesmith", standalone_mode=False)
    assert len(cli.app.registered_commands) == len(names)  # every command is back
