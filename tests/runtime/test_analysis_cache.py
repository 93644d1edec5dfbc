"""An update reuses the last successful analysis of the graph while nothing it depends on changed
(`runtime/analysis_cache.py`): the flows' definitions and plans, the datasets, the configuration,
and what the flows read from outside the pipeline. Anything else analyses again, and a change
that breaks a flow is reported as before."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from deltalake import write_deltalake

import lakesmith.pipeline as pipeline_module
from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState

MVS = """
import dlt
from pyspark.sql import functions as F

@dlt.table
def numbers():
    return spark.range(4).withColumn("twice", F.col("id") * 2){extra}

@dlt.table
@dlt.expect_or_drop("even", "twice % 4 = 0")
def evens():
    return spark.read.table("numbers")
"""


@pytest.fixture
def analyses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per analysis of a graph by the engine."""
    calls: list[int] = []
    original = pipeline_module.analyze_graph

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "analyze_graph", counting)
    return calls


def test_an_unchanged_graph_is_not_analysed_again(project, analyses) -> None:
    project.write_spec()
    project.write("transformations/t.py", MVS.format(extra=""))
    assert project.run().state == UpdateState.COMPLETED
    assert len(analyses) == 1
    assert project.run().state == UpdateState.COMPLETED
    assert len(analyses) == 1  # the recorded schemas were used
    assert project.rows("evens", order_by="id") == [{"id": 0, "twice": 0}, {"id": 2, "twice": 4}]

    # A changed query is analysed again, and its new column is written.
    project.write("transformations/t.py", MVS.format(extra='.withColumn("label", F.lit("n"))'))
    assert project.run().state == UpdateState.COMPLETED
    assert len(analyses) == 2
    assert project.rows("evens", order_by="id") == [
        {"id": 0, "twice": 0, "label": "n"}, {"id": 2, "twice": 4, "label": "n"}]

    # So is a changed expectation, and a changed configuration.
    project.write("transformations/t.py", MVS.format(extra='.withColumn("label", F.lit("n"))')
                  .replace("twice % 4 = 0", "twice % 4 = 2"))
    assert project.run().state == UpdateState.COMPLETED
    assert len(analyses) == 3
    assert project.rows("evens", order_by="id") == [
        {"id": 1, "twice": 2, "label": "n"}, {"id": 3, "twice": 6, "label": "n"}]
    project.write_spec(configuration={"some.key": "1"})
    assert project.run().state == UpdateState.COMPLETED
    assert len(analyses) == 4


def test_a_broken_change_is_reported_after_a_reused_analysis(project, analyses) -> None:
    project.write_spec()
    project.write("transformations/t.py", MVS.format(extra=""))
    project.run()
    project.run()
    assert len(analyses) == 1
    project.write("transformations/t.py", MVS.format(extra='.select("id", "thrice")'))
    with pytest.raises(GraphValidationError) as raised:
        project.run()
    assert "thrice" in str(raised.value) and "numbers" in str(raised.value)
    assert len(analyses) == 2
    # Nothing was written: the tables hold the last good update's rows.
    assert project.rows("numbers", order_by="id") == [{"id": i, "twice": 2 * i} for i in range(4)]


def test_a_table_outside_the_pipeline_read_by_name_is_analysed_every_time(
        project, analyses) -> None:
    project.write_spec()
    outside = project.table_path("outside")
    write_deltalake(str(outside), pa.table({"id": pa.array([1, 2], pa.int64())}))
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view
        def copy():
            return spark.read.table("outside")
    """)
    project.run()
    project.run()
    assert len(analyses) == 2  # its columns can change without the pipeline knowing
    write_deltalake(str(outside), pa.table({"id": pa.array([3], pa.int64()), "name": ["c"]}),
                    mode="overwrite", schema_mode="overwrite")
    assert project.run().state == UpdateState.COMPLETED
    assert project.rows("copy") == [{"id": 3, "name": "c"}]


def test_files_read_by_path_are_part_of_the_key(project, analyses, tmp_path) -> None:
    landing = tmp_path / "in.json"
    landing.write_text('{"id": 1}\n')
    project.write_spec()
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp

        @dp.materialized_view
        def people():
            return spark.read.json("{landing}")
    """)
    project.run()
    project.run()
    assert len(analyses) == 1
    landing.write_text('{"id": 2, "name": "b"}\n')  # new contents, a new column
    assert project.run().state == UpdateState.COMPLETED
    assert len(analyses) == 2
    assert project.rows("people") == [{"id": 2, "name": "b"}]
