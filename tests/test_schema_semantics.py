"""Written schemas as Spark's pipelines write them: nullable unless declared NOT NULL, declared
column comments kept, and a declaration the query does not fit refused as Spark refuses it
(USER_SPECIFIED_AND_INFERRED_SCHEMA_NOT_COMPATIBLE), before anything is written."""

from __future__ import annotations

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from lakesmith.errors import GraphValidationError
from lakesmith.runtime.events import UpdateState


def _fields(project, table: str) -> dict[str, tuple[str, bool, str | None]]:
    schema = DeltaTable(str(project.table_path(table))).schema()
    return {f.name: (str(f.type), f.nullable, f.metadata.get("comment")) for f in schema.fields}


def test_aggregates_and_literals_are_written_nullable(project) -> None:
    project.write_spec()
    project.write("transformations/a.sql", """
        CREATE MATERIALIZED VIEW src AS SELECT * FROM VALUES (1, 'a'), (2, 'b') AS t(id, name);
        CREATE MATERIALIZED VIEW counts AS SELECT count(*) AS n, 'x' AS label, max(id) AS top
        FROM src;
    """)
    write_deltalake(str(project.root / "landing" / "src"), pa.table({"id": pa.array([1, 2], pa.int32())}))
    project.write("transformations/b.py", """
        from pyspark import pipelines as dp

        @dp.table
        def events():
            return spark.readStream.format("delta").load("landing/src").selectExpr(
                "id", "'seen' AS state")
    """)
    assert project.run().state == UpdateState.COMPLETED
    assert _fields(project, "counts") == {
        "n": ('PrimitiveType("long")', True, None),
        "label": ('PrimitiveType("string")', True, None),
        "top": ('PrimitiveType("integer")', True, None)}
    assert _fields(project, "events") == {
        "id": ('PrimitiveType("integer")', True, None),
        "state": ('PrimitiveType("string")', True, None)}
    assert project.rows("counts") == [{"n": 2, "label": "x", "top": 2}]
    assert project.rows("events", order_by="id") == [{"id": 1, "state": "seen"},
                                                     {"id": 2, "state": "seen"}]


def test_declared_not_null_and_comments_are_kept(project) -> None:
    project.write_spec()
    project.write("transformations/t.py", """
        from pyspark import pipelines as dp

        @dp.materialized_view(schema="id BIGINT COMMENT 'the order id', label STRING NOT NULL")
        def orders():
            return spark.range(3).selectExpr("id", "'x' AS label")
    """)
    assert project.run().state == UpdateState.COMPLETED
    assert _fields(project, "orders") == {
        "id": ('PrimitiveType("long")', True, "the order id"),
        "label": ('PrimitiveType("string")', False, None)}
    assert project.rows("orders", order_by="id") == [
        {"id": i, "label": "x"} for i in range(3)]


@pytest.mark.parametrize("schema, query, problem", [
    ("id BIGINT, label STRING NOT NULL", "SELECT id, CAST(NULL AS STRING) AS label FROM range(2)",
     "column label is declared NOT NULL, the query can produce NULLs"),
    ("id INT, label STRING", "SELECT id, 'x' AS label FROM range(2)",
     "column id is declared int, the query produces bigint"),
])
def test_a_declaration_the_query_does_not_fit_is_refused_like_spark(project, schema, query,
                                                                   problem) -> None:
    project.write_spec()
    project.write("transformations/t.py", f"""
        from pyspark import pipelines as dp

        @dp.materialized_view(schema="{schema}")
        def typed():
            return spark.sql("{query}")
    """)
    with pytest.raises(GraphValidationError) as info:
        with project.open() as pipeline:
            pipeline.analyze()
    message = str(info.value)
    assert "USER_SPECIFIED_AND_INFERRED_SCHEMA_NOT_COMPATIBLE" in message
    assert "table 'typed'" in message and problem in message and "t.py:" in message
    assert not project.table_path("typed").exists()
