"""AUTO CDC into SCD type 1 tables: Databricks' documented example in the three API styles, the
options, out-of-order changes across batches and runs, tombstones, truncates, bad input, metrics,
and reading the target downstream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from lakesmith.runtime.events import UpdateState

USERS = pa.schema([("userId", pa.int64()), ("name", pa.string()), ("city", pa.string()),
                   ("operation", pa.string()), ("sequenceNum", pa.int64())])

# Databricks' SCD type 1 example (AUTO CDC docs, "Example: SCD type 1 and SCD type 2 processing"):
# the input events, and the target after them. (Spark's `pyspark.pipelines` has no
# apply_as_truncates: that style omits it, the others declare it.)
DOC_EVENTS = [
    (124, "Raul", "Oaxaca", "INSERT", 1),
    (123, "Isabel", "Monterrey", "INSERT", 1),
    (125, "Mercedes", "Tijuana", "INSERT", 2),
    (126, "Lily", "Cancun", "INSERT", 2),
    (123, None, None, "DELETE", 6),
    (125, "Mercedes", "Guadalajara", "UPDATE", 6),
    (125, "Mercedes", "Mexicali", "UPDATE", 5),
    (123, "Isabel", "Chihuahua", "UPDATE", 5),
]
DOC_RESULT = [
    {"userId": 124, "name": "Raul", "city": "Oaxaca"},
    {"userId": 125, "name": "Mercedes", "city": "Guadalajara"},
    {"userId": 126, "name": "Lily", "city": "Cancun"},
]
# With the TRUNCATE record the docs' notebook has commented out: keys 124 and 126 (newest event
# before the truncate) go.
DOC_TRUNCATE = (None, None, None, "TRUNCATE", 3)
DOC_TRUNCATE_RESULT = [{"userId": 125, "name": "Mercedes", "city": "Guadalajara"}]

SOURCE_PY = """
from pyspark import pipelines as dp

@dp.table
def users():
    return (spark.readStream.format("delta").option("maxFilesPerTrigger", "1")
            .load(spark.conf.get("changes.path")))
"""

STYLES = {
    "pyspark.pipelines": ("cdc.py", """
        from pyspark import pipelines as dp
        from pyspark.sql.functions import col, expr

        dp.create_streaming_table("target")
        dp.create_auto_cdc_flow(
            target="target", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
            apply_as_deletes=expr("operation = 'DELETE'"),
            except_column_list=["operation", "sequenceNum"], stored_as_scd_type=1)
    """),
    "dlt": ("cdc.py", """
        import dlt
        from pyspark.sql.functions import col, expr

        dlt.create_streaming_table("target")
        dlt.apply_changes(
            target="target", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
            apply_as_deletes=expr("operation = 'DELETE'"),
            apply_as_truncates=expr("operation = 'TRUNCATE'"),
            except_column_list=["operation", "sequenceNum"], stored_as_scd_type=1)
    """),
    "sql": ("cdc.sql", """
        CREATE OR REFRESH STREAMING TABLE target;

        CREATE FLOW target_flow AS AUTO CDC INTO target
        FROM STREAM(users)
        KEYS (userId)
        APPLY AS DELETE WHEN operation = "DELETE"
        APPLY AS TRUNCATE WHEN operation = "TRUNCATE"
        SEQUENCE BY sequenceNum
        COLUMNS * EXCEPT (operation, sequenceNum)
        STORED AS SCD TYPE 1;
    """),
}


def append(path: Path, rows: list[tuple], schema: pa.Schema = USERS) -> None:
    """One source commit (one file: one micro-batch with maxFilesPerTrigger=1)."""
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema.names]
    write_deltalake(str(path), pa.table([pa.array(list(c), f.type)
                                         for c, f in zip(columns, schema, strict=True)],
                                        schema=schema), mode="append")


def setup(project: Any, tmp_path: Path, cdc: tuple[str, str] | str, *,
          source: str = SOURCE_PY, configuration: dict[str, str] | None = None) -> Path:
    changes = tmp_path / "changes"
    project.write_spec(configuration={"changes.path": str(changes), **(configuration or {})})
    project.write("transformations/source.py", source)
    name, text = cdc if isinstance(cdc, tuple) else ("cdc.py", cdc)
    project.write(f"transformations/{name}", text)
    return changes


def run_ok(project: Any) -> Any:
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(f.error) for f in result.failed_flows]
    return result


def target(project: Any, table: str = "target") -> list[dict]:
    return project.rows(table, order_by="userId")


@pytest.mark.parametrize("style", list(STYLES))
def test_databricks_scd1_example(project, tmp_path, style) -> None:
    changes = setup(project, tmp_path, STYLES[style])
    append(changes, DOC_EVENTS)
    run_ok(project)
    assert target(project) == DOC_RESULT
    run_ok(project)  # nothing new: unchanged
    assert target(project) == DOC_RESULT
