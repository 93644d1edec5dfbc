"""`lakesmith sql` with Delta statements, `lakesmith shell`, `lakesmith maintain` and `lakesmith
tables`' files, size and clustering columns, as a user runs them (fresh processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable


def lakesmith(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lakesmith", *args], cwd=cwd, text=True,
                          input=stdin, capture_output=True, env=dict(os.environ), timeout=180)


@pytest.mark.slow  # nine fresh processes, each starting an engine
def test_sql_shell_maintain_and_tables(tmp_path: Path) -> None:
    (tmp_path / "transformations").mkdir()
    (tmp_path / "spark-pipeline.yml").write_text(
        "name: p\nstorage: st\nconfiguration:\n"
        "  spark.databricks.delta.autoCompact.minNumFiles: '1'\n"
        "  pipelines.autoOptimize.managed: 'false'\n"
        "libraries:\n  - glob:\n      include: transformations/**\n")
    (tmp_path / "transformations" / "t.py").write_text(
        "from pyspark import pipelines as dp\n\n"
        "@dp.materialized_view(cluster_by=['id'])\n"
        "def numbers():\n    return spark.range(10)\n")
    assert lakesmith("run", cwd=tmp_path).returncode == 0
    table = tmp_path / "warehouse" / "spark_catalog" / "default" / "numbers"

    history = lakesmith("sql", "DESCRIBE HISTORY numbers", "--format", "json", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    rows = json.loads(history.stdout)
    assert [r["version"] for r in rows] == [2, 1, 0]  # newest first, as Databricks shows it
    assert {"timestamp", "operation", "operationParameters"} <= set(rows[0])

    shell = lakesmith("shell", cwd=tmp_path, stdin=(
        "t = DeltaTable.forName(spark, 'numbers')\n"
        "t.update('id < 5', {'id': 'id + 100'})\n"
        "print('rows', spark.sql('SELECT count(*) FROM numbers WHERE id >= 100').first()[0])\n"))
    assert shell.returncode == 0, shell.stderr
    assert "rows 5" in shell.stdout

    # Managed maintenance is off in the configuration: nothing runs after updates...
    tables = lakesmith("tables", cwd=tmp_path)
    line = next(ln for ln in tables.stdout.splitlines() if ln.startswith("numbers"))
    assert "id: 1 file(s) not clustered" in line, tables.stdout
    assert line.split()[5] == "1"  # files
    assert lakesmith("maintain", cwd=tmp_path).stdout.strip() == "No maintenance is due."
    # ...nor on demand, until the table turns it back on.
    on = lakesmith("sql", "ALTER TABLE numbers SET TBLPROPERTIES "
                   "('pipelines.autoOptimize.managed' = 'true')", cwd=tmp_path)
    assert on.returncode == 0, on.stderr
    maintain = lakesmith("maintain", cwd=tmp_path)
    assert maintain.returncode == 0, maintain.stderr
    assert "numbers: CLUSTER because 1 of 1 files are not clustered by id (threshold 1)" in \
        maintain.stdout
    assert len(DeltaTable(str(table)).file_uris()) == 1
    line = next(ln for ln in lakesmith("tables", cwd=tmp_path).stdout.splitlines()
                if ln.startswith("numbers"))
    assert "id: clustered" in line

    refused = lakesmith("sql", "VACUUM numbers RETAIN 1 HOURS", cwd=tmp_path)
    assert refused.returncode == 1
    assert "DELTA_VACUUM_RETENTION_PERIOD_TOO_SHORT" in refused.stderr
