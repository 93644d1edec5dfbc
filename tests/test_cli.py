"""The command line, run as a user would: a fresh process per command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import read_rows


def lakesmith(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lakesmith", *args], cwd=cwd, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=120)


def test_init_run_tables_sql_and_dry_run(tmp_path: Path) -> None:
    created = lakesmith("init", "shop", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "python generate.py --next" in created.stdout
    project = tmp_path / "shop"
    assert (project / "spark-pipeline.yml").is_file()

    dry = lakesmith("dry-run", cwd=project)
    assert dry.returncode == 0, dry.stderr
    assert "The pipeline graph is valid." in dry.stdout
    assert "gold_daily_revenue" in dry.stdout and "silver_customers" in dry.stdout
    assert not (project / "warehouse").exists()  # a dry run writes nothing

    run = lakesmith("run", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Flow 'silver_orders' is COMPLETED." in run.stdout
    warehouse = project / "warehouse" / "spark_catalog" / "default"
    gold = read_rows(warehouse / "gold_daily_revenue", order_by="order_date")
    assert len(gold) == 90  # the generator spreads orders over 90 days
    silver_orders = sum(row["orders"] for row in gold)  # (exact rows: test_medallion_example.py)

    tables = lakesmith("tables", cwd=project)
    assert tables.returncode == 0, tables.stderr
    line = next(line for line in tables.stdout.splitlines() if line.startswith("silver_orders"))
    assert "streaming table" in line and line.split()[-1].replace(",", "") == str(silver_orders)

    sql = lakesmith("sql", "SELECT count(*) AS n FROM gold_current_customers",
                    cwd=project / "transformations")  # the spec is found in a parent directory
    assert sql.returncode == 0, sql.stderr
    assert "1 row(s)" in sql.stdout

    sql_variant = lakesmith("run", cwd=project / "sql")  # the same pipeline in SQL
    assert sql_variant.returncode == 0, sql_variant.stdout + sql_variant.stderr
    sql_gold = read_rows(project / "sql" / "warehouse" / "spark_catalog" / "default" /
                         "gold_daily_revenue", order_by="order_date")
    assert sql_gold == gold


def write_project(root: Path, source: str) -> None:
    (root / "transformations").mkdir()
    (root / "spark-pipeline.yml").write_text(
        "name: p\nstorage: st\nlibraries:\n  - glob:\n      include: transformations/**\n")
    (root / "transformations" / "t.py").write_text(source)


def test_failed_update_exits_non_zero_and_names_the_flow(tmp_path: Path) -> None:
    write_project(tmp_path,
        "from pyspark import pipelines as dp\n\n"
        "@dp.materialized_view\n"
        "def bad():\n"
        "    return spark.range(3).selectExpr(\"CAST(assert_true(id < 0) AS STRING) AS x\")\n")
    result = lakesmith("run", cwd=tmp_path)
    assert result.returncode == 1
    assert "Flow 'bad' is FAILED." in result.stdout
    assert "transformations/t.py:3" in result.stdout


def test_invalid_graph_exits_non_zero_with_the_problem(tmp_path: Path) -> None:
    write_project(tmp_path,
        "from pyspark import pipelines as dp\n\n"
        "@dp.materialized_view\n"
        "def a():\n"
        "    return spark.read.table('missing_table')\n")
    result = lakesmith("dry-run", cwd=tmp_path)
    assert result.returncode == 2  # a validation error
    assert "transformations/t.py:3: [TABLE_OR_VIEW_NOT_FOUND] flow 'a' reads 'missing_table'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_spec_is_a_clear_error(tmp_path: Path) -> None:
    result = lakesmith("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "No spark-pipeline.yml found" in result.stderr
    assert "lakesmith init" in result.stderr


def test_dry_run_of_auto_cdc_into_a_materialized_view_names_the_flow(tmp_path: Path) -> None:
    write_project(tmp_path,
        "from pyspark import pipelines as dp\n\n"
        "@dp.materialized_view\n"
        "def mv():\n"
        "    return spark.range(3)\n\n"
        "@dp.temporary_view\n"
        "def changes():\n"
        "    return spark.readStream.format('delta').load('/tmp/changes')\n\n"
        "dp.create_auto_cdc_flow(target='mv', source='changes', keys=['id'], sequence_by='id',\n"
        "                        name='cdc')\n")
    result = lakesmith("dry-run", cwd=tmp_path)
    assert result.returncode == 2
    assert ("transformations/t.py:11: [INVALID_FLOW_QUERY_TYPE.STREAMING_RELATION_FOR_MATERIALIZED"
            "_VIEW] AUTO CDC flow 'cdc' writes to materialized view 'mv'") in result.stderr
    assert "Traceback" not in result.stderr and "AttributeError" not in result.stderr
