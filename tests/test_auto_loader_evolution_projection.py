"""Schema evolution of an Auto Loader stream whose query adds columns after the read (as the
medallion example's bronze does with `_metadata.file_path`): after the `addNewColumns` stop, the
rerun lands the new columns and the malformed line's text, as a read with no projection does.
(The engine's own `mergeSchema` append dropped them: a NOT NULL column in the table.)"""

from __future__ import annotations

from lakesmith.runtime.events import UpdateState

PIPELINE = """
import dlt
from pyspark.sql.functions import col

@dlt.table
def plain():
    return spark.readStream.format("cloudFiles").option("cloudFiles.format", "json").load("landing")

@dlt.table
def with_file():
    return (spark.readStream.format("cloudFiles").option("cloudFiles.format", "json").load("landing")
            .select("*", col("_metadata.file_path").alias("f")))
"""


def test_new_columns_land_after_the_stop_whatever_the_query_adds(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", PIPELINE)
    landing = project.root / "landing"
    landing.mkdir()
    (landing / "a.json").write_text('{"id": 1}\n')
    assert project.run().state == UpdateState.COMPLETED
    (landing / "b.json").write_text('{"id": 2, "extra": "x"}\nnot json\n')
    stopped = project.run()
    assert stopped.state == UpdateState.FAILED  # addNewColumns: the run stops, nothing lands
    assert len(project.rows("with_file")) == 1
    assert project.run().state == UpdateState.COMPLETED
    expected = [{"id": "1", "_rescued_data": None, "_corrupt_record": None, "extra": None},
                {"id": "2", "_rescued_data": None, "_corrupt_record": None, "extra": "x"},
                {"id": None, "_rescued_data": None, "_corrupt_record": "not json", "extra": None}]

    def key(row: dict) -> str:
        return str(row["id"])

    assert sorted(project.rows("plain"), key=key) == expected
    with_file = sorted(project.rows("with_file"), key=key)
    assert [{k: r[k] for k in expected[0]} for r in with_file] == expected
    assert [r["f"].rsplit("/", 1)[-1] for r in with_file] == ["a.json", "b.json", "b.json"]
