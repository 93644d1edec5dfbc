"""Plan inspection and rewriting on real Spark Connect plans: the reads a DataFrame makes (tables,
streams, data sources, SQL text), each bound to what a run must read instead, and the rewritten
plan executed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql.connect import proto

from lakesmith.engine.plans import (
    PathsBinding,
    PlanRead,
    PlanRewriter,
    RelationBinding,
    TableBinding,
    all_relations,
    dataframe_of,
    find_reads,
    relation_of,
)


def reads_of(relation: proto.Relation) -> list[proto.Read]:
    return [r.read for r in all_relations(relation) if r.WhichOneof("rel_type") == "read"]


def rows(df) -> list[tuple]:
    return sorted(tuple(r) for r in df.collect())


@pytest.fixture
def events(spark):
    spark.createDataFrame([(1, "a"), (2, "b"), (3, "a")], "id BIGINT, kind STRING") \
        .createOrReplaceTempView("events_slice")
    yield "events_slice"
    spark.catalog.dropTempView("events_slice")


def test_reads_of_named_tables_and_streams(spark) -> None:
    df = spark.readStream.table("bronze").join(spark.read.table("live.dim"), "id") \
        .union(spark.read.option("versionAsOf", "3").table("`odd name`"))
    assert find_reads(relation_of(df)) == [
        PlanRead("bronze", streaming=True),
        PlanRead("live.dim", streaming=False),
        PlanRead("`odd name`", streaming=False, options={"versionAsOf": "3"}),
    ]
    assert find_reads(relation_of(df))[0].is_table
    assert find_reads(relation_of(df))[0].describe() == "streaming read of table 'bronze'"


def test_reads_of_data_sources(spark) -> None:
    df = spark.readStream.format("delta").option("maxFilesPerTrigger", "2").load("/lake/raw")
    [read] = find_reads(relation_of(df))
    assert read == PlanRead(None, streaming=True, format="delta", paths=("/lake/raw",),
                            options={"maxFilesPerTrigger": "2"})
    assert not read.is_table
    assert read.describe() == "streaming read of delta source /lake/raw"
    files = spark.read.format("json").schema("id INT").load(["a.json", "b.json"])
    assert find_reads(relation_of(files)) == [
        PlanRead(None, streaming=False, format="json", paths=("a.json", "b.json"),
                 schema="id INT")]


def test_reads_inside_sql_text(spark) -> None:
    df = spark.sql("SELECT s.id FROM STREAM(bronze) s JOIN dim USING (id) "
                   "JOIN delta.`/lake/t` USING (id)")
    assert find_reads(relation_of(df)) == [
        PlanRead("bronze", streaming=True, in_sql=True),
        PlanRead("dim", streaming=False, in_sql=True),
        PlanRead(None, streaming=False, format="delta", paths=("/lake/t",), in_sql=True),
    ]
    nested = spark.sql("SELECT * FROM STREAM bronze").where("id > 0")
    assert find_reads(relation_of(nested)) == [PlanRead("bronze", streaming=True, in_sql=True)]


def test_table_binding_reads_a_temp_view_as_a_batch(spark, events) -> None:
    df = spark.readStream.table("bronze").where("kind = 'a'").select("id")
    original = relation_of(df)
    seen: list[PlanRead] = []

    def binder(read: PlanRead):
        seen.append(read)
        return TableBinding(events)

    rewritten = PlanRewriter(spark, binder).rewrite(original)
    assert seen == [PlanRead("bronze", streaming=True)]
    [read] = reads_of(rewritten)
    expected = proto.Read()
    expected.named_table.unparsed_identifier = events
    assert read == expected  # is_streaming cleared with everything else
    assert reads_of(original)[0].is_streaming  # the original plan is not changed
    assert rows(dataframe_of(spark, rewritten)) == [(1,), (3,)]


def test_relation_binding_replaces_the_read_and_keeps_its_plan_id(spark) -> None:
    stream = spark.readStream.table("bronze")
    df = stream.select(stream["id"], (stream["id"] * 10).alias("x")).where("id > 1")
    original = relation_of(df)
    read_plan_id = next(r for r in all_relations(original)
                        if r.WhichOneof("rel_type") == "read").common.plan_id
    batch = relation_of(spark.createDataFrame([(1, "a"), (2, "b"), (5, "c")],
                                              "id BIGINT, kind STRING"))
    rewriter = PlanRewriter(spark, lambda read: RelationBinding(batch))
    rewritten = rewriter.rewrite(original)
    assert reads_of(rewritten) == []
    [local] = [r for r in all_relations(rewritten) if r.WhichOneof("rel_type") == "local_relation"]
    assert local.local_relation == batch.local_relation
    assert local.common.plan_id == read_plan_id  # stream["id"] still resolves
    assert rows(rewriter.dataframe(original)) == [(2, 20), (5, 50)]


def test_paths_binding_replaces_only_the_paths(spark, tmp_path: Path, monkeypatch) -> None:
    spark.createDataFrame([(1,), (2,)], "id BIGINT").write.parquet(str(tmp_path / "data"))
    df = spark.read.format("parquet").option("mergeSchema", "false").load("data")
    rewritten = PlanRewriter(
        spark, lambda read: PathsBinding((str(tmp_path / "data"),))).rewrite(relation_of(df))
    [read] = reads_of(rewritten)
    assert list(read.data_source.paths) == [str(tmp_path / "data")]
    assert read.data_source.format == "parquet"
    assert dict(read.data_source.options) == {"mergeSchema": "false"}
    assert rows(dataframe_of(spark, rewritten)) == [(1,), (2,)]


def test_reads_a_binder_leaves_alone_are_kept(spark) -> None:
    df = spark.readStream.table("a").union(spark.read.table("b"))
    rewritten = PlanRewriter(spark, lambda read: TableBinding("x") if read.name == "b"
                             else None).rewrite(relation_of(df))
    assert [(r.named_table.unparsed_identifier, r.is_streaming) for r in reads_of(rewritten)] == \
        [("a", True), ("x", False)]


def test_sql_reads_are_rewritten_by_name(spark, events) -> None:
    spark.createDataFrame([(1, "one"), (3, "three")], "id BIGINT, label STRING") \
        .createOrReplaceTempView("dim_v")
    text = "SELECT id, label FROM STREAM(bronze) JOIN dim USING (id)"
    names = {"bronze": events, "dim": "dim_v"}
    rewriter = PlanRewriter(spark, lambda read: TableBinding(names[read.name]))
    rewritten = rewriter.rewrite(relation_of(spark.sql(text)))
    assert rewritten.sql.query == "SELECT id, label FROM        events_slice  JOIN dim_v USING (id)"
    assert rows(dataframe_of(spark, rewritten)) == [(1, "one"), (3, "three")]
    assert rewriter.temp_views == []
    spark.catalog.dropTempView("dim_v")


def test_a_relation_in_sql_text_becomes_a_temp_view(spark) -> None:
    batch = relation_of(spark.createDataFrame([(7,), (8,)], "id BIGINT"))
    rewriter = PlanRewriter(spark, lambda read: RelationBinding(batch), view_prefix="__t")
    rewritten = rewriter.rewrite(relation_of(spark.sql("SELECT id FROM STREAM bronze")))
    [view] = rewriter.temp_views
    assert view.startswith("__t_")
    # Named after the table it stands for, so that `bronze.id` still means its column.
    assert rewritten.sql.query == f"SELECT id FROM        `{view}` AS `bronze`"
    assert rows(dataframe_of(spark, rewritten)) == [(7,), (8,)]
    qualified = rewriter.rewrite(relation_of(spark.sql("SELECT bronze.id FROM bronze b2, bronze")))
    assert rows(dataframe_of(spark, qualified)) == [(7,), (7,), (8,), (8,)]
    rewriter.drop_temp_views()
    assert rewriter.temp_views == []
    assert view not in [t.name for t in spark.catalog.listTables()]


def test_sql_without_bindings_is_left_as_written(spark) -> None:
    text = "SELECT 1 AS one FROM dim"
    rewritten = PlanRewriter(spark, lambda read: None).rewrite(relation_of(spark.sql(text)))
    assert rewritten.sql.query == text
    stream = "SELECT * FROM STREAM(x)"
    unbound = PlanRewriter(spark, lambda read: None).rewrite(relation_of(spark.sql(stream)))
    assert unbound.sql.query == "SELECT * FROM        x "  # the engine does not know STREAM


def test_a_path_binding_in_sql_text_is_refused(spark) -> None:
    rewriter = PlanRewriter(spark, lambda read: PathsBinding(("/x",)))
    with pytest.raises(TypeError, match="a path read in SQL text is rewritten by name"):
        rewriter.rewrite(relation_of(spark.sql("SELECT * FROM delta.`/lake/t`")))


def test_dataframe_of_gives_a_relation_without_a_plan_id_one(spark) -> None:
    relation = relation_of(spark.range(3))
    relation.ClearField("common")
    df = dataframe_of(spark, relation)
    assert df._plan.plan(spark.client).common.plan_id == df._plan._plan_id
    assert not relation.HasField("common")  # the caller's relation is not changed
    assert rows(df.select(df["id"])) == [(0,), (1,), (2,)]


def test_relation_of_refuses_other_objects() -> None:
    with pytest.raises(TypeError, match="expected a Spark Connect DataFrame, got list"):
        relation_of([])
