"""AUTO CDC into SCD type 2 tables: Databricks' documented example in the three API styles, track
history, late events and late deletes across runs, ignore_null_updates, struct sequence values,
bad input and metrics."""

from __future__ import annotations

from typing import Any

import pytest

from test_auto_cdc import DOC_EVENTS, append, run_ok, setup

# Databricks' SCD type 2 example (AUTO CDC docs, "Example: SCD type 1 and SCD type 2 processing"):
# the same input events as the SCD type 1 example, and the target after them.
DOC_RESULT = [
    (123, "Isabel", "Monterrey", 1, 5),
    (123, "Isabel", "Chihuahua", 5, 6),
    (124, "Raul", "Oaxaca", 1, None),
    (125, "Mercedes", "Tijuana", 2, 5),
    (125, "Mercedes", "Mexicali", 5, 6),
    (125, "Mercedes", "Guadalajara", 6, None),
    (126, "Lily", "Cancun", 2, None),
]
# The same events with history tracked on every column but city
# (track_history_except_column_list=["city"]; SQL TRACK HISTORY ON * EXCEPT (city)).
DOC_TRACK_RESULT = [
    (123, "Isabel", "Chihuahua", 1, 6),
    (124, "Raul", "Oaxaca", 1, None),
    (125, "Mercedes", "Guadalajara", 2, None),
    (126, "Lily", "Cancun", 2, None),
]

STYLES = {
    "pyspark.pipelines": ("cdc.py", """
from pyspark import pipelines as dp
from pyspark.sql.functions import col, expr

dp.create_streaming_table("target")
dp.create_auto_cdc_flow(
    target="target", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
    apply_as_deletes=expr("operation = 'DELETE'"),
    except_column_list=["operation", "sequenceNum"], stored_as_scd_type=2{track_py})
"""),
    "dlt": ("cdc.py", """
import dlt
from pyspark.sql.functions import col, expr

dlt.create_streaming_table("target")
dlt.apply_changes(
    target="target", source="users", keys=["userId"], sequence_by=col("sequenceNum"),
    apply_as_deletes=expr("operation = 'DELETE'"),
    except_column_list=["operation", "sequenceNum"], stored_as_scd_type="2"{track_py})
"""),
    "sql": ("cdc.sql", """
CREATE OR REFRESH STREAMING TABLE target;

CREATE FLOW target_flow AS AUTO CDC INTO target
FROM STREAM(users)
KEYS (userId)
APPLY AS DELETE WHEN operation = "DELETE"
SEQUENCE BY sequenceNum
COLUMNS * EXCEPT (operation, sequenceNum)
STORED AS SCD TYPE 2{track_sql};
"""),
}


def style(name: str, track: bool = False) -> tuple[str, str]:
    file, text = STYLES[name]
    return file, text.format(
        track_py=', track_history_except_column_list=["city"]' if track else "",
        track_sql="\nTRACK HISTORY ON * EXCEPT (city)" if track else "")


def history(project: Any, columns: tuple[str, ...] = ("userId", "name", "city")) -> list[tuple]:
    rows = project.rows("target")
    return sorted((tuple(r[c] for c in (*columns, "__START_AT", "__END_AT")) for r in rows),
                  key=lambda r: (r[0], r[-2]))


@pytest.mark.parametrize("name", list(STYLES))
def test_databricks_scd2_example(project, tmp_path, name) -> None:
    changes = setup(project, tmp_path, style(name))
    append(changes, DOC_EVENTS)
    run_ok(project)
    assert history(project) == DOC_RESULT
    assert list(project.rows("target")[0]) == ["userId", "name", "city", "__START_AT",
                                               "__END_AT"]
    run_ok(project)  # nothing new: unchanged
    assert history(project) == DOC_RESULT


@pytest.mark.parametrize("name", list(STYLES))
def test_databricks_scd2_track_history_example(project, tmp_path, name) -> None:
    changes = setup(project, tmp_path, style(name, track=True))
    append(changes, DOC_EVENTS)
    run_ok(project)
    assert history(project) == DOC_TRACK_RESULT
