"""Projects in folders with spaces, accents, CJK, `%` and `#`: every table and checkpoint lands
where it should (the engine would otherwise write to percent-encoded folders next to it), and
names cannot make lakesmith write outside the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Project, read_rows
from lakesmith.errors import LakesmithError
from lakesmith.runtime.events import UpdateState

PIPELINE = """
from pyspark import pipelines as dp

@dp.table(partition_cols=["kind"])
def bronze():
    return spark.readStream.format("delta").load(spark.conf.get("source"))

@dp.table
def silver():
    return spark.readStream.table("bronze").dropDuplicates(["id"])

@dp.materialized_view
def gold():
    return spark.read.table("silver").groupBy("kind").count()
"""


@pytest.mark.parametrize("folder", ["with space", "café", "数据", "50% off", "a#b", "o'k"])
def test_a_project_in_an_unusual_folder_runs_where_it_is(tmp_path: Path, sail_url: str, spark,
                                                         folder: str) -> None:
    parent = tmp_path / folder
    root = parent / "project"
    root.mkdir(parents=True)
    source = str(parent / "source data")
    spark.createDataFrame([(1, "a b"), (2, "c"), (1, "a b")], "id BIGINT, kind STRING") \
        .write.format("delta").save(str(tmp_path / "staging"))
    # The source itself is written by lakesmith's engine path rules through a pipeline-free
    # copy: plain Spark would put it in a percent-encoded folder.
    import shutil

    shutil.copytree(tmp_path / "staging", source)
    project = Project(root, sail_url)
    project.write_spec(configuration={"source": source})
    project.write("transformations/p.py", PIPELINE)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]
    assert sorted(r["id"] for r in project.rows("bronze")) == [1, 1, 2]
    assert sorted(r["id"] for r in project.rows("silver")) == [1, 2]
    assert sorted((r["kind"], r["count"]) for r in project.rows("gold")) == [("a b", 1), ("c", 1)]
    # Everything is inside the project folder, nothing beside it.
    assert sorted(p.name for p in parent.iterdir()) == ["project", "source data"]
    assert (root / "warehouse/spark_catalog/default/bronze/kind=a%20b").is_dir()
    assert sorted(p.name for p in root.iterdir()) == [
        "spark-pipeline.yml", "storage", "transformations", "warehouse"]
    second = project.run()
    assert second.state == UpdateState.COMPLETED
    assert read_rows(root / "warehouse/spark_catalog/default/gold", order_by="kind")[0]["count"] == 1


@pytest.mark.parametrize("folder, character", [("a%20b", "%20"), ("back\\slash", "\\"),
                                               ("pipe|d", "|")])
def test_folders_delta_cannot_open_are_refused_by_name(tmp_path: Path, sail_url: str,
                                                       folder: str, character: str) -> None:
    root = tmp_path / folder / "project"
    root.mkdir(parents=True)
    project = Project(root, sail_url)
    project.write_spec()
    project.write("transformations/p.py", "from pyspark import pipelines as dp\n\n"
                  "@dp.materialized_view\ndef t():\n    return spark.range(1)\n")
    with pytest.raises(LakesmithError) as info:
        project.run()
    assert repr(character)[1:-1] in str(info.value) and "rename the folder" in str(info.value)


def test_dataset_names_never_leave_the_warehouse(project, tmp_path: Path, spark) -> None:
    """Backquoted names may hold anything Spark allows; each maps to one safe folder name."""
    source = tmp_path / "source"
    spark.range(3).write.format("delta").save(str(source))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", '''
        from pyspark import pipelines as dp

        @dp.table(name="données_été")
        def a():
            return spark.readStream.format("delta").load(spark.conf.get("source"))

        @dp.table(name="`we'ird\\";drop`")
        def b():
            return spark.readStream.table("DONNÉES_ÉTÉ")

        @dp.table(name="`/abs/path/x`")
        def c():
            return spark.readStream.table("`we'ird\\";drop`")

        @dp.materialized_view(name="`../../../../x`")
        def d():
            return spark.read.table("`/abs/path/x`")
    ''')
    for _ in range(2):
        result = project.run()
        assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]
    warehouse = project.root / "warehouse/spark_catalog/default"
    folders = sorted(p.name for p in warehouse.iterdir())
    assert len(folders) == 4 and all(f.replace("-", "_").isidentifier() for f in folders)
    for folder in folders:
        assert sorted(r["id"] for r in read_rows(warehouse / folder)) == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project", "source"]
    assert not Path("/abs").exists()
    checkpoints = project.root / "storage/checkpoints"
    assert all(p.parent == checkpoints for p in checkpoints.iterdir())


def test_nested_column_names_with_spaces_and_colons_stream(project, tmp_path: Path,
                                                           spark) -> None:
    source = tmp_path / "source"
    spark.sql("SELECT 1 AS id, named_struct('first name', 'Ada', 'a:b', 7) AS `the person`, "
              "array(named_struct('x y', 1)) AS `list of`") \
        .write.format("delta").save(str(source))
    project.write_spec(configuration={"source": str(source)})
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.table
        def people():
            return spark.readStream.format("delta").load(spark.conf.get("source"))
    """)
    result = project.run()
    assert result.state == UpdateState.COMPLETED, [str(r.error) for r in result.failed_flows]
    assert project.rows("people") == [{"id": 1, "the person": {"first name": "Ada", "a:b": 7},
                                       "list of": [{"x y": 1}]}]
