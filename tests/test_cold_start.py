"""The import budget of a cold command (docs/benchmarks.md, "a run with nothing new"): what
`import lakesmith.cli`, `lakesmith --help` / `--version` and an update of a Python pipeline must
not load. Checked with the list of modules `python -X importtime` prints for a fresh process,
never with a time, so the test means the same on a loaded machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import read_rows

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
