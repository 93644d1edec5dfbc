"""Query functions may read `df.columns` / `df.schema` while the graph is built, of any source:
another dataset of the pipeline (a table, a view, a streaming table, a declared schema) or an Auto
Loader read (with `_rescued_data`); datasets made in loops and factories each keep their own
source location."""

from __future__ import annotations

from pathlib import Path

import pytest
from compat_helpers import completed, landing_file, load_error

from lakesmith.errors import GraphValidationError, SourceLoadError


def test_columns_of_every_source_kind_at_planning(project, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing_file(landing, "a.json", [{"id": 1, "name": "ann", "op": "upsert", "seq": 1},
                                     {"id": 2, "name": "bob", "op": "upsert", "seq": 1},
                                     {"id": 1, "name": "ann2", "op": "upsert", "seq": 2}],
                 1_700_000_000)
    project.write_spec(configuration={"landing": str(landing)})
    project.write("transformations/p.py", """
        import dlt

        @dlt.table
        def raw_people():
            return (spark.readStream.format("cloudFiles")
                    .option("cloudFiles.format", "json")
                    .option("cloudFiles.inferColumnTypes", "true")
                    .load(spark.conf.get("landing")))

        @dlt.view
        def people_changes():
            df = dlt.read_stream("raw_people")
            # Auto Loader's inferred columns, with the rescued-data column, at planning time.
            assert df.columns == ["id", "name", "op", "seq", "_rescued_data"], df.columns
            return df.drop("_rescued_data")

        dlt.create_streaming_table("people")
        dlt.apply_changes(
            target="people", source="people_changes", keys=["id"], sequence_by="seq",
            except_column_list=[c for c in dlt.read_stream("people_changes").columns
                                if c in ("op", "seq")])

        @dlt.table(schema="label STRING, n BIGINT")
        def declared():
            return spark.range(2).selectExpr("id AS n", "concat('n', id) AS label")

        @dlt.table
        def from_declared():
            df = dlt.read("declared")
            assert df.columns == ["label", "n"], df.columns
            return df.select(*reversed(df.columns))

        @dlt.table
        def wide():
            return spark.range(2).selectExpr("id", "id * 10 AS tens", "'x' AS junk")

        @dlt.table
        def narrow():
            df = spark.read.table("LIVE.wide")
            keep = [f.name for f in df.schema.fields if f.name != "junk"]
            return df.select(keep)
    """)
    completed(project.run())
    assert project.rows("people", order_by="id") == [
        {"id": 1, "name": "ann2"}, {"id": 2, "name": "bob"}]
    assert project.rows("from_declared", order_by="n") == [
        {"n": 0, "label": "n0"}, {"n": 1, "label": "n1"}]
    assert project.rows("narrow", order_by="id") == [
        {"id": 0, "tens": 0}, {"id": 1, "tens": 10}]


FACTORY = """
import dlt

REGIONS = ["north", "south"]

@dlt.table
def all_sales():
    return spark.createDataFrame(
        [(1, "north", 10), (2, "south", 20), (3, "north", 30)], "id INT, region STRING, amount INT")

def regional_table(region, column):
    @dlt.table(name=f"sales_{region}", comment=f"sales of {region}")
    def regional():
        return dlt.read("all_sales").where(f"region = '{region}'").select("id", column)

for region in REGIONS:
    regional_table(region, "amount")

regional_table("west", "no_such_column")

for limit in [15, 25]:
    @dlt.table(name=f"above_{limit}")
    def above(limit=limit):
        return dlt.read("all_sales").where(f"amount > {limit}").select("id")
"""


def test_loops_and_factories_register_each_dataset_with_its_location(project) -> None:
    project.write_spec()
    path = project.write("transformations/factory.py", FACTORY)
    with pytest.raises(GraphValidationError) as error:
        with project.open() as pipeline:
            pipeline.analyze()
    # The failing dataset is named, at the factory's line and the call that made it.
    (problem,) = error.value.problems
    assert str(problem).startswith(
        f"{path}:11 (called from {path}:18): flow 'sales_west' cannot be analysed:"), problem
    assert "no_such_column" in str(problem)

    project.write("transformations/factory.py", FACTORY.replace(
        'regional_table("west", "no_such_column")', ""))
    with project.open() as pipeline:
        locations = {d.name: str(d.location) for d in pipeline.graph.datasets.values()}
        result = pipeline.run(pipeline.plan())
    completed(result)
    assert locations == {
        "all_sales": f"{path}:5",
        "sales_north": f"{path}:11 (called from {path}:16)",
        "sales_south": f"{path}:11 (called from {path}:16)",
        "above_15": f"{path}:21",
        "above_25": f"{path}:21",
    }
    assert project.rows("sales_north", order_by="id") == [
        {"id": 1, "amount": 10}, {"id": 3, "amount": 30}]
    assert project.rows("sales_south") == [{"id": 2, "amount": 20}]
    assert project.rows("above_15", order_by="id") == [{"id": 2}, {"id": 3}]
    assert project.rows("above_25") == [{"id": 3}]


def test_columns_of_sql_defined_datasets_and_reads_in_sql_text(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", """
        CREATE LIVE TABLE base AS SELECT id, id * 2 AS twice, 'x' AS junk FROM range(3);
        CREATE LIVE TABLE derived AS SELECT id, twice FROM LIVE.base WHERE id > 0
    """)
    project.write("transformations/b.py", """
        import dlt

        @dlt.table
        def from_sql_text():
            df = spark.sql("SELECT * FROM LIVE.base")
            return df.select([c for c in df.columns if c != "junk"])

        @dlt.table
        def from_sql_dataset():
            df = dlt.read("derived")
            assert df.columns == ["id", "twice"], df.columns
            return df.selectExpr(*[f"{c} + 1 AS {c}_next" for c in df.columns])
    """)
    with project.open() as pipeline:
        result = pipeline.run(pipeline.plan())
        # The temp views that stood for the datasets while the graph was built are gone.
        views = [t.name for t in pipeline.spark.catalog.listTables() if t.isTemporary]
    completed(result)
    assert not [v for v in views if v.startswith("__lakesmith_planning")]
    assert project.rows("from_sql_text", order_by="id") == [
        {"id": 0, "twice": 0}, {"id": 1, "twice": 2}, {"id": 2, "twice": 4}]
    assert project.rows("from_sql_dataset", order_by="id_next") == [
        {"id_next": 2, "twice_next": 3}, {"id_next": 3, "twice_next": 5}]


def test_columns_of_an_unknown_dataset_name_the_file_and_line(project) -> None:
    project.write_spec()
    path = project.write("transformations/p.py", """
        import dlt

        @dlt.table
        def t():
            return spark.range(1)

        columns = dlt.read("not_defined_here").columns
    """)
    error = load_error(project, SourceLoadError)
    assert error.message.startswith(f"{path}:7: error while loading pipeline source:")
    assert "not_defined_here" in error.message
